using MasOrleans.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;

namespace MasOrleans.Grains.Tests;

/// <summary>The pub-sub store's serializer: Orleans' format, the older builds' empty JSON read as nothing, anything else loud.</summary>
public sealed class PubSubStateSerializerTests
{
    private static readonly PubSubStateSerializer Serializer = new(
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>(), NullLogger<PubSubStateSerializer>.Instance);

    [Fact]
    public void Values_round_trip_in_Orleans_format()
    {
        var stored = Serializer.Serialize(new List<string> { "a", "b" });
        Assert.NotEqual((byte)'{', stored.ToMemory().Span[0]);
        Assert.Equal(["a", "b"], Serializer.Deserialize<List<string>>(stored));
    }

    [Theory]
    [InlineData("""{"producers":[{}],"consumers":[]}""")]
    [InlineData("""{"producers":[],"consumers":[{},{}]}""")]
    public void The_empty_JSON_an_older_build_wrote_reads_as_no_state(string json) =>
        Assert.Empty(Serializer.Deserialize<List<string>>(BinaryData.FromString(json)));

    [Theory]
    // JSON holding information is not the older builds' empty shape: dropping it silently would lose registrations.
    [InlineData("""{"producers":[{"streamId":"s"}],"consumers":[]}""")]
    [InlineData("""{"producers":7}""")]
    [InlineData("""{"producers":[{}""")]
    [InlineData("not stored by Orleans")]
    // The empty shape followed by more bytes: the whole entry is not that JSON.
    [InlineData("""{"producers":[{}],"consumers":[]}trailing""")]
    // Empty arrays under names the pub-sub state never had.
    [InlineData("""{"subscribers":[{}]}""")]
    public void Anything_else_unreadable_still_throws(string data) =>
        Assert.ThrowsAny<Exception>(() => Serializer.Deserialize<List<string>>(BinaryData.FromString(data)));
}
