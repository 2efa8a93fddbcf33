using System.Reflection;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// What a removed node's sweep of its finished pods throws for Warning 1406 (<see cref="NodeGrain.DeleteFinishedPods"/>),
/// with a listing and pods that fail as the test says. The message named every failed pod and attached each failure
/// with its stack (a page is 1,000 pods), and a listing that failed first read "0 pod(s) not deleted (), and the listing failed".
/// </summary>
public sealed class FinishedPodsNotDeletedTests
{
    [Fact]
    public async Task A_failed_first_listing_says_the_finished_pods_could_not_be_listed()
    {
        var cause = new TimeoutException("the index did not answer");
        var thrown = await Sweep(after => throw cause, pod => null);

        Assert.StartsWith("the finished pods could not be listed (", thrown.Message);
        Assert.DoesNotContain("pod(s)", thrown.Message);
        var attached = Assert.Single(thrown.InnerExceptions);
        Assert.Equal("the finished pods could not be listed", attached.Message);
        Assert.Same(cause, attached.InnerException);
    }

    [Fact]
    public async Task A_thousand_failed_deletions_name_twenty_pods_and_attach_the_first_failure_of_each_kind()
    {
        var pods = Enumerable.Range(0, 1000).Select(i => new PodEntry($"p{i:000}", PodPhase.Succeeded, "gone-node")).ToList();
        var thrown = await Sweep(
            after => new Page<PodEntry>(pods, pods.Count, null),
            pod => pod == "p500" ? new KeyNotFoundException($"{pod}'s state was not found") : new TimeoutException($"{pod} did not answer"));

        // Up to the attached failures' messages, which AggregateException appends in brackets.
        Assert.StartsWith("1000 finished pod(s) not deleted (p000, p001, p002, p003, p004, p005, p006, p007, p008, p009, p010, p011, p012, " +
            "p013, p014, p015, p016, p017, p018, p019 and 980 more); the first failure of each kind is attached (2 of 1000) (", thrown.Message);
        Assert.DoesNotContain("p020", thrown.Message);
        Assert.Equal(["pod 'p000' could not be deleted", "pod 'p500' could not be deleted"], thrown.InnerExceptions.Select(e => e.Message));
        Assert.Equal([typeof(TimeoutException), typeof(KeyNotFoundException)], thrown.InnerExceptions.Select(e => e.InnerException!.GetType()));
    }

    [Fact]
    public async Task A_listing_that_fails_after_a_page_says_where_and_the_pods_that_failed_before_it()
    {
        var cause = new TimeoutException("the index did not answer");
        var thrown = await Sweep(
            after => after is null ? new Page<PodEntry>([new PodEntry("p000", PodPhase.Failed, "gone-node"), new PodEntry("p001", PodPhase.Running, "gone-node")], 3, "p001") : throw cause,
            pod => new TimeoutException($"{pod} did not answer"));

        Assert.StartsWith("1 finished pod(s) not deleted (p000); the pods after 'p001' could not be listed (", thrown.Message);
        Assert.Equal(["pod 'p000' could not be deleted", "the pods after 'p001' could not be listed"], thrown.InnerExceptions.Select(e => e.Message));
        Assert.Same(cause, thrown.InnerExceptions[1].InnerException);
    }

    /// <summary>Runs the sweep of node "gone-node" over <paramref name="page"/> (by the pod it lists after) and pods whose deletion throws what <paramref name="failure"/> gives (null: deleted).</summary>
    private static async Task<AggregateException> Sweep(Func<string?, Page<PodEntry>> page, Func<string, Exception?> failure)
    {
        var index = DispatchProxy.Create<IClusterIndexGrain, Stand>();
        ((Stand)(object)index).Answer = (method, args) => method == nameof(IClusterIndexGrain.ListPods)
            ? Task.FromResult(page((string?)args[2]))
            : throw new NotSupportedException(method);
        var grains = DispatchProxy.Create<IGrainFactory, Stand>();
        ((Stand)(object)grains).Answer = (method, args) =>
        {
            if (method != nameof(IGrainFactory.GetGrain)) throw new NotSupportedException(method);
            var key = args[0] is Orleans.Runtime.GrainId id ? id.Key.ToString()! : (string)args[0]!;
            var pod = DispatchProxy.Create<IPodGrain, Stand>();
            ((Stand)(object)pod).Answer = (podMethod, _) => podMethod == nameof(IPodGrain.EvictForNodeDeletion)
                ? failure(key) is { } e ? Task.FromException<bool>(e) : Task.FromResult(true)
                : throw new NotSupportedException(podMethod);
            return pod;
        };
        return Assert.IsType<AggregateException>(await Record.ExceptionAsync(() => NodeGrain.DeleteFinishedPods("gone-node", index, grains)));
    }

    /// <summary>A stand-in for any interface: each call is answered by <see cref="Answer"/> (the method's name and arguments).</summary>
    public class Stand : DispatchProxy
    {
        public Func<string, object?[], object?> Answer { get; set; } = (method, _) => throw new NotSupportedException(method);

        protected override object? Invoke(MethodInfo? method, object?[]? args) => Answer(method!.Name, args ?? []);
    }
}
