using System.Text.Json;
using MasOrleans.Abstractions;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>Pod phases are spelled as Kubernetes spells them everywhere, and state stored before that still loads.</summary>
public sealed class PhaseSpellingTests
{
    [Theory]
    [InlineData(PodPhase.Pending, "Pending")]
    [InlineData(PodPhase.Running, "Running")]
    [InlineData(PodPhase.Succeeded, "Succeeded")]
    [InlineData(PodPhase.Failed, "Failed")]
    [InlineData(PodPhase.Scheduled, "Scheduled")]
    [InlineData(PodPhase.Unschedulable, "Unschedulable")]
    public void Phases_are_written_as_kubernetes_spells_them(PodPhase phase, string expected)
    {
        Assert.Equal($"\"{expected}\"", JsonSerializer.Serialize(phase, MasJson.Options));
        Assert.Equal($"{{\"{expected}\":1}}", JsonSerializer.Serialize(new Dictionary<PodPhase, int> { [phase] = 1 }, MasJson.Options));
    }

    [Fact]
    public void State_stored_with_lowercase_phases_still_loads()
    {
        // What a PodEntry looked like in storage before phases were capitalized.
        var stored = """{"name":"p1","phase":"unschedulable","nodeName":null}""";
        Assert.Equal(PodPhase.Unschedulable, JsonSerializer.Deserialize<PodEntry>(stored, MasJson.Options)!.Phase);
        Assert.Equal(PodPhase.Running, JsonSerializer.Deserialize<PodPhase>("\"running\"", MasJson.Options));
        var byPhase = JsonSerializer.Deserialize<Dictionary<PodPhase, int>>("""{"running":3,"pending":1}""", MasJson.Options)!;
        Assert.Equal(3, byPhase[PodPhase.Running]);
        Assert.Equal(1, byPhase[PodPhase.Pending]);
    }

    [Fact]
    public void Other_enums_keep_their_camel_case()
    {
        Assert.Equal("\"notFound\"", JsonSerializer.Serialize(OutcomeCode.NotFound, MasJson.Options));
    }

    [Theory]
    [InlineData(PodPhase.Pending, "Pending")]
    [InlineData(PodPhase.Scheduled, "Pending")]
    [InlineData(PodPhase.Unschedulable, "Pending")]
    [InlineData(PodPhase.Running, "Running")]
    [InlineData(PodPhase.Succeeded, "Succeeded")]
    [InlineData(PodPhase.Failed, "Failed")]
    public void Kubernetes_surface_has_only_kubernetes_phases(PodPhase phase, string expected) => Assert.Equal(expected, KubePodObjects.Phase(phase));
}
