#!/usr/bin/env bash
# Starts one MasOrleans silo on http://localhost:8080 (Swagger at /swagger, dashboard at /dashboard).
# Installs what is missing first; with no Redis configured the silo starts and manages a local one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec dotnet run --project src/MasOrleans.Silo -c Release -- --urls "${MAS_URLS:-http://localhost:8080}" "$@"
