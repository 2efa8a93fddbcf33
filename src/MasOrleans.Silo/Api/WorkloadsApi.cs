using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.KubeApi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

internal static class WorkloadsApi
{
    public static IEndpointRouteBuilder MapWorkloadsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/workloads").WithTags("Workloads");
        api.MapPost("", Create).WithSummary("Create a workload: replicas of a pod template, named {workload}-{suffix}");
        api.MapGet("", List).WithSummary("List workloads (paged), as /k8s lists deployments");
        api.MapGet("/{name}", Get).WithSummary("Get a workload with its replicas, ready replicas and pods");
        api.MapGet("/{name}/events", Events).WithSummary("A workload's events (pods created/replaced/removed, backoff, scaling decisions)");
        api.MapDelete("/{name}", Delete).WithSummary("Delete a workload and its pods");
        api.MapPut("/{name}/scale", Scale).WithSummary("Change the number of replicas (409 outside an autoscaled workload's minReplicas..maxReplicas, or a scale up of a template naming no policy on a silo that cannot run the cluster's default)");
        return routes;
    }

    private static async Task<Results<Created<WorkloadResponse>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Create(
        WorkloadRequest body, IGrainFactory grains, PolicyCatalog catalog, SiloClusterView clusterView)
    {
        if (Validation.CheckName(body.Name, "workload") is { } nameError) return Problems.BadRequest(nameError);
        if (Validation.CheckReplicas(body.Replicas) is { } replicaError) return Problems.BadRequest(replicaError);
        if (body.Template is null) return Problems.BadRequest("template is required");
        if (TryAutoscale(body.Autoscale, out var autoscale) is { } autoscaleError) return Problems.BadRequest(autoscaleError);
        // A request that contradicts itself is the client's mistake; it was cut to the bound without a word.
        if (autoscale?.RefuseReplicas(body.Replicas!.Value) is { } rangeError) return Problems.BadRequest(rangeError);
        // The template is validated under the longest name a replica can get.
        if (Validation.CheckPod($"{body.Name}-xxxxx", body.Template, catalog, out var template) is { } error) return Problems.BadRequest(error);
        // A workload replaces its failed pods, so a deadline would fail and replace them for ever: refused as the API
        // server refuses it in a ReplicaSet's template (pkg/apis/apps/validation, ValidatePodTemplateSpecForReplicaSet).
        if (template.ActiveDeadlineSeconds is not null) return Problems.BadRequest("template.activeDeadlineSeconds is not supported in a workload: its pods are replaced when they fail, so each would fail again at its deadline");
        // Its replicas would wait for ever on a default this silo cannot run: refused as POST /api/v1/pods refuses a pod.
        if (await DefaultPolicyOnThisSilo.ProblemForPolicy(template.Policy, clusterView, grains, catalog) is { } unrunnable) return Problems.Conflict(unrunnable);
        var workload = grains.Reference<IWorkloadGrain>(body.Name!);
        var outcome = await workload.Create(template with { Name = body.Name! }, body.Replicas!.Value, autoscale);
        if (!outcome.IsOk) return Problems.Conflict(outcome.Message!);
        // Deleted by a concurrent DELETE before the read: gone, as Scale answers it.
        return await workload.Get() is { } view ? TypedResults.Created($"/api/v1/workloads/{body.Name}", WorkloadResponse.From(view)) : NotFound(body.Name!);
    }

    /// <summary>
    /// The workloads the /k8s deployment listing finds (<see cref="KubeCache.ReadWorkloads"/>, the cluster's one record of
    /// them), in name order and paged as pods and nodes are: the names are paged first, and only the page's workloads are
    /// read. A name whose workload is being created or deleted (in the reminder table, its grain answering none) is not
    /// listed; the total counts it unless it falls on the page, the only names whose workloads are read.
    /// </summary>
    private static async Task<Results<Ok<ListResponse<WorkloadResponse>>, BadRequest<ProblemDetails>>> List(
        IGrainFactory grains, KubeCache directory, int? offset, int? limit, [FromQuery(Name = "continue")] string? continueToken, CancellationToken cancellation)
    {
        if (Validation.CheckPaging(offset, limit, continueToken) is { } error) return Problems.BadRequest(error);
        Page<string>? names = null;
        var views = await directory.ReadWorkloads(
            keys => (names = Paging.Take(new SortedDictionary<string, string>(keys.ToDictionary(k => k), StringComparer.Ordinal),
                offset ?? 0, limit ?? Validation.DefaultPageLimit, continueToken)).Items,
            key => grains.Reference<IWorkloadGrain>(key).Get(), cancellation: cancellation);
        // The total is the names' count: exact but for a name read that its grain answers null (created or deleted
        // meanwhile), known only on the page, where it is taken off.
        var total = names!.Total - (names.Items.Count - views.Count);
        return TypedResults.Ok(new ListResponse<WorkloadResponse>(views.Select(WorkloadResponse.From).ToList(), total, names.Continue));
    }

    private static async Task<Results<Ok<WorkloadResponse>, NotFound<ProblemDetails>>> Get(string name, IGrainFactory grains) =>
        await grains.Reference<IWorkloadGrain>(name).Get() is { } view ? TypedResults.Ok(WorkloadResponse.From(view)) : NotFound(name);

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> Delete(string name, IGrainFactory grains) =>
        (await grains.Reference<IWorkloadGrain>(name).Delete()).IsOk ? TypedResults.NoContent() : NotFound(name);

    private static async Task<Results<Ok<WorkloadResponse>, BadRequest<ProblemDetails>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Scale(
        string name, ScaleRequest body, IGrainFactory grains, PolicyCatalog catalog, SiloClusterView clusterView)
    {
        if (Validation.CheckReplicas(body.Replicas) is { } error) return Problems.BadRequest(error);
        var workload = grains.Reference<IWorkloadGrain>(name);
        // New replicas of a template naming no policy would wait for ever on a default this silo cannot run (a workload
        // created before that rule, or through a silo with the default's model): the workload refuses a scale up of them
        // in its own turn, as its creation would be refused now.
        var outcome = await workload.Scale(body.Replicas!.Value, await DefaultPolicyOnThisSilo.ProblemForDefault(clusterView, grains, catalog));
        if (outcome.Code == OutcomeCode.NotFound) return NotFound(name);
        // Replicas outside the autoscale range (the workload's own settings forbid them), or unrunnable ones.
        if (!outcome.IsOk) return Problems.Conflict(outcome.Message!);
        // A workload being deleted takes the count it has (none) and may be gone by the read.
        return await workload.Get() is { } view ? TypedResults.Ok(WorkloadResponse.From(view)) : NotFound(name);
    }

    private static async Task<Results<Ok<EventsResponse>, NotFound<ProblemDetails>>> Events(string name, IGrainFactory grains)
    {
        var workload = grains.Reference<IWorkloadGrain>(name);
        if (await workload.Get() is null) return NotFound(name);
        return TypedResults.Ok(new EventsResponse("Workload", name, await workload.GetEvents()));
    }

    private static string? TryAutoscale(AutoscaleRequest? body, out AutoscaleSpec? spec)
    {
        spec = null;
        if (body is null) return null;
        if (body.MinReplicas is not { } min || body.MaxReplicas is not { } max) return "autoscale.minReplicas and autoscale.maxReplicas are required";
        if (min < 1 || max < min || max > Validation.MaxReplicas) return $"autoscale needs 1 <= minReplicas <= maxReplicas <= {Validation.MaxReplicas}";
        var target = body.TargetCpuUtilization ?? 70;
        // Negated comparisons so NaN fails them too; infinities and NaN cannot be stored (JSON) or timed (TimeSpan).
        if (!(target > 0 && target <= 100)) return "autoscale.targetCpuUtilization is a percentage in (0, 100]";
        if (!IsCooldown(body.ScaleUpCooldownSeconds) || !IsCooldown(body.ScaleDownCooldownSeconds))
            return $"autoscale cooldowns must be numbers of seconds from 0 to {Validation.MaxDurationSeconds} (one year)";
        spec = new AutoscaleSpec(min, max, target, body.ScaleUpCooldownSeconds ?? 60, body.ScaleDownCooldownSeconds ?? 300);
        return null;
    }

    private static bool IsCooldown(double? seconds) => seconds is not { } s || (s >= 0 && s <= Validation.MaxDurationSeconds);

    private static NotFound<ProblemDetails> NotFound(string name) => Problems.NotFound($"workload '{name}' not found");
}
