using MasOrleans.Abstractions.Contracts;
using MasOrleans.Grains.Storage;
using MasOrleans.Grains.Workloads;
using MasOrleans.Scheduling.Model;

namespace MasOrleans.Grains.Tests;

/// <summary>A workload's stored state (JSON in Redis) with the optional annotations, container name, progress and manifest it gained.</summary>
public sealed class WorkloadStateStorageTests
{
    private static readonly SystemTextJsonGrainStorageSerializer Serializer = new();

    private static WorkloadState Stored(IReadOnlyDictionary<string, string>? annotations, string? container = null) =>
        new(new PodSpec { Name = "default/web" }, 2, ["default/web-b2c4d"], Annotations: annotations, ContainerName: container);

    [Fact]
    public void A_workload_without_annotations_is_stored_as_before_they_existed_and_loads_without_them()
    {
        var json = Serializer.Serialize(Stored(null)).ToString();
        Assert.DoesNotContain("annotations", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("containerName", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("progress", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("createdAt", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("manifest", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("selector", json, StringComparison.OrdinalIgnoreCase);
        // A workload stored before annotations existed is this document: it loads, with none.
        var loaded = Serializer.Deserialize<WorkloadState>(BinaryData.FromString(json));
        Assert.Equal((2, "default/web", "default/web-b2c4d"), (loaded.Replicas, loaded.Template!.Name, loaded.Pods.Single()));
        Assert.Null(loaded.Annotations);
        Assert.Null(loaded.ContainerName);
        Assert.Null(loaded.Progress);
        Assert.Null(loaded.CreatedAt);
        Assert.Null(loaded.Manifest);
        Assert.Null(loaded.Selector);
    }

    /// <summary>A Deployment's selector as given at creation (it may name fewer labels than the template), stored with the workload.</summary>
    [Fact]
    public void A_workloads_selector_round_trips()
    {
        var selector = new Dictionary<string, string> { ["app"] = "web" };
        Assert.Equal(selector, Serializer.Deserialize<WorkloadState>(Serializer.Serialize(Stored(null) with { Selector = selector })).Selector!);
    }

    [Fact]
    public void A_workloads_creation_time_round_trips()
    {
        var at = DateTimeOffset.UnixEpoch.AddSeconds(7);
        Assert.Equal(at, Serializer.Deserialize<WorkloadState>(Serializer.Serialize(Stored(null) with { CreatedAt = at })).CreatedAt);
    }

    [Fact]
    public void A_workloads_progress_deadline_and_condition_round_trip()
    {
        var progress = new WorkloadProgress(WorkloadProgress.TimedOut, DateTimeOffset.UnixEpoch.AddSeconds(5), DateTimeOffset.UnixEpoch, 1, 0);
        var json = Serializer.Serialize(Stored(null) with { ProgressDeadlineSeconds = 2, Progress = progress });
        var loaded = Serializer.Deserialize<WorkloadState>(json);
        Assert.Equal((2, progress), (loaded.ProgressDeadlineSeconds, loaded.Progress));
    }

    /// <summary>A Deployment's template as /k8s keeps it (KubePodManifests), stored with the workload and loaded as written.</summary>
    [Fact]
    public void A_workloads_kept_manifest_round_trips()
    {
        const string Manifest = """{"containers":[{"name":"trainer","command":["train"]}],"terminationGracePeriodSeconds":10}""";
        Assert.Equal(Manifest, Serializer.Deserialize<WorkloadState>(Serializer.Serialize(Stored(null) with { Manifest = Manifest })).Manifest);
    }

    [Fact]
    public void A_workloads_annotations_and_container_name_round_trip()
    {
        var json = Serializer.Serialize(Stored(new Dictionary<string, string> { ["team"] = "ml", ["example.com/Owner"] = "ana" }, "main"));
        var loaded = Serializer.Deserialize<WorkloadState>(json);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "ml", ["example.com/Owner"] = "ana" }, loaded.Annotations);
        Assert.Equal("main", loaded.ContainerName);
        Assert.Contains("\"example.com/Owner\":\"ana\"", json.ToString());
    }
}
