using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A telemetry reading whose delivery to its node fails is refused, through real HTTP to a silo in this process. The
/// failure is an outgoing grain call filter that fails the node's ReportTelemetry as Orleans fails a call in flight to a
/// silo that stops (CallbackData: SiloUnavailableException "The target silo became unavailable for message").
/// </summary>
public sealed class TelemetryDeliveryTests
{
    private sealed class TelemetryBreaks : IOutgoingGrainCallFilter
    {
        public volatile bool Broken;
        public int Asked;
        /// <summary>Breaks these many asks in a stopping sibling's name (PlacementService's refusal) before any Broken.</summary>
        public int SiblingStops;

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType != typeof(INodeGrain) || context.InterfaceMethod.Name != nameof(INodeGrain.ReportTelemetry)) return context.Invoke();
            Interlocked.Increment(ref Asked);
            if (Interlocked.Decrement(ref SiblingStops) >= 0) throw new SiloUnavailableException(CallBreaks.SiblingShuttingDown);
            if (Broken) throw new SiloUnavailableException("The target silo became unavailable for message: 'Request ... ReportTelemetry()'. About to break its promise.");
            return context.Invoke();
        }
    }

    /// <summary>
    /// Failed before (202): the reading went onto a memory stream and the 202 said only that it was enqueued, so a reading
    /// that never reached its node (u3's rolling restart: duplicate queue activations nothing pulled) was answered as
    /// accepted until the node went NotReady and evicted its pods. Now the delivery is the call the 202 waits for: its
    /// failure is the outage's 503 with Retry-After, and the node holds no reading.
    /// </summary>
    [Fact]
    public async Task A_reading_whose_delivery_fails_is_a_503_not_a_202()
    {
        var breaks = new TelemetryBreaks();
        await using var silo = await SiloHost.StartAsync(expectedLog: ["Unhandled exception for POST /api/v1/nodes/tele-broken/telemetry"],
            configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(breaks));
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("tele-broken"))).StatusCode);
        breaks.Broken = true;
        using var refused = await silo.Http.Post("/api/v1/nodes/tele-broken/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.5 } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(1, breaks.Asked);
        var node = await silo.Http.GetJson("/api/v1/nodes/tele-broken");
        Assert.False(node.GetProperty("utilization").TryGetProperty("cpu", out _), "the node holds a reading whose delivery failed");

        // Mended, the same request is a 202 the node holds.
        breaks.Broken = false;
        using var accepted = await silo.Http.Post("/api/v1/nodes/tele-broken/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.5 } });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(0.5, (await silo.Http.GetJson("/api/v1/nodes/tele-broken")).GetProperty("utilization").GetProperty("cpu").GetDouble());
    }

    /// <summary>
    /// Failed before (a 503, Error 2001): a reading whose call a sibling's graceful stop broke (the node grain leaving the
    /// stopping silo, refused in its name) is sent again once that stop is gone, as a read is (ReadsAskedAgain): sent twice
    /// it changes nothing, the newest reading winning by its stamp, so a rolling restart does not refuse the nodes' reports.
    /// </summary>
    [Fact]
    public async Task A_reading_a_siblings_stop_broke_is_sent_again_and_accepted()
    {
        var breaks = new TelemetryBreaks();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(breaks));
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.Post("/api/v1/nodes", Requests.Node("tele-moved"))).StatusCode);
        breaks.SiblingStops = 1;
        using var accepted = await silo.Http.Post("/api/v1/nodes/tele-moved/telemetry", new { utilization = new Dictionary<string, double> { ["cpu"] = 0.4 } });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(2, breaks.Asked);
        Assert.Equal(0.4, (await silo.Http.GetJson("/api/v1/nodes/tele-moved")).GetProperty("utilization").GetProperty("cpu").GetDouble());
    }
}
