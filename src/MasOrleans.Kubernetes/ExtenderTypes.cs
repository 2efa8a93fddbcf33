using System.Text.Json.Serialization;
using k8s.Models;

namespace MasOrleans.Kubernetes;

// k8s.io/kube-scheduler/extender/v1 types. The Go structs carry no json tags, so the wire keys are the
// Go field names ("Pod", "Nodes", "NodeNames", ...), unlike the lower-camel core/v1 objects inside them.

public sealed class ExtenderArgs
{
    [JsonPropertyName("Pod")] public V1Pod? Pod { get; set; }
    /// <summary>Full node objects, sent when the extender is not nodeCacheCapable.</summary>
    [JsonPropertyName("Nodes")] public V1NodeList? Nodes { get; set; }
    /// <summary>Only names, sent when the extender is nodeCacheCapable.</summary>
    [JsonPropertyName("NodeNames")] public IList<string>? NodeNames { get; set; }
}

public sealed class ExtenderFilterResult
{
    [JsonPropertyName("Nodes")] public V1NodeList? Nodes { get; set; }
    [JsonPropertyName("NodeNames")] public IList<string>? NodeNames { get; set; }
    [JsonPropertyName("FailedNodes")] public IDictionary<string, string> FailedNodes { get; set; } = new Dictionary<string, string>();
    [JsonPropertyName("FailedAndUnresolvableNodes")] public IDictionary<string, string> FailedAndUnresolvableNodes { get; set; } = new Dictionary<string, string>();
    [JsonPropertyName("Error")] public string Error { get; set; } = "";
}

public sealed class HostPriority
{
    [JsonPropertyName("Host")] public string Host { get; set; } = "";
    /// <summary>0..10 (MaxExtenderPriority); kube-scheduler multiplies it by the extender's weight and by 100/10.</summary>
    [JsonPropertyName("Score")] public long Score { get; set; }
}

/// <summary>What preemptVerb is sent: the victims kube-scheduler's dry run chose per candidate node.</summary>
public sealed class ExtenderPreemptionArgs
{
    [JsonPropertyName("Pod")] public V1Pod? Pod { get; set; }
    /// <summary>Victims as pod objects, sent when the extender is not nodeCacheCapable.</summary>
    [JsonPropertyName("NodeNameToVictims")] public IDictionary<string, Victims?>? NodeNameToVictims { get; set; }
    /// <summary>Victims as pod UIDs only, sent when the extender is nodeCacheCapable.</summary>
    [JsonPropertyName("NodeNameToMetaVictims")] public IDictionary<string, MetaVictims?>? NodeNameToMetaVictims { get; set; }
}

public sealed class Victims
{
    [JsonPropertyName("Pods")] public IList<V1Pod?>? Pods { get; set; }
    [JsonPropertyName("NumPDBViolations")] public long NumPDBViolations { get; set; }
}

public sealed class MetaPod
{
    [JsonPropertyName("UID")] public string Uid { get; set; } = "";
}

public sealed class MetaVictims
{
    [JsonPropertyName("Pods")] public IList<MetaPod?>? Pods { get; set; }
    [JsonPropertyName("NumPDBViolations")] public long NumPDBViolations { get; set; }
}

/// <summary>
/// preemptVerb's answer: the candidates kept, victims by UID. It has no Error field: kube-scheduler takes an answer
/// other than 200 as the extender's error (HTTPExtender.send).
/// </summary>
public sealed class ExtenderPreemptionResult
{
    [JsonPropertyName("NodeNameToMetaVictims")] public IDictionary<string, MetaVictims> NodeNameToMetaVictims { get; set; } = new Dictionary<string, MetaVictims>();
}

public sealed class ExtenderBindingArgs
{
    [JsonPropertyName("PodName")] public string PodName { get; set; } = "";
    [JsonPropertyName("PodNamespace")] public string PodNamespace { get; set; } = "";
    [JsonPropertyName("PodUID")] public string PodUID { get; set; } = "";
    [JsonPropertyName("Node")] public string Node { get; set; } = "";
}

public sealed class ExtenderBindingResult
{
    [JsonPropertyName("Error")] public string Error { get; set; } = "";
}

public static class ExtenderLimits
{
    public const long MaxExtenderPriority = 10;
}
