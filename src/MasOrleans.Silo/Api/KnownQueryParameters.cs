using System.Reflection;
using MasOrleans.Silo.Security;
using Microsoft.AspNetCore.Mvc;

namespace MasOrleans.Silo.Api;

/// <summary>
/// A query parameter a REST route does not take is a 400 naming it, as an unknown body field is: `GET /api/v1/pods?phase=Running`
/// answered every pod, and `?limt=5` the default page of 100, as if the filter or the limit had been applied.
/// </summary>
internal static class KnownQueryParameters
{
    /// <summary>An endpoint filter factory: the names a handler binds from the query are read once from its parameters.</summary>
    public static EndpointFilterDelegate Check(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var known = context.MethodInfo.GetParameters().Where(FromQuery).Select(NameOf).ToArray();
        return invocation =>
        {
            var request = invocation.HttpContext.Request;
            foreach (var key in request.Query.Keys)
            {
                // A parameter bound from the route takes nothing from the query, though its name is a handler parameter.
                if (known.Contains(key, StringComparer.OrdinalIgnoreCase) && !request.RouteValues.ContainsKey(key)) continue;
                if (IsApiKey(key))
                    return ValueTask.FromResult<object?>(Problems.BadRequest(
                        $"query parameter '{key}' is not read: send the API key in the {ApiKeyStore.Header} header (or as Authorization: Bearer), not in the URL, which request logs record"));
                var takes = known.Where(k => !request.RouteValues.ContainsKey(k)).ToList();
                return ValueTask.FromResult<object?>(Problems.BadRequest(
                    $"unknown query parameter '{key}': {request.Method} {request.Path} takes {(takes.Count == 0 ? "none" : string.Join(", ", takes))}"));
            }
            return next(invocation);
        };
    }

    /// <summary>
    /// A name a client may send an API key under (api_key, apiKey, x-api-key, access_token, token). Keys are read from
    /// headers only (docs/security.md): the answer says where the key goes rather than that the route takes no such name.
    /// </summary>
    private static bool IsApiKey(string name) =>
        name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() is "apikey" or "xapikey" or "accesstoken" or "token";

    /// <summary>What minimal APIs bind from the query (or the route): [FromQuery], or a plain value with no other source.</summary>
    private static bool FromQuery(ParameterInfo parameter)
    {
        if (parameter.GetCustomAttribute<FromQueryAttribute>() is not null) return true;
        if (parameter.GetCustomAttributes().Any(a => a is FromBodyAttribute or FromServicesAttribute or FromHeaderAttribute or FromFormAttribute or FromRouteAttribute)) return false;
        var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        return type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(decimal) || type == typeof(Guid);
    }

    private static string NameOf(ParameterInfo parameter) => parameter.GetCustomAttribute<FromQueryAttribute>()?.Name ?? parameter.Name!;
}
