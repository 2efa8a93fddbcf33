using System.Net;
using MasOrleans.Silo.Observability;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The unified exception handler over real HTTP, set up as the silo sets it up: domain errors become 4xx problems,
/// anything else a 500 that leaks nothing; each 5xx is logged once, with its exception, and a 4xx not at all.
/// </summary>
public sealed class ExceptionHandlerTests : IAsyncLifetime
{
    private const string Secret = "connection string password=hunter2 at Internal.Type.Method";
    private readonly SiloLog _log = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(_log);
        builder.Services.AddProblemDetails();
        builder.Services.AddMasProblemHandling();
        // As the silo does: malformed input throws BadHttpRequestException, which the handler answers.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        _app = builder.Build();
        _app.UseMasProblemHandling();
        _app.MapGet("/bug", () => { throw new InvalidOperationException(Secret); });
        _app.MapGet("/quantity", () => { throw new FormatException("'12x' is not a valid quantity for cpu"); });
        _app.MapGet("/cluster", () => { throw new TimeoutException(Secret); });
        _app.MapPost("/json", (Dictionary<string, int> body) => body.Count);
        _app.MapGet("/orleans", () => { throw new Orleans.Runtime.OrleansException("Error from storage provider RedisGrainStorage.pod\n\nExc level 0: RedisTimeoutException\n   at Orleans.Storage.Read()"); });
        _app.MapGet("/redis", () => { throw new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.SocketClosed, Secret); });
        // What the Redis client throws for a command it cancelled on a connection it gave up on (a frozen Redis), met
        // by a request that did not ask for any cancellation.
        _app.MapGet("/redis-cancelled", () => { throw new TaskCanceledException(Secret); });
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// Each problem typed as ASP.NET Core types its own (ProblemDetailsDefaults, dotnet/aspnetcore
    /// src/Shared/ProblemDetails/ProblemDetailsDefaults.cs): RFC 9110's section of the status, 15.5.1 for 400, 15.6.1 for
    /// 500 and 15.6.4 for 503. The 500s and 503s were "about:blank".
    /// </summary>
    [Theory]
    [InlineData("/bug", HttpStatusCode.InternalServerError, "unexpected error", "15.6.1")]
    [InlineData("/quantity", HttpStatusCode.BadRequest, "'12x' is not a valid quantity for cpu", "15.5.1")]
    [InlineData("/cluster", HttpStatusCode.ServiceUnavailable, "did not answer in time", "15.6.4")]
    [InlineData("/redis", HttpStatusCode.ServiceUnavailable, "did not answer in time", "15.6.4")]
    [InlineData("/redis-cancelled", HttpStatusCode.ServiceUnavailable, "did not answer in time", "15.6.4")]
    public async Task Exceptions_become_problem_details_without_internals(string path, HttpStatusCode status, string detail, string section)
    {
        using var response = await _http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Json();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        Assert.Equal($"https://tools.ietf.org/html/rfc9110#section-{section}", problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        Assert.DoesNotContain("hunter2", body);
        Assert.DoesNotContain("Internal.Type", body);
        Assert.DoesNotContain("Exception", body);
    }

    [Theory]
    [InlineData("/bug", typeof(InvalidOperationException))]
    [InlineData("/cluster", typeof(TimeoutException))]
    public async Task A_server_error_is_logged_once_with_its_exception_and_trace_id(string path, Type exception)
    {
        using var response = await _http.GetAsync(path);
        var traceId = (await response.Json()).GetProperty("traceId").GetString()!;

        var record = Assert.Single(_log.Records);
        Assert.Equal(LogLevel.Error, record.Level);
        Assert.Equal(typeof(ProblemExceptionHandler).FullName, record.Category);
        Assert.IsType(exception, record.Exception);
        Assert.Contains($"GET {path}", record.Message);
        Assert.Contains(traceId, record.Message);
    }

    /// <summary>
    /// An outage's 503s (Redis or a silo not answering, every request meeting it): the first with its exception, the
    /// rest one line each that still names its trace id, not a stack per request.
    /// </summary>
    [Fact]
    public async Task An_outage_is_logged_with_its_exception_once_and_each_further_503_as_one_line_with_its_trace_id()
    {
        var traceIds = new List<string>();
        foreach (var path in new[] { "/cluster", "/redis", "/orleans", "/redis" })
        {
            using var response = await _http.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            traceIds.Add((await response.Json()).GetProperty("traceId").GetString()!);
        }

        var records = _log.Records;
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.Equal(typeof(ProblemExceptionHandler).FullName, r.Category));
        Assert.IsType<TimeoutException>(Assert.Single(records, r => r.Exception is not null).Exception);
        Assert.Equal(LogLevel.Error, records[0].Level);
        for (var i = 1; i < records.Count; i++)
        {
            Assert.Equal(LogLevel.Warning, records[i].Level);
            Assert.Contains(traceIds[i], records[i].Message);
            Assert.DoesNotContain('\n', records[i].Message);
        }
        Assert.Contains("RedisConnectionException", records[1].Message);
        // Orleans' storage exceptions carry their inner stacks in their message: only its first line.
        Assert.Contains("OrleansException: Error from storage provider RedisGrainStorage.pod;", records[2].Message);
        // A defect in the middle of an outage still gets its stack.
        using (await _http.GetAsync("/bug")) { }
        Assert.IsType<InvalidOperationException>(_log.Records[^1].Exception);
    }

    [Fact]
    public async Task A_client_error_is_answered_but_not_logged()
    {
        using var quantity = await _http.GetAsync("/quantity");
        using var json = await _http.PostAsync("/json", new StringContent("{\"cpu\": ", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, quantity.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Equal("application/problem+json", json.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_log.Records);
    }

    /// <summary>A cancellation is an outage only when the caller's own token did not ask for it (a request aborted, a host stopping).</summary>
    [Fact]
    public void A_cancellation_is_an_outage_only_when_the_caller_did_not_ask_for_it()
    {
        using var asked = new CancellationTokenSource();
        using var unasked = new CancellationTokenSource();
        asked.Cancel();
        Assert.True(Outage.Is(new TaskCanceledException(), CancellationToken.None));
        Assert.True(Outage.Is(new OperationCanceledException(), unasked.Token));
        Assert.False(Outage.Is(new TaskCanceledException(), asked.Token));
        Assert.False(Outage.Is(new OperationCanceledException(asked.Token), asked.Token));
        Assert.False(Outage.Is(new InvalidOperationException(), CancellationToken.None));
    }

    /// <summary>
    /// The Redis client, tearing down a connection under a call in a frozen Redis, failed it with its pipe's own
    /// InvalidOperationException (HealthTests' frozen Redis, session 41): an outage. The same exception thrown outside the
    /// client (a Kestrel body reader used after it completed, say) is a defect, as is another InvalidOperationException.
    /// The client's path here is its script parameter mapper reading a value that reads a completed pipe, then a task's
    /// await: the frozen connection's own path (the client's read loop failing the waiting call) is HealthTests'.
    /// </summary>
    [Fact]
    public async Task A_pipe_completed_under_its_reader_is_an_outage_only_through_the_redis_client()
    {
        var outside = Assert.Throws<InvalidOperationException>(() => CompletedPipeParameters.ReadCompletedPipe());
        var script = StackExchange.Redis.LuaScript.Prepare("return @Value");
        // The parameters are read before the database is used.
        var throughClient = await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(() => script.EvaluateAsync(null!, new CompletedPipeParameters())));

        Assert.Equal("System.IO.Pipelines", outside.Source);
        Assert.Equal("System.IO.Pipelines", throughClient.Source);
        Assert.Contains(" StackExchange.Redis.LuaScript.", throughClient.StackTrace);
        Assert.True(Outage.Is(throughClient, CancellationToken.None));
        Assert.False(Outage.Is(outside, CancellationToken.None));
        Assert.False(Outage.Is(new InvalidOperationException(outside.Message), CancellationToken.None));
    }

    private sealed class CompletedPipeParameters
    {
        public string Value => ReadCompletedPipe();

        public static string ReadCompletedPipe()
        {
            var pipe = new System.IO.Pipelines.Pipe();
            pipe.Reader.Complete();
            pipe.Reader.TryRead(out _);
            return "unreachable: a completed reader throws";
        }
    }

    /// <summary>
    /// The Redis reminder table wraps every failure as a RedisRemindersException whose message is "{Type}: {Message}" and
    /// has no inner exception (Orleans.Reminders.Redis, Storage/RedisReminderTable.cs): a bad row's parse error was an
    /// outage too, a 503 "retry shortly" forever. Only a message naming a Redis, timeout or cancellation type is one.
    /// </summary>
    [Fact]
    public void A_reminder_table_failure_is_an_outage_only_when_it_names_redis_a_timeout_or_a_cancellation()
    {
        Assert.False(Outage.Is(new Orleans.Reminders.Redis.RedisRemindersException("System.FormatException: The input string 'x' was not in a correct format."), CancellationToken.None));
        Assert.False(Outage.Is(new Orleans.Reminders.Redis.RedisRemindersException("System.NullReferenceException: Object reference not set to an instance of an object."), CancellationToken.None));
        Assert.True(Outage.Is(new Orleans.Reminders.Redis.RedisRemindersException("StackExchange.Redis.RedisConnectionException: No connection is active/available to service this operation"), CancellationToken.None));
        Assert.True(Outage.Is(new Orleans.Reminders.Redis.RedisRemindersException("StackExchange.Redis.RedisTimeoutException: Timeout awaiting response"), CancellationToken.None));
        Assert.True(Outage.Is(new Orleans.Reminders.Redis.RedisRemindersException("System.TimeoutException: The operation has timed out."), CancellationToken.None));
        Assert.True(Outage.Is(new Orleans.Reminders.Redis.RedisRemindersException("System.Threading.Tasks.TaskCanceledException: A task was canceled."), CancellationToken.None));
    }
}
