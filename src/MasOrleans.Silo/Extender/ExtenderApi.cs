using System.Diagnostics;
using k8s;
using MasOrleans.Kubernetes;
using MasOrleans.Scheduling.Telemetry;
using MasOrleans.Silo.Api;
using MasOrleans.Silo.Configuration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace MasOrleans.Silo.Extender;

/// <summary>
/// POST /extender/filter, /prioritize, /preempt and /bind in k8s.io/kube-scheduler/extender/v1's JSON (Go field names
/// outside, core/v1 objects inside), read and written with KubernetesClient's serializer.
/// </summary>
internal static class ExtenderApi
{
    // [FromServices]: SchedulerExtender has a BindAsync method, which minimal APIs would otherwise take for a binder.
    public static IEndpointRouteBuilder MapExtenderApi(this IEndpointRouteBuilder routes)
    {
        if (!routes.ServiceProvider.GetRequiredService<IOptions<ExtenderOptions>>().Value.Enabled) return routes;
        var api = routes.MapGroup("/extender").ExcludeFromDescription();
        api.MapPost("/filter", (HttpContext context, [FromServices] SchedulerExtender extender) => Counted(context, ExtenderVerbs.Filter, () =>
            WithBody<ExtenderArgs>(context, async args =>
            {
                var result = await extender.FilterAsync(args, context.RequestAborted);
                return (Write(result), NullIfEmpty(result.Error));
            })));
        // HostPriorityList and ExtenderPreemptionResult have no error field: kube-scheduler takes an answer other than 200
        // as the extender's error (HTTPExtender.send).
        api.MapPost("/prioritize", (HttpContext context, [FromServices] SchedulerExtender extender) => Counted(context, ExtenderVerbs.Prioritize, () =>
            WithBody<ExtenderArgs>(context, args => Answer(() => extender.PrioritizeAsync(args, context.RequestAborted)))));
        api.MapPost("/preempt", (HttpContext context, [FromServices] SchedulerExtender extender) => Counted(context, ExtenderVerbs.Preempt, () =>
            WithBody<ExtenderPreemptionArgs>(context, args => Answer(() => extender.PreemptAsync(args, context.RequestAborted)))));
        api.MapPost("/bind", (HttpContext context, [FromServices] SchedulerExtender extender) => Counted(context, ExtenderVerbs.Bind, () =>
            WithBody<ExtenderBindingArgs>(context, async args =>
            {
                var result = await extender.BindAsync(args, context.RequestAborted);
                return (Write(result), NullIfEmpty(result.Error));
            })));
        return routes;
    }

    /// <summary>
    /// Answers a request and counts it in mas_extender_requests_total and mas_extender_request_duration_seconds; one that
    /// throws (a 500 or 503 from the problem handler, which logs it) counts as an error. An error answered is logged
    /// (<see cref="ExtenderErrorLog"/>).
    /// </summary>
    private static async Task<IResult> Counted(HttpContext context, string verb, Func<Task<(IResult Answer, string? Error)>> answer)
    {
        var started = Stopwatch.GetTimestamp();
        string? error = null;
        var answered = false;
        try
        {
            (var result, error) = await answer();
            answered = true;
            return result;
        }
        finally
        {
            Record(context, verb, started, answered && error is null, error);
        }
    }

    /// <summary>
    /// One request in mas_extender_requests_total and mas_extender_request_duration_seconds and, with an error, in the log
    /// (<see cref="ExtenderErrorLog"/>): every answer, those refused before the routes too (SecurityMiddleware).
    /// </summary>
    public static void Record(HttpContext context, string verb, long started, bool succeeded, string? error)
    {
        if (error is not null) context.RequestServices.GetRequiredService<ExtenderErrorLog>().Report(verb, error);
        MasMeters.RecordExtenderRequest(verb, succeeded, started);
    }

    /// <summary>A verb whose result has no error field: a request it cannot map is a 400, a model that cannot decide a 409.</summary>
    private static async Task<(IResult Answer, string? Error)> Answer<T>(Func<Task<T>> verb) where T : class
    {
        try
        {
            return (Write(await verb()), null);
        }
        catch (KubernetesMappingException e)
        {
            return (Problem(e.Message), e.Message);
        }
        catch (PolicyCannotDecideException e)
        {
            // As explain answers it: the request is sound, the service's model is not.
            return (Problems.Conflict(e.Message), e.Message);
        }
    }

    /// <summary>The verb's answer to its body, or a 400 saying what in the body is wrong (the Warning says it too).</summary>
    private static async Task<(IResult Answer, string? Error)> WithBody<T>(HttpContext context, Func<T, Task<(IResult Answer, string? Error)>> verb)
        where T : class
    {
        var (args, why) = await Read<T>(context);
        if (args is not null) return await verb(args);
        var error = $"the body must be kube-scheduler extender JSON: {why}";
        return (Problem(error), error);
    }

    private static string? NullIfEmpty(string? error) => string.IsNullOrEmpty(error) ? null : error;

    private static IResult Problem(string detail) => Problems.BadRequest(detail);

    /// <summary>The body as <typeparamref name="T"/>, or why it is not one, read as /k8s reads its bodies (<see cref="KubeApi.KubeJson.Decode{T}"/>).</summary>
    private static async Task<(T? Args, string? Why)> Read<T>(HttpContext context) where T : class
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<ExtenderOptions>>().Value.MaxRequestBodyBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit;
        using var reader = new StreamReader(context.Request.Body);
        var (args, _, why, _) = KubeApi.KubeJson.Decode<T>(await reader.ReadToEndAsync(context.RequestAborted));
        return (args, why);
    }

    private static IResult Write(object value) => Results.Text(KubernetesJson.Serialize(value), "application/json");
}
