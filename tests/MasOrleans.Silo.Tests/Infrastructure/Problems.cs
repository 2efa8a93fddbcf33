using System.Net;
using System.Text.Json;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>The problem details (RFC 9457) the REST surface refuses a request with.</summary>
public static class Problems
{
    /// <summary>The response's problem details, checked to be of this status: the HTTP code, the media type, the status field.</summary>
    public static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary><see cref="Problem"/>, whose detail holds <paramref name="detailPart"/>.</summary>
    public static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailPart) =>
        Assert.Contains(detailPart, (await Problem(response, status)).GetProperty("detail").GetString());
}
