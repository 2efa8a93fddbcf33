using System.Text.Json;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Pods;
using MasOrleans.Grains.Storage;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Tests;

/// <summary>A pod's stored state (JSON in Redis) with the optional annotations and container name it gained.</summary>
public sealed class PodStateStorageTests
{
    private static readonly SystemTextJsonGrainStorageSerializer Serializer = new();

    private static PodState Stored(IReadOnlyDictionary<string, string>? annotations, string? container) =>
        new PodState() with
        {
            Spec = new PodSpec { Name = "p1" }, Phase = PodPhase.Running, NodeName = "n1", CreatedAt = DateTimeOffset.UnixEpoch,
            Annotations = annotations, ContainerName = container,
        };

    [Fact]
    public void A_pod_without_annotations_is_stored_as_before_they_existed_and_loads_without_them()
    {
        var json = Serializer.Serialize(Stored(null, null)).ToString();
        // Exactly the fields stored before: a pod stored then is this document, and one stored now costs no more.
        Assert.DoesNotContain("annotations", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("containerName", json, StringComparison.OrdinalIgnoreCase);
        var loaded = Serializer.Deserialize<PodState>(BinaryData.FromString(json));
        Assert.Equal((PodPhase.Running, "n1", "p1"), (loaded.Phase, loaded.NodeName, loaded.Spec!.Name));
        Assert.Null(loaded.Annotations);
        Assert.Null(loaded.ContainerName);
    }

    [Fact]
    public void A_pods_creation_time_in_its_spec_round_trips_to_the_tick()
    {
        // The spec's creation time tells this pod from another of its name (a placement or release names it); a pod
        // reloaded from Redis that read it back any coarser would refuse its own placement.
        var created = new DateTimeOffset(2026, 12, 6, 1, 2, 3, TimeSpan.Zero).AddTicks(4567);
        var json = Serializer.Serialize(Stored(null, null) with { Spec = new PodSpec { Name = "p1", CreatedAt = created } });
        var loaded = Serializer.Deserialize<PodState>(json);
        Assert.Equal(created.UtcTicks, loaded.Spec!.CreatedAt!.Value.UtcTicks);
        Assert.Null(Serializer.Deserialize<PodState>(Serializer.Serialize(Stored(null, null))).Spec!.CreatedAt);
    }

    [Fact]
    public void A_pods_annotations_and_container_name_round_trip()
    {
        var json = Serializer.Serialize(Stored(new Dictionary<string, string> { ["team"] = "ml", ["example.com/Owner"] = "ana" }, "main"));
        var loaded = Serializer.Deserialize<PodState>(json);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "ml", ["example.com/Owner"] = "ana" }, loaded.Annotations);
        Assert.Equal("main", loaded.ContainerName);
        Assert.Contains("\"example.com/Owner\":\"ana\"", json.ToString());
    }
}
