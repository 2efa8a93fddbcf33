using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Scheduling.Tests;

public class QuantityTests
{
    [Theory]
    [InlineData(ResourceKind.Cpu, "500m", 500)]
    [InlineData(ResourceKind.Cpu, "2", 2000)]
    [InlineData(ResourceKind.Cpu, "0.25", 250)]
    [InlineData(ResourceKind.Cpu, "1e3", 1_000_000)]
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
    public void Rejects_malformed_quantities(string text) => Assert.False(Quantity.TryParse(ResourceKind.Cpu, text, out _));

    [Theory]
    [InlineData(ResourceKind.Cpu, 500, "500m")]
    [InlineData(ResourceKind.Cpu, 2000, "2")]
    [InlineData(ResourceKind.Memory, 512L * 1024 * 1024, "512Mi")]
    [InlineData(ResourceKind.Memory, 1000, "1000")]
    public void Formats_round_trip(ResourceKind kind, long stored, string expected)
    {
        Assert.Equal(expected, Quantity.Format(kind, stored));
        Assert.Equal(stored, Quantity.Parse(kind, expected));
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
