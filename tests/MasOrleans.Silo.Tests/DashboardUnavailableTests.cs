using MasOrleans.Silo.Observability;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// How the dashboard's outage filter logs (the 503 itself, end to end: DashboardFailoverTests). Driven directly: a defect
/// Orleans throws as an OrleansException, a sibling's graceful stop and a response already begun cannot be made on demand
/// in a cluster.
/// </summary>
public sealed class DashboardUnavailableTests
{
    [Fact]
    public async Task The_first_503_of_a_run_logs_its_exception()
    {
        // What Orleans throws for a defect (a grain interface without an invoker), which Outage.Is still takes as an outage.
        var defect = new OrleansException("Cannot find an invoker for GrainInterfaceType dashboard");
        var records = new RecordingLogger();
        var filter = new DashboardUnavailable(records, _ => false);

        var result = await filter.Filter(Context(new DefaultHttpContext()), _ => throw defect);

        Assert.Equal(503, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
        var record = Assert.Single(records.Records);
        Assert.Equal((LogLevel.Warning, 2310), (record.Level, record.Id.Id));
        Assert.Same(defect, record.Exception);
    }

    [Fact]
    public async Task A_call_a_siblings_stop_broke_is_Information()
    {
        var broken = new OrleansException("Silo 'S127.0.0.1:11111:1' is shutting down.");
        var records = new RecordingLogger();
        var filter = new DashboardUnavailable(records, e => ReferenceEquals(e, broken));

        var result = await filter.Filter(Context(new DefaultHttpContext()), _ => throw broken);

        Assert.Equal(503, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
        var record = Assert.Single(records.Records);
        Assert.Equal((LogLevel.Information, 2312), (record.Level, record.Id.Id));
    }

    [Fact]
    public async Task An_outage_after_the_response_began_is_not_answered_again()
    {
        var outage = new TimeoutException("dashboard grain call timed out");
        var http = new DefaultHttpContext();
        http.Features.Set<IHttpResponseFeature>(new StartedResponse());
        var records = new RecordingLogger();
        var filter = new DashboardUnavailable(records, _ => false);

        var thrown = await Assert.ThrowsAsync<TimeoutException>(async () => await filter.Filter(Context(http), _ => throw outage));

        Assert.Same(outage, thrown);
        Assert.Empty(records.Records);
    }

    private static EndpointFilterInvocationContext Context(HttpContext http) => new DefaultEndpointFilterInvocationContext(http);

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }

    private sealed class RecordingLogger : ILogger<DashboardUnavailable>
    {
        public List<(LogLevel Level, EventId Id, Exception? Exception)> Records { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Records.Add((logLevel, eventId, exception));
    }
}
