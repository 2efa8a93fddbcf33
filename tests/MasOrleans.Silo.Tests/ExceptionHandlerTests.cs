using System.Net;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>The unified exception handler over real HTTP: domain errors become 4xx problems, anything else a 500 that leaks nothing.</summary>
public sealed class ExceptionHandlerTests : IAsyncLifetime
{
    private const string Secret = "connection string password=hunter2 at Internal.Type.Method";
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.AddMasProblemHandling();
        _app = builder.Build();
        _app.UseExceptionHandler();
        _app.MapGet("/bug", () => { throw new InvalidOperationException(Secret); });
        _app.MapGet("/quantity", () => { throw new FormatException("'12x' is not a valid quantity for cpu"); });
        _app.MapGet("/cluster", () => { throw new TimeoutException(Secret); });
        _app.MapGet("/redis", () => { throw new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.SocketClosed, Secret); });
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    [Theory]
    [InlineData("/bug", HttpStatusCode.InternalServerError, "unexpected error")]
    [InlineData("/quantity", HttpStatusCode.BadRequest, "'12x' is not a valid quantity for cpu")]
    [InlineData("/cluster", HttpStatusCode.ServiceUnavailable, "did not answer in time")]
    [InlineData("/redis", HttpStatusCode.ServiceUnavailable, "did not answer in time")]
    public async Task Exceptions_become_problem_details_without_internals(string path, HttpStatusCode status, string detail)
    {
        using var response = await _http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Json();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        Assert.DoesNotContain("hunter2", body);
        Assert.DoesNotContain("Internal.Type", body);
        Assert.DoesNotContain("Exception", body);
    }
}
