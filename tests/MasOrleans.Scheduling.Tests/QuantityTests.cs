using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

public class QuantityTests
{
    [Theory]
    [InlineData(ResourceKind.Cpu, "500m", 500)]
    [InlineData(ResourceKind.Cpu, "2", 2000)]
    [InlineData(ResourceKind.Cpu, "0.25", 250)]
    [InlineData(ResourceKind.Cpu, "1e3", 1_000_000)]
    [InlineData(ResourceKind.Cpu, "1E3", 1_000_000)]
    [InlineData(ResourceKind.Cpu, "1e-3", 1)]
    [InlineData(ResourceKind.Memory, "1E", 1_000_000_000_000_000_000)]
    [InlineData(ResourceKind.Memory, "512Mi", 512L * 1024 * 1024)]
    [InlineData(ResourceKind.Memory, "1Gi", 1024L * 1024 * 1024)]
    [InlineData(ResourceKind.Memory, "1G", 1_000_000_000)]
    [InlineData(ResourceKind.Memory, "128974848", 128974848)]
    [InlineData(ResourceKind.Gpu, "300m", 300)]
    [InlineData(ResourceKind.Gpu, "2", 2000)]
    [InlineData(ResourceKind.DiskIo, "250", 250_000)]
    public void Parses_kubernetes_quantities(ResourceKind kind, string text, long expected)
    {
        Assert.True(Quantity.TryParse(kind, text, out var stored));
        Assert.Equal(expected, stored);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.2.3")]
    [InlineData("5Xi")]
    [InlineData("m")]
    [InlineData("0x10")]
    [InlineData("e5")]
    [InlineData("1e")]
    [InlineData(".")]
    public void Rejects_malformed_quantities(string text) => Assert.Equal(QuantityReading.Malformed, Quantity.Read(ResourceKind.Cpu, text, out _));

    /// <summary>
    /// A quantity's suffix is one SI or binary suffix or one exponent, never both, and it has no spaces: apimachinery
    /// pkg/api/resource/quantity.go parseQuantityString reads "1e3m" as the exponent "e3" followed by "m", which is no
    /// digit (ErrFormatWrong), and stops at a space the same way. They were read as 1 core (the "m" stripped, then "1e3"),
    /// 20Gi and 1 core.
    /// </summary>
    [Theory]
    [InlineData("1e3m")]
    [InlineData("1e28k")]
    [InlineData("2e1Gi")]
    [InlineData("5E-1k")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("500 m")]
    public void Rejects_what_kubernetes_does_not_parse(string text) => Assert.False(Quantity.TryParse(ResourceKind.Cpu, text, out _));

    /// <summary>
    /// Values a decimal holds (up to 7.9e28) but no stored long can: cores are stored in milli, so a cpu of 1e28 overflowed
    /// the decimal while being scaled and threw instead of answering false (a 500 on /k8s and /extender). Beyond a decimal
    /// too ("1e29", 29 digits, 1e100000): well-formed, so too large, not malformed (they read as "not a valid quantity"
    /// while "1e28" was over the maximum).
    /// </summary>
    [Theory]
    [InlineData(ResourceKind.Cpu, "1e28")]
    [InlineData(ResourceKind.Cpu, "8e25")]
    [InlineData(ResourceKind.Cpu, "79228162514264337593543950335")]
    [InlineData(ResourceKind.Gpu, "5e27")]
    [InlineData(ResourceKind.Cpu, "10000000000000000000000000k")]
    [InlineData(ResourceKind.Memory, "1e28")]
    [InlineData(ResourceKind.Memory, "1e300")]
    [InlineData(ResourceKind.Cpu, "1e29")]
    [InlineData(ResourceKind.Memory, "99999999999999999999999999999")]
    [InlineData(ResourceKind.Memory, "1e100000")]
    [InlineData(ResourceKind.Memory, "79228162514264337593543950335Ei")]
    public void Rejects_quantities_too_large_to_store(ResourceKind kind, string text)
    {
        Assert.Equal(QuantityReading.TooLarge, Quantity.Read(kind, text, out _));
        Assert.False(Quantity.TryParse(kind, text, out _));
    }

    [Fact]
    public void The_largest_storable_quantity_still_parses()
    {
        // Stored values stop at long.MaxValue / 4 (headroom for sums); one milli-core below that limit is still a quantity.
        var largest = long.MaxValue / 4;
        Assert.True(Quantity.TryParse(ResourceKind.Cpu, $"{largest}m", out var stored));
        Assert.Equal(largest, stored);
        Assert.False(Quantity.TryParse(ResourceKind.Cpu, $"{largest + 1}m", out _));
    }

    [Theory]
    [InlineData(ResourceKind.Cpu, 500, "500m")]
    [InlineData(ResourceKind.Cpu, 2000, "2")]
    [InlineData(ResourceKind.Memory, 512L * 1024 * 1024, "512Mi")]
    [InlineData(ResourceKind.Memory, 1000, "1000")]
    [InlineData(ResourceKind.Cpu, 0, "0")]
    [InlineData(ResourceKind.Memory, 0, "0")]
    [InlineData(ResourceKind.Memory, 3L * 1024 * 1024 * 1024 * 1024 * 1024, "3Pi")]
    // Pi is the largest suffix: 1024 Pi stays 1024Pi (not 1Ei).
    [InlineData(ResourceKind.Memory, 1024L * 1024 * 1024 * 1024 * 1024 * 1024, "1024Pi")]
    // The longest a storable (positive) value formats to: long.MaxValue / 4 milli-cores, 19 digits and "m".
    [InlineData(ResourceKind.Cpu, long.MaxValue / 4, "2305843009213693951m")]
    public void Formats_round_trip(ResourceKind kind, long stored, string expected)
    {
        Assert.Equal(expected, Quantity.Format(kind, stored));
        Assert.Equal(stored, Quantity.Parse(kind, expected));
    }

    /// <summary>
    /// Negative values (a difference of vectors) format but do not parse back. By hand: -1500 % 1000 is not 0, so milli;
    /// -1024 is -1 * 1024; long.MinValue is -9223372036854775808, not a multiple of 1000 (it ends in 808); and -2^63 is
    /// -8192 * 1024^5, Pi being the largest suffix. long.MinValue's 21 characters are the longest any long formats to.
    /// Guards: the string formatting before Quantity.Format wrote into a span answered these too.
    /// </summary>
    [Theory]
    [InlineData(ResourceKind.Cpu, -1500, "-1500m")]
    [InlineData(ResourceKind.Memory, -1024, "-1Ki")]
    [InlineData(ResourceKind.Cpu, long.MinValue, "-9223372036854775808m")]
    [InlineData(ResourceKind.Memory, long.MinValue, "-8192Pi")]
    public void Formats_negative_values(ResourceKind kind, long stored, string expected)
    {
        Assert.Equal(expected, Quantity.Format(kind, stored));
        Span<char> destination = stackalloc char[Quantity.MaxFormattedLength];
        Assert.Equal(expected, new string(destination[..Quantity.Format(kind, stored, destination)]));
    }

    /// <summary>
    /// A destination shorter than MaxFormattedLength is refused, whatever the value: 1500 milli-cores in 2 characters
    /// wrote only "m" and answered 1, and long.MinValue milli-cores fit in one character short of the maximum.
    /// </summary>
    [Theory]
    [InlineData(ResourceKind.Cpu, 1500, 2)]
    [InlineData(ResourceKind.Cpu, long.MinValue, Quantity.MaxFormattedLength - 1)]
    public void A_destination_shorter_than_the_longest_quantity_is_refused(ResourceKind kind, long stored, int length)
    {
        var destination = new char[length];
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantity.Format(kind, stored, destination));
    }

