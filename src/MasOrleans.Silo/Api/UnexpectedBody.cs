using Microsoft.AspNetCore.Http.Metadata;

namespace MasOrleans.Silo.Api;

/// <summary>
/// A REST route that reads no body refuses a request that sends one, with a 400 naming the route, as an unknown field or
/// query parameter is: `POST /api/v1/learning/ddqn/train` with {"epochs":5} trained with its defaults and answered 200,
/// as if the body had been read.
/// </summary>
internal static class UnexpectedBody
{
    public static async ValueTask<object?> Check(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var request = context.Request;
        // Minimal APIs describe a handler that binds a body with IAcceptsMetadata; an empty body (Content-Length: 0) is none.
        var sendsBody = request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (!sendsBody || context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null) return await next(invocation);
        return Problems.BadRequest($"{request.Method} {request.Path} takes no body; send the request without one");
    }
}
