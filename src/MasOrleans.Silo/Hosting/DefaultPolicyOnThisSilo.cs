using MasOrleans.Grains.Learning;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Silo.Hosting;

/// <summary>
/// Whether this silo can decide for a pod naming no policy. The cluster's runtime default (PUT /api/v1/scheduler/policy)
/// is stored in Redis, so a silo restarted without the model of a learned default (no Models__Directory) meets a default
/// it cannot run. kube-scheduler does not start with a profile it cannot build; a silo cannot refuse the cluster's stored
/// default at start (another silo may have the model), so it says so instead: not ready (<see cref="DefaultPolicyHealthCheck"/>)
/// and a 409 for a pod that would wait on it for ever.
/// </summary>
internal static class DefaultPolicyOnThisSilo
{
    /// <summary>Why <paramref name="defaultPolicy"/> cannot decide here, or null when this silo offers it.</summary>
    public static string? Problem(string defaultPolicy, PolicyCatalog catalog) =>
        catalog.Contains(defaultPolicy) ? null
        : $"the cluster's default policy '{defaultPolicy}' cannot decide on this silo: " +
          (LearnedModels.IsKnown(defaultPolicy) ? $"its model is not installed here (Models__Directory has no {defaultPolicy}/)" : "it is not a policy this silo offers") +
          "; install it and restart, PUT /api/v1/scheduler/policy another default, or name a policy on the pod";
}
