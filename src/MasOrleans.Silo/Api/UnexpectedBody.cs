using Microsoft.AspNetCore.Http.Metadata;

namespace MasOrleans.Silo.Api;

/// <summary>
/// A REST route that reads no body refuses a request that sends one, with a 400 naming the route, as an unknown field or
/// query parameter is: `POST /api/v1/learning/ddqn/train` with {"epochs":5} trained with its defaults and answered 200,
/// as if the body had been read. Only POST, PUT and PATCH are checked: those are the methods whose body is the
/// request's content; a GET or DELETE body has no defined meaning (RFC 9110, 9.3.1 and 9.3.5) and is ignored, as
/// servers commonly do.
/// </summary>
internal static class UnexpectedBody
{
    public static async ValueTask<object?> Check(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var request = context.Request;
        // Minimal APIs describe a handler that binds a body with IAcceptsMetadata; an empty body (Content-Length: 0) is none.
        if (!(HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method))) return await next(invocation);
        var sendsBody = request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (!sendsBody || context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null) return await next(invocation);
        return Problems.BadRequest($"{request.Method} {request.Path} takes no body; send the request without one");
    }
}
