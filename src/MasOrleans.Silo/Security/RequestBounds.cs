using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Security;

/// <summary>
/// An endpoint filter on the REST API that bounds what a request may ask for, before the handler runs:
/// quantities (no 1e15 cpu), list and map sizes, image length. The maxima come from "Limits"; syntax is
/// left to <see cref="Validation"/>, so an unparseable quantity gets Validation's message.
/// </summary>
internal sealed class RequestBounds : IEndpointFilter
{
    private readonly LimitsOptions _options;
    private readonly long[] _maxima;

    public RequestBounds(IOptions<LimitsOptions> options)
    {
        _options = options.Value;
        _options.TryResolveMaxima(out _maxima, out _);
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        // Every object's name in a path is at least a DNS subdomain (pods mirrored from Kubernetes are namespace.name):
        // anything else could never exist, and would only activate a grain for nothing.
        if (context.HttpContext.GetRouteValue("name") is string name && KubernetesSyntax.CheckSubdomainName(name, "the") is { } nameError)
            return Problems.BadRequest(nameError);
        foreach (var argument in context.Arguments)
        {
            if (Check(argument) is { } error) return Problems.BadRequest(error);
        }
        return await next(context);
    }

    /// <summary>The first bound <paramref name="argument"/> exceeds (the Kubernetes surface checks its converted requests here too).</summary>
    internal string? Check(object? argument) => argument switch
    {
        NodeRequest n => Quantities(n.Capacity, "capacity") ?? Count(n.Labels, "labels") ?? Count(n.Taints, "taints"),
        NodePatchRequest p => Count(p.Labels, "labels") ?? Count(p.Taints, "taints"),
        TelemetryRequest t => Count(t.Utilization, "utilization"),
        WorkloadRequest w => w.Template is null ? null : Template(w.Template),
        ExplainRequest e => e.Pod is null ? null : Template(e.Pod),
        PodTemplateRequest t => Template(t),
        _ => null,
    };

    private string? Template(PodTemplateRequest t)
    {
        if (t.Image is { } image && image.Length > _options.MaxImageLength) return $"image must be at most {_options.MaxImageLength} characters";
        return Quantities(t.Requests, "requests") ?? Count(t.Labels, "labels") ?? Count(t.NodeSelector, "nodeSelector")
            ?? Count(t.Tolerations, "tolerations") ?? Count(t.TopologySpreadConstraints, "topologySpreadConstraints")
            ?? (t.TopologySpreadConstraints ?? []).Select(c => Selector(c?.LabelSelector, "topologySpreadConstraints")).FirstOrDefault(e => e is not null)
            ?? Affinity(t.Affinity);
    }

    private string? Affinity(Affinity? affinity)
    {
        if (affinity is null) return null;
        var node = affinity.NodeAffinity;
        var required = node?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        var preferred = node?.PreferredDuringSchedulingIgnoredDuringExecution;
        var error = Count(required, "nodeSelectorTerms") ?? Count(preferred, "preferredDuringSchedulingIgnoredDuringExecution");
        var terms = (required ?? []).Concat((preferred ?? []).Select(p => p?.Preference));
        foreach (var term in terms)
        {
            error ??= Count(term?.MatchExpressions, "matchExpressions") ?? Count(term?.MatchFields, "matchFields");
            foreach (var r in term?.MatchExpressions ?? []) error ??= Count(r?.Values, "values");
        }
        foreach (var pod in new[] { affinity.PodAffinity, affinity.PodAntiAffinity })
        {
            error ??= Count(pod?.RequiredDuringSchedulingIgnoredDuringExecution, "podAffinity terms")
                ?? Count(pod?.PreferredDuringSchedulingIgnoredDuringExecution, "podAffinity preferred terms");
            var podTerms = (pod?.RequiredDuringSchedulingIgnoredDuringExecution ?? []).Concat((pod?.PreferredDuringSchedulingIgnoredDuringExecution ?? []).Select(w => w?.PodAffinityTerm));
            foreach (var term in podTerms) error ??= Count(term?.Namespaces, "namespaces") ?? Selector(term?.LabelSelector, "podAffinity");
        }
        return error;
    }

    private string? Selector(LabelSelector? selector, string what)
    {
        var error = Count(selector?.MatchLabels, $"{what} matchLabels") ?? Count(selector?.MatchExpressions, $"{what} matchExpressions");
        foreach (var r in selector?.MatchExpressions ?? []) error ??= Count(r?.Values, $"{what} values");
        return error;
    }

    internal string? Count<T>(IReadOnlyCollection<T>? items, string what) =>
        items is not null && items.Count > _options.MaxListItems ? $"{what} may have at most {_options.MaxListItems} entries (Limits__MaxListItems), not {items.Count}" : null;

    private string? Quantities(IReadOnlyDictionary<string, string>? quantities, string what)
    {
        if (Count(quantities, what) is { } countError) return countError;
        foreach (var (name, text) in quantities ?? new Dictionary<string, string>())
        {
            if (!ResourceNames.TryParse(name, out var kind)) continue;
            // Malformed is Validation's to say; a well-formed quantity too large to store ("1e16" cores, "1e29") is over the
            // maximum as 1e15 is.
            var reading = Quantity.Read(kind, text, out var stored);
            if (reading == QuantityReading.Malformed) continue;
            if (reading == QuantityReading.TooLarge || stored > _maxima[(int)kind])
                return $"{what} of '{name}' ({text}) exceeds the maximum {Quantity.Format(kind, _maxima[(int)kind])} (Limits__MaxQuantity__{name})";
        }
        return null;
    }
}
