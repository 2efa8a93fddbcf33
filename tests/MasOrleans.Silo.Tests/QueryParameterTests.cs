using System.Net;
using System.Text;
using MasOrleans.Silo.Tests.Infrastructure;
using static MasOrleans.Silo.Tests.Infrastructure.Problems;

namespace MasOrleans.Silo.Tests;

/// <summary>A query parameter a REST route does not take is a 400 naming it and what the route takes, over real HTTP; nothing is done.</summary>
public sealed class QueryParameterTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    public void Dispose() => fixture.Host.Log.AssertClean();

    /// <summary>Before, each answered 200 as if the parameter were not there: every pod for a phase filter, 100 for a misspelt limit.</summary>
    [Theory]
    [InlineData("/api/v1/pods?phase=Running", "unknown query parameter 'phase': GET /api/v1/pods takes offset, limit, continue")]
    [InlineData("/api/v1/nodes?limt=5", "unknown query parameter 'limt': GET /api/v1/nodes takes offset, limit, continue")]
    [InlineData("/api/v1/pods?labelSelector=app%3Dweb&limit=5", "unknown query parameter 'labelSelector'")]
    [InlineData("/api/v1/cluster?verbose=true", "unknown query parameter 'verbose': GET /api/v1/cluster takes none")]
    // A route's own parameter is not taken from the query.
    [InlineData("/api/v1/pods/query-none?name=other", "unknown query parameter 'name': GET /api/v1/pods/query-none takes none")]
    public async Task An_unknown_query_parameter_is_a_400_naming_it(string url, string detail)
    {
        using var response = await fixture.Http.GetAsync(url);
        Assert.StartsWith(detail, (await Problem(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString());
    }

    /// <summary>
    /// An API key in the query string is not read (URLs are logged, docs/security.md): the 400 said only that the route
    /// takes no 'api_key', and the client was left to guess why its key did not count. It says where the key goes.
    /// </summary>
    [Theory]
    [InlineData("/api/v1/nodes?api_key=admin-key-0123456789abcdef", "api_key")]
    [InlineData("/api/v1/pods?limit=5&apiKey=admin-key-0123456789abcdef", "apiKey")]
    [InlineData("/api/v1/cluster?access_token=admin-key-0123456789abcdef", "access_token")]
    public async Task An_api_key_in_the_query_string_is_a_400_saying_to_send_it_in_the_header(string url, string name)
    {
        using var response = await fixture.Http.GetAsync(url);
        Assert.Equal($"query parameter '{name}' is not read: send the API key in the X-Api-Key header (or as Authorization: Bearer), not in the URL, which request logs record",
            (await Problem(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString());
    }

    /// <summary>
    /// A value a query parameter cannot take was answered with ASP.NET Core's words and C# type: `Failed to bind parameter
    /// "Nullable&lt;int&gt; limit" from "abc".` It is named as the body's values are (ValueKinds); a paging parameter by
    /// its own range, the one `?limit=0` is refused with (1 to 1000, README), not the int range it was given as.
    /// </summary>
    [Theory]
    [InlineData("GET", "/api/v1/pods?limit=abc", "limit must be between 1 and 1000, not 'abc'")]
    [InlineData("GET", "/api/v1/workloads?limit=abc", "limit must be between 1 and 1000, not 'abc'")]
    [InlineData("GET", "/api/v1/nodes?offset=1.5", "offset must be a whole number from 0 to 2147483647, not '1.5'")]
    [InlineData("GET", "/api/v1/pods?limit=99999999999", "limit must be between 1 and 1000, not '99999999999'")]
    [InlineData("GET", "/api/v1/nodes?limit=0", "limit must be between 1 and 1000")]
    [InlineData("GET", "/api/v1/nodes?offset=-1", "offset must be a whole number from 0 to 2147483647")]
    [InlineData("DELETE", "/api/v1/nodes/query-none?force=maybe", "query parameter 'force' must be true or false, not 'maybe'")]
    public async Task A_query_value_of_the_wrong_kind_is_a_400_in_the_api_words(string method, string url, string detail)
    {
        using var response = await fixture.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        Assert.Equal(detail, (await Problem(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_misspelt_force_is_refused_and_changes_nothing()
    {
        using var created = await fixture.Http.PostAsync("/api/v1/nodes", new StringContent("""{"name":"query-node","capacity":{"cpu":"1"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var delete = await fixture.Http.DeleteAsync("/api/v1/nodes/query-node?forse=true");
        Assert.Equal(HttpStatusCode.BadRequest, delete.StatusCode);
        Assert.Contains("unknown query parameter 'forse': DELETE /api/v1/nodes/query-node takes force", await delete.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/api/v1/nodes/query-node")).StatusCode);
        // The parameters a route takes still work, in any case as ASP.NET binds them.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/api/v1/pods?limit=2&continue=a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/api/v1/nodes?Limit=2&offset=0")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.DeleteAsync("/api/v1/nodes/query-node?force=true")).StatusCode);
    }
}
