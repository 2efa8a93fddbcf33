using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Api;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A pod created with no labels keeps the shared empty set, as one read back from storage or a grain call does
/// (CoreSurrogates), not an empty dictionary of its own for as long as it lives (scripts/pod-heap.sh measures that).
/// </summary>
public sealed class PodSpecLabelsTests
{
    private static readonly PolicyCatalog Policies = PolicyCatalog.CreateDefault();

    private static PodRequest Body(Dictionary<string, string>? labels = null) =>
        new() { Requests = new Dictionary<string, string> { ["cpu"] = "100m", ["memory"] = "128Mi" }, Labels = labels };

    [Fact]
    public void A_pod_with_no_labels_keeps_the_shared_empty_set()
    {
        Assert.Null(Validation.CheckPod("no-labels", Body(), Policies, out var spec));
        Assert.Same(PodSpec.Empty, spec.Labels);
    }

    [Fact]
    public void A_pod_given_labels_keeps_them()
    {
        Assert.Null(Validation.CheckPod("labelled", Body(new() { ["app"] = "web" }), Policies, out var spec));
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web" }, spec.Labels);
    }
}
