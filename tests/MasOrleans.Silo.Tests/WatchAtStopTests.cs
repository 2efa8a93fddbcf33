using System.Net;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A /k8s watch whose first look is still under way when the silo begins to stop (a silo in this process, real HTTP). The
/// look is held by an outgoing grain call filter on the cluster index's ListPods (only the Kubernetes cache's looks call it)
/// until the host's ApplicationStopping has fired, which is where a SIGTERM's stop begins.
/// </summary>
public sealed class WatchAtStopTests
{
    private sealed class HeldListing : IOutgoingGrainCallFilter
    {
        public readonly TaskCompletionSource Reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool Holding;

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (Holding && context.InterfaceMethod?.DeclaringType == typeof(IClusterIndexGrain) && context.InterfaceMethod.Name == nameof(IClusterIndexGrain.ListPods))
            {
                Reached.TrySetResult();
                await Released.Task;
            }
            await context.Invoke();
        }
    }

    /// <summary>
    /// Failed before (a 503 Status and Warning 2104 "Kubernetes request GET ... answered 503: ... OperationCanceledException"):
    /// the watch started its response with its lifetime's token, already cancelled by the stop, outside the catch that ends
    /// the stream when that token cancels. A watch accepted just as the silo begins to stop ends as any open watch does.
    /// </summary>
    [Fact]
    public async Task A_watch_whose_first_look_outlasts_the_start_of_the_stop_ends_cleanly()
    {
        var listing = new HeldListing();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IOutgoingGrainCallFilter>(listing));
        listing.Holding = true;
        var watch = silo.Http.GetAsync("/k8s/api/v1/namespaces/default/pods?watch=true");
        await listing.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The stop's first step (a SIGTERM calls this); the host's own stop is left to the fixture's disposal.
        silo.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        listing.Holding = false;
        listing.Released.SetResult();

        using var response = await watch;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        Assert.DoesNotContain(silo.Log.Records, r => r.EventId == 2104);
    }
}
