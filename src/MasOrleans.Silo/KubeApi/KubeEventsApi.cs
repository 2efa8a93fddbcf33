using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// core/v1 events, read from the objects that keep them (pods, nodes, workloads each keep their last 32), for
/// kubectl describe (which selects by involvedObject), kubectl get events and its watch (<see cref="KubePolledWatch"/>).
/// </summary>
internal static class KubeEventsApi
{
    private static readonly HashSet<string> Fields =
    [
        "involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "involvedObject.apiVersion",
        "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "type", "source", "metadata.name", "metadata.namespace",
        "reportingComponent",
    ];

    public static void Map(RouteGroupBuilder k8s)
    {
        k8s.MapGet("/api/v1/events", (HttpContext c, IGrainFactory g, KubeCache cache) => List(c, null, g, cache));
        k8s.MapGet("/api/v1/namespaces/{ns}/events", (HttpContext c, string ns, IGrainFactory g, KubeCache cache) => List(c, ns, g, cache));
    }

    private static async Task<IResult> List(HttpContext context, string? ns, IGrainFactory grains, KubeCache cache)
    {
        if (KubeLists.TrySelectors(context.Request, Fields, out var labels, out var fields, out var options) is { } error) return error;
        var wantedName = fields.Required("involvedObject.name");
        var wantedKind = fields.Required("involvedObject.kind");

        async Task<IReadOnlyList<Corev1Event>> Select(KubeCache.Snapshot snapshot)
        {
            var events = new List<Corev1Event>();
            if (wantedKind is null or "Pod")
            {
                // The cache's own reads: a pod is read only when its listing changed, not once per pod per look.
                foreach (var pod in snapshot.Pods.Where(p => (ns is null || p.Metadata.NamespaceProperty == ns) && (wantedName is null || p.Metadata.Name == wantedName)))
                {
                    var key = KubernetesNames.Key(pod.Metadata.NamespaceProperty, pod.Metadata.Name);
                    events.AddRange(Events("Pod", "v1", key, pod.Metadata.Uid, snapshot.PodEvents[key], namespaced: true));
                }
            }
            // Node events live in the default namespace, as the kubelet records them.
            if (wantedKind is null or "Node" && ns is null or KubernetesNames.DefaultNamespace)
            {
                foreach (var node in snapshot.Nodes.Where(n => wantedName is null || n.Metadata.Name == wantedName))
                    events.AddRange(Events("Node", "v1", node.Metadata.Name, node.Metadata.Uid, await grains.Reference<INodeGrain>(node.Metadata.Name).GetEvents(), namespaced: false));
            }
            if (wantedKind is null or "Deployment")
            {
                // One deployment named (kubectl describe): its grain alone, not the whole table.
                var deployments = await KubeDeploymentsApi.ReadNamed(cache, wantedName, ns,
                    keys => keys.Where(k => (ns is null || KubernetesNames.Split(k).Namespace == ns) && (wantedName is null || KubernetesNames.Split(k).Name == wantedName)),
                    async key => Events("Deployment", "apps/v1", key, KubeNames.Uid("Deployment", key, null), await grains.Reference<IWorkloadGrain>(key).GetEvents(), namespaced: true).ToList(),
                    context.RequestAborted);
                events.AddRange(deployments.SelectMany(d => d));
            }
            return events.Where(e => labels.Matches(e.Metadata.Labels) && fields.Matches(f => FieldOf(e, f))).OrderBy(e => e.LastTimestamp).ToList();
        }

        if (KubeWatch.Requested(context.Request))
        {
            await KubePolledWatch.Serve(context, cache, options, async () => await Select(await cache.Refresh(context.RequestAborted)));
            return Results.Empty;
        }
        var snapshot = await cache.Refresh(context.RequestAborted);
        return KubeLists.List(context, await Select(snapshot), "EventList", "v1", snapshot.Version);
    }

    internal static IEnumerable<Corev1Event> Events(string kind, string apiVersion, string key, string uid, IReadOnlyList<PodEvent> events, bool namespaced)
    {
        var (ns, name) = namespaced ? KubernetesNames.Split(key) : (KubernetesNames.DefaultNamespace, key);
        foreach (var e in events)
        {
            var first = e.FirstSeen ?? e.LastSeen;
            yield return new Corev1Event
            {
                ApiVersion = "v1",
                Kind = "Event",
                Metadata = new V1ObjectMeta
                {
                    // Named once, when first seen, and kept on a repeat, as client-go's recorder names an event
                    // (tools/record/event.go, makeEvent: ref.Name + "." + %x of the first time); its identity beside that
                    // time, since two events of one object can share it.
                    Name = $"{name}.{first.UtcTicks:x}{Identity(e)}",
                    NamespaceProperty = ns,
                    CreationTimestamp = first.UtcDateTime,
                },
                InvolvedObject = new V1ObjectReference { Kind = kind, ApiVersion = apiVersion, Name = name, NamespaceProperty = namespaced ? ns : null, Uid = uid },
                Reason = e.Reason,
                Message = e.Message,
                Type = e.Type,
                Count = e.Count,
                FirstTimestamp = first.UtcDateTime,
                LastTimestamp = e.LastSeen.UtcDateTime,
                Source = new V1EventSource { Component = "masorleans" },
                ReportingComponent = "masorleans",
            };
        }
    }

    /// <summary>The event's identity (<see cref="ObjectEvents.IdentityOf(PodEvent)"/>), hashed so the name stays short.</summary>
    private static string Identity(PodEvent e)
    {
        var (type, reason, message) = ObjectEvents.IdentityOf(e);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{type}\n{reason}\n{message}")).AsSpan(0, 4));
    }

    private static string? FieldOf(Corev1Event e, string field) => field switch
    {
        "involvedObject.kind" => e.InvolvedObject.Kind,
        "involvedObject.name" => e.InvolvedObject.Name,
        "involvedObject.namespace" => e.InvolvedObject.NamespaceProperty,
        "involvedObject.uid" => e.InvolvedObject.Uid,
        "involvedObject.apiVersion" => e.InvolvedObject.ApiVersion,
        "reason" => e.Reason,
        "type" => e.Type,
        "source" => e.Source?.Component,
        "reportingComponent" => e.ReportingComponent,
        "metadata.name" => e.Metadata.Name,
        "metadata.namespace" => e.Metadata.NamespaceProperty,
        _ => "",
    };
}
