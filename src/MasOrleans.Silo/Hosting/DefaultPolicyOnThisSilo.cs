using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Learning;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Whether this silo can decide for a pod naming no policy. The cluster's runtime default (PUT /api/v1/scheduler/policy)
/// is stored in Redis, so a silo restarted without the model of a learned default (no Models__Directory with it) meets a
/// default it cannot run. kube-scheduler does not start with a profile it cannot build; a silo cannot refuse the cluster's
/// stored default at start (another silo may have the model), so it says so instead: not ready
/// (<see cref="DefaultPolicyHealthCheck"/>) and a refusal of whatever would create a pod naming no policy (a pod, a
/// workload template, a scale up of a workload whose template names none: 409 on /api/v1, 403 on /k8s). Judged on the
/// silo that receives the request, not the one whose queue shard schedules the pod (docs/configuration.md says what that
/// means in a cluster whose silos hold different models), by the default as this silo's cluster view reads it, the one
/// its queue shards schedule with.
/// </summary>
internal static class DefaultPolicyOnThisSilo
{
    /// <summary>Why <paramref name="defaultPolicy"/> cannot decide here, or null when this silo offers it.</summary>
    public static string? Problem(string defaultPolicy, PolicyCatalog catalog) =>
        catalog.Contains(defaultPolicy) ? null
        : $"the cluster's default policy '{defaultPolicy}' cannot decide on this silo: " +
          (LearnedModels.IsKnown(defaultPolicy) ? NotInstalled(defaultPolicy) : "it is not a policy this silo offers") +
          "; install it and restart, PUT /api/v1/scheduler/policy another default, or name a policy";

    /// <summary>The one wording of a learned policy whose model this silo lacks (also LearningApi's 404).</summary>
    public static string NotInstalled(string algorithm) => $"no {algorithm} model is installed on this silo (Models__Directory or the shipped models/)";

    /// <summary>
    /// The cluster's default as this silo's view holds it (kept up to date from the cluster index's changes and renewals);
    /// the index itself only before the view has started.
    /// </summary>
    public static async Task<string> Current(SiloClusterView view, IGrainFactory grains) =>
        view.Ready.IsCompleted ? view.DefaultPolicy : await grains.Reference<IClusterIndexGrain>(ClusterIndex.Key).GetDefaultPolicy();

    /// <summary>The same, for a pod (or template) naming <paramref name="policy"/>: null when it names one.</summary>
    public static async Task<string?> ProblemForPolicy(string? policy, SiloClusterView view, IGrainFactory grains, PolicyCatalog catalog) =>
        policy is not null ? null : await ProblemForDefault(view, grains, catalog);

    /// <summary>
    /// Why the cluster's default cannot decide here, or null: given to a workload's scale (<see cref="WorkloadChange.DefaultUnrunnable"/>),
    /// which judges in its own turn whether it would create replicas of a template naming no policy (a workload created
    /// before the rule, or through a silo with the model), against the count it holds: judged here against a count read
    /// earlier, a scale down landing in between turned an allowed request into a scale up.
    /// </summary>
    public static async Task<string?> ProblemForDefault(SiloClusterView view, IGrainFactory grains, PolicyCatalog catalog) =>
        Problem(await Current(view, grains), catalog);
}
