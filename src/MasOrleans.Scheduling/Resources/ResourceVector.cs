using System.Runtime.CompilerServices;

namespace MasOrleans.Scheduling.Resources;

/// <summary>An amount per dimension in stored units (see <see cref="ResourceNames.IsStoredInMilli"/>).</summary>
[InlineArray(ResourceNames.Count)]
public struct ResourceArray
{
    private long _element0;
}

[System.Text.Json.Serialization.JsonConverter(typeof(ResourceVectorJsonConverter))]
public readonly struct ResourceVector : IEquatable<ResourceVector>
{
    private readonly ResourceArray _values;

    public ResourceVector(ReadOnlySpan<long> values)
    {
        if (values.Length != ResourceNames.Count) throw new ArgumentException($"expected {ResourceNames.Count} values", nameof(values));
        values.CopyTo(_values);
    }

    public static ResourceVector Zero => default;

    public static ResourceVector Of(long cpuMilli = 0, long memoryBytes = 0, long gpuMilli = 0, long diskIoMilli = 0, long networkMilli = 0, long ephemeralBytes = 0) =>
        new([cpuMilli, memoryBytes, gpuMilli, diskIoMilli, networkMilli, ephemeralBytes]);

    public long this[ResourceKind kind] => _values[(int)kind];
    public long this[int index] => _values[index];

    public long CpuMilli => _values[0];
    public long MemoryBytes => _values[1];
    public long GpuMilli => _values[2];

    public ResourceVector With(ResourceKind kind, long value)
    {
        ResourceArray copy = _values;
        copy[(int)kind] = value;
        return new ResourceVector(copy);
    }

    public static ResourceVector operator +(ResourceVector a, ResourceVector b)
    {
        Span<long> r = stackalloc long[ResourceNames.Count];
        for (var i = 0; i < r.Length; i++) r[i] = a._values[i] + b._values[i];
        return new ResourceVector(r);
    }

    public static ResourceVector operator -(ResourceVector a, ResourceVector b)
    {
        Span<long> r = stackalloc long[ResourceNames.Count];
        for (var i = 0; i < r.Length; i++) r[i] = a._values[i] - b._values[i];
        return new ResourceVector(r);
    }

    public long[] ToArray() => ((ReadOnlySpan<long>)_values).ToArray();

    public bool Equals(ResourceVector other) => ((ReadOnlySpan<long>)_values).SequenceEqual(other._values);
    public override bool Equals(object? obj) => obj is ResourceVector v && Equals(v);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in _values) h.Add(v);
        return h.ToHashCode();
    }
    public static bool operator ==(ResourceVector a, ResourceVector b) => a.Equals(b);
    public static bool operator !=(ResourceVector a, ResourceVector b) => !a.Equals(b);

    /// <summary>Kubernetes-style map of the non-zero dimensions, e.g. {"cpu": "500m"}.</summary>
    public Dictionary<string, string> ToQuantities(bool includeZero = false)
    {
        // Filled here rather than from Quantities(): no iterator for each pod a response shows.
        var quantities = new Dictionary<string, string>();
        foreach (var (kind, stored) in Amounts(includeZero)) quantities.Add(ResourceNames.NameOf(kind), Quantity.Format(kind, stored));
        return quantities;
    }

    /// <summary>Resource name → Kubernetes quantity, in <see cref="ResourceNames.All"/> order, zeros left out unless asked for.</summary>
    public IEnumerable<KeyValuePair<string, string>> Quantities(bool includeZero = false)
    {
        foreach (var (kind, stored) in Amounts(includeZero)) yield return new(ResourceNames.NameOf(kind), Quantity.Format(kind, stored));
    }

    /// <summary>The (kind, stored amount) pairs in <see cref="ResourceNames.All"/> order, zeros left out unless asked for.</summary>
    public ResourceAmounts Amounts(bool includeZero = false) => new(this, includeZero);

    /// <summary>Parses a Kubernetes-style map; returns the first problem as an error message.</summary>
    public static bool TryParse(IReadOnlyDictionary<string, string>? quantities, out ResourceVector vector, out string? error)
    {
        vector = default;
        error = null;
        if (quantities is null) return true;
        Span<long> values = stackalloc long[ResourceNames.Count];
        foreach (var (name, text) in quantities)
        {
            if (!ResourceNames.TryParse(name, out var kind))
            {
                error = ResourceNames.Unknown(name);
                return false;
            }
            if (!Quantity.TryParse(kind, text, out var stored))
            {
                error = $"'{text}' is not a valid quantity for resource '{name}'";
                return false;
            }
            values[(int)kind] = stored;
        }
        vector = new ResourceVector(values);
        return true;
    }

    public override string ToString() => string.Join(",", ToQuantities().Select(kv => $"{kv.Key}={kv.Value}"));
}