    [Fact]
    public void A_vectors_quantities_are_its_non_zero_kinds_in_order_or_all_six_when_asked()
    {
        // cpu 2000 milli = "2", memory 1 Mi, the rest zero; with zeros, all six names in ResourceNames.All order.
        var vector = ResourceVector.Of(cpuMilli: 2000, memoryBytes: 1024 * 1024);
        KeyValuePair<string, string>[] nonZero = [new("cpu", "2"), new("memory", "1Mi")];
        KeyValuePair<string, string>[] all = [new("cpu", "2"), new("memory", "1Mi"), new("nvidia.com/gpu", "0"), new("mas.io/disk-io", "0"),
            new("mas.io/network", "0"), new("ephemeral-storage", "0")];
        Assert.Equal(nonZero, vector.Quantities());
        Assert.Equal(nonZero, vector.ToQuantities());
        Assert.Equal(all, vector.Quantities(includeZero: true));
        Assert.Equal(all, vector.ToQuantities(includeZero: true));
    }

    [Fact]
    public void Unknown_resource_names_are_an_error()
    {
        var ok = ResourceVector.TryParse(new Dictionary<string, string> { ["cpu"] = "1", ["nvidia.com/tpu"] = "1" }, out _, out var error);
        Assert.False(ok);
        Assert.Contains("nvidia.com/tpu", error);
    }

    [Fact]
    public void A_vector_is_written_as_its_non_zero_kubernetes_quantities_and_read_back()
    {
        // cpu 1500 milli = "1500m"; 2 Gi of memory; GPU, disk I/O and network zero, so left out; 3 GB of ephemeral storage
        // written as plain bytes (Quantity.Format writes binary suffixes only for exact multiples of 1024).
        var vector = ResourceVector.Of(cpuMilli: 1500, memoryBytes: 2L * 1024 * 1024 * 1024, ephemeralBytes: 3_000_000_000);
        var json = System.Text.Json.JsonSerializer.Serialize(vector);
        Assert.Equal("""{"cpu":"1500m","memory":"2Gi","ephemeral-storage":"3000000000"}""", json);
        Assert.Equal(vector, System.Text.Json.JsonSerializer.Deserialize<ResourceVector>(json));
        Assert.Equal("{}", System.Text.Json.JsonSerializer.Serialize(ResourceVector.Zero));
    }
}
