#!/usr/bin/env bash
# Installs what MasOrleans needs on a fresh Debian 12 machine (run as root).
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail

need_update=1
apt_update() { if [ "$need_update" = 1 ]; then apt-get update -qq; need_update=0; fi; }

if ! command -v redis-server >/dev/null 2>&1; then
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # Debian's package starts a system Redis on 6379; we manage our own instances.
  (service redis-server stop >/dev/null 2>&1 || true)
fi

# promtool checks the alerting rules; chromium drives the browser tests (Swagger UI, dashboard).
missing=""
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if [ -n "$missing" ]; then
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # Debian starts a Prometheus server on install; tests run their own tools, not the daemon.
  (service prometheus stop >/dev/null 2>&1 || true)
fi

# Debian 13 ("trixie") as an apt source with a low pin: nothing is taken from it unless asked for with -t trixie.
add_trixie_source() {
  if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
    cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_update=1
  fi
  if [ ! -f /etc/apt/preferences.d/trixie-low ]; then
    cat > /etc/apt/preferences.d/trixie-low <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    need_update=1
  fi
}

# TorchSharp 0.107's native library needs GLIBCXX_3.4.32 (GCC 13+); Debian 12 has
# 3.4.30. Debian 13's libstdc++6 provides it (and pulls libc6 2.41 along).
LIBSTDCXX=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if ! grep -qa GLIBCXX_3.4.32 "$LIBSTDCXX"; then
  add_trixie_source
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
fi

# kubectl for the tests of the Kubernetes API surface: Debian 13's kubernetes-client (1.32; Debian 12's is 1.20,
# too old for the discovery and OpenAPI v3 the tests exercise). A kubectl of 1.28 or later already on PATH will do.
kubectl_minor() { kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n1; }
minor="$(command -v kubectl >/dev/null 2>&1 && kubectl_minor || true)"
if [ -z "$minor" ] || [ "$minor" -lt 28 ]; then
  add_trixie_source
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie kubernetes-client >/dev/null
fi
