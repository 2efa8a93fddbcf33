using MasOrleans.Silo.Hosting;
using Microsoft.AspNetCore.Connections;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests;

/// <summary>Which start-up failures the silo reports as the machine's (exit 69, one line) however they are wrapped.</summary>
public class StartupEnvironmentTests
{
    [Fact]
    public void A_port_taken_or_redis_lost_is_found_inside_the_hosts_and_orleans_wrappers()
    {
        var taken = new AddressInUseException("Address already in use");
        // Kestrel: IOException around it; the host or Orleans' lifecycle: an exception or an AggregateException around that.
        var wrapped = new InvalidOperationException("start failed", new AggregateException(new TimeoutException("other"), new IOException("Failed to bind", taken)));
        Assert.Equal(["a port is in use by another process: Address already in use"], StartupEnvironment.Of(wrapped));
        var redis = new RedisConnectionException(ConnectionFailureType.UnableToConnect, "no connection");
        Assert.Equal(["Redis stopped answering while the silo started (UnableToConnect)"], StartupEnvironment.Of(new AggregateException(redis)));
    }

    [Fact]
    public void Any_other_failure_is_not_the_machines_and_keeps_its_stack_trace()
    {
        Assert.Null(StartupEnvironment.Of(new InvalidOperationException("a defect", new ArgumentException("inner"))));
        Assert.Null(StartupEnvironment.Of(new AggregateException(new NullReferenceException())));
    }
}
