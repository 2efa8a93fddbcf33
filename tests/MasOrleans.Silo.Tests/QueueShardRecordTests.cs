using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The queue shard count's record on a real redis-server, one record per silo process as <see cref="QueueShardRecord"/>
/// claims it at start: Redis judges who is last (a silo's own membership view missed siblings still joining, so a silo
/// that was not the last deleted the record), a killed silo's lease lapses, a renewal runs from the claim on (not from the
/// join, minutes later), and an outage or a mismatch is logged once, not every period. The clock of the leases is Redis';
/// tests that turn it pass their own.
/// </summary>
public sealed class QueueShardRecordTests : IDisposable
{
    private const string Service = "record-test";
    private readonly RedisServer _redis = RedisServer.Start();
    private readonly SetClock _clock = new();

    public void Dispose()
    {
        _db?.Dispose();
        _redis.Dispose();
    }

    private sealed class SetClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch.AddDays(20000);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    // A short timeout, so a renewal during the outage fails in a second rather than the client's default 5 s.
    private ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect($"{_redis.ConnectionString},asyncTimeout=1000,syncTimeout=1000");

    private async Task<QueueShardRecord> Claim(int count, bool renew = false, TimeProvider? clock = null)
    {
        var (record, recorded) = await QueueShardRecord.ClaimAsync(Connect(), Service, count, clock ?? _clock, renew, leaseClock: clock is null ? _clock : null);
        Assert.True(record is not null, $"the claim of {count} was refused: {recorded} is recorded");
        return record;
    }

    private async Task<string?> Refused(int count)
    {
        var redis = Connect();
        var (record, recorded) = await QueueShardRecord.ClaimAsync(redis, Service, count, _clock, renew: false, leaseClock: _clock);
        Assert.Null(record);
        redis.Dispose();
        return recorded;
    }

    private IDatabase Db => (_db ??= ConnectionMultiplexer.Connect(_redis.ConnectionString)).GetDatabase();
    private ConnectionMultiplexer? _db;

    [Fact]
    public async Task The_record_goes_with_the_last_silo_stopping_not_with_the_first()
    {
        using var first = await Claim(4);
        using var second = await Claim(4);
        var db = Db;

        await first.StopAsync(CancellationToken.None);
        Assert.True(await db.KeyExistsAsync(QueueShardRecord.Key(Service)));
        Assert.Equal(1, await db.SortedSetLengthAsync(QueueShardRecord.MembersKey(Service)));
        Assert.Equal("4", await Refused(8));

        await second.StopAsync(CancellationToken.None);
        Assert.False(await db.KeyExistsAsync(QueueShardRecord.Key(Service)));
        Assert.False(await db.KeyExistsAsync(QueueShardRecord.MembersKey(Service)));
        using var changed = await Claim(8);
    }

    [Fact]
    public async Task A_stop_whose_graceful_time_is_up_still_releases()
    {
        // Orleans stops first and can use all of the host's graceful time: the token the record gets is then cancelled.
        // The script may reach Redis either way; what a stop that gives up on it leaves is Warning 2010 and a lease to lapse.
        using var log = new SiloLog(LogLevel.Information);
        var record = await Claim(4);
        record.Logger = log.CreateLogger(typeof(QueueShardRecord).FullName!);
        await record.StopAsync(new CancellationToken(canceled: true));
        Assert.Empty(log.Records);
        Assert.False(await Db.KeyExistsAsync(QueueShardRecord.Key(Service)), "the last silo's stop left the count recorded");
        Assert.False(await Db.KeyExistsAsync(QueueShardRecord.MembersKey(Service)));
    }

    [Fact]
    public async Task A_killed_silos_lease_lapses_and_a_sibling_stopping_then_forgets_the_record()
    {
        var killed = await Claim(4);
        killed.Dispose();
        using var running = await Claim(4);

        // Within the lease of the killed one the count holds; after it, the running silo's lease alone holds it.
        _clock.Now += QueueShardRecord.Lease - TimeSpan.FromSeconds(1);
        Assert.Equal("4", await Refused(8));
        await running.RenewOnceAsync();
        _clock.Now += TimeSpan.FromSeconds(2);
        Assert.Equal("4", await Refused(8));
        await running.StopAsync(CancellationToken.None);
        Assert.False(await Db.KeyExistsAsync(QueueShardRecord.Key(Service)));

        // Killed alone: the next claim of another count waits for the lease, not longer.
        var alone = await Claim(4);
        alone.Dispose();
        _clock.Now += QueueShardRecord.Lease - TimeSpan.FromMilliseconds(1);
        Assert.Equal("4", await Refused(8));
        _clock.Now += TimeSpan.FromMilliseconds(1);
        using var changed = await Claim(8);
    }

    /// <summary>Renewed from the claim on, by the record's own loop, on the real clock: before any host starts.</summary>
    [Fact]
    public async Task The_lease_is_renewed_from_the_claim_on()
    {
        using var record = await Claim(4, renew: true, clock: TimeProvider.System);
        var db = Db;
        var claimed = (await db.SortedSetRangeByRankWithScoresAsync(QueueShardRecord.MembersKey(Service)))[0].Score;
        // Waits on Redis' state: the first renewal is one period after the claim.
        var deadline = DateTime.UtcNow + QueueShardRecord.RenewPeriod * 6;
        while ((await db.SortedSetRangeByRankWithScoresAsync(QueueShardRecord.MembersKey(Service)))[0].Score == claimed)
        {
            Assert.True(DateTime.UtcNow < deadline, "the lease was not renewed after the claim");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task An_outage_and_a_mismatch_are_logged_once_each_not_every_period()
    {
        using var log = new SiloLog(LogLevel.Information);
        using var record = await Claim(4);
        record.Logger = log.CreateLogger(typeof(QueueShardRecord).FullName!);

        _redis.Crash();
        for (var i = 0; i < 3; i++) await record.RenewOnceAsync();
        Assert.Equal([2008], log.Records.Select(r => r.EventId));
        _redis.Restart();
        // Waits on the client's reconnection, renewing each period as the loop would: misses meanwhile are not logged again.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (log.Records.Count == 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the client did not reconnect to the restarted redis-server");
            await record.RenewOnceAsync();
        }
        await record.RenewOnceAsync();
        Assert.Equal([2008, 2011], log.Records.Select(r => r.EventId));

        // This silo's lease lapsed (an outage longer than it) and a silo with another count started meanwhile.
        _clock.Now += QueueShardRecord.Lease;
        using var other = await Claim(8);
        for (var i = 0; i < 3; i++) await record.RenewOnceAsync();
        Assert.Equal([2008, 2011, 2009], log.Records.Select(r => r.EventId));
        Assert.Equal(LogLevel.Error, log.Records[^1].Level);
    }

    /// <summary>
    /// The record renews from the claim on, and gets the host's logging only as the host starts: an outage a renewal found
    /// before was logged to nothing, and being logged once, it was not logged again until a renewal succeeded.
    /// </summary>
    [Fact]
    public async Task An_outage_found_before_the_hosts_logging_is_logged_by_the_next_renewal()
    {
        using var log = new SiloLog(LogLevel.Information);
        using var record = await Claim(4);

        _redis.Crash();
        await record.RenewOnceAsync();
        record.Logger = log.CreateLogger(typeof(QueueShardRecord).FullName!);
        Assert.Empty(log.Records);
        for (var i = 0; i < 2; i++) await record.RenewOnceAsync();
        Assert.Equal([2008], log.Records.Select(r => r.EventId));
    }

    /// <summary>As the outage above: a mismatch found before the host's logging is logged (Error 2009) by the next renewal.</summary>
    [Fact]
    public async Task A_mismatch_found_before_the_hosts_logging_is_logged_by_the_next_renewal()
    {
        using var log = new SiloLog(LogLevel.Information);
        using var record = await Claim(4);

        // This silo's lease lapsed and a silo with another count started meanwhile.
        _clock.Now += QueueShardRecord.Lease;
        using var other = await Claim(8);
        await record.RenewOnceAsync();
        record.Logger = log.CreateLogger(typeof(QueueShardRecord).FullName!);
        Assert.Empty(log.Records);
        for (var i = 0; i < 2; i++) await record.RenewOnceAsync();
        Assert.Equal([(2009, LogLevel.Error)], log.Records.Select(r => (r.EventId, r.Level)));
    }

    /// <summary>
    /// The lease's time is Redis', not the silo's: a silo whose clock ran 2 min ahead pruned a sibling's live lease with its
    /// own clock and recorded its other count.
    /// </summary>
    [Fact]
    public async Task A_silo_whose_clock_runs_ahead_does_not_prune_a_live_lease()
    {
        using var running = await Claim(4, clock: TimeProvider.System);
        var redis = Connect();
        var ahead = new SetClock { Now = DateTimeOffset.UtcNow + QueueShardRecord.Lease * 2 };
        var (record, recorded) = await QueueShardRecord.ClaimAsync(redis, Service, 8, ahead, renew: false);
        record?.Dispose();
        if (record is null) redis.Dispose();
        Assert.Equal("4", recorded);
        Assert.Equal(1, await Db.SortedSetLengthAsync(QueueShardRecord.MembersKey(Service)));
    }

    /// <summary>
    /// A renewal that fails with something else than Redis (here the log sink, once) is an Error and the loop renews on: it
    /// ended without a word (the lease lapsed), and the stop rethrew it before the release.
    /// </summary>
    [Fact]
    public async Task A_renewal_that_fails_otherwise_is_an_error_and_the_loop_renews_on()
    {
        using var log = new SiloLog(LogLevel.Information);
        var (record, _) = await QueueShardRecord.ClaimAsync(Connect(), Service, 4, new HundredfoldTimers(), renew: true);
        using var claimed = record;
        record!.Logger = new FailsOnce(log.CreateLogger(typeof(QueueShardRecord).FullName!));

        // An outage: the renewal's first log (2008) throws, then the next renewal logs it.
        _redis.Crash();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!log.Records.Any(r => r.EventId == 2008))
        {
            Assert.True(DateTime.UtcNow < deadline, "the loop did not renew after the failure");
            await Task.Delay(50);
        }
        Assert.Equal([2012, 2008], log.Records.Select(r => r.EventId).Take(2));
        Assert.Equal(LogLevel.Error, log.Records[0].Level);
        // The release runs (and fails on the crashed Redis, 2010) rather than the stop rethrowing the renewal's failure.
        await record.StopAsync(CancellationToken.None);
        Assert.Equal(2010, log.Records[^1].EventId);
    }

    /// <summary>
    /// A renewal whose call fails with what is no outage (here the lease clock a test passes, inside the call) is Error 2012,
    /// once until a renewal succeeds (2011): any exception of the call was Information 2008, which no log check sees, and a
    /// defect every period was an Error every 10 s.
    /// </summary>
    [Fact]
    public async Task A_renewal_failing_other_than_by_an_outage_is_one_error_until_it_renews()
    {
        using var log = new SiloLog(LogLevel.Information);
        var clock = new FailingClock { Now = _clock.Now };
        var (record, _) = await QueueShardRecord.ClaimAsync(Connect(), Service, 4, new HundredfoldTimers(), renew: true, leaseClock: clock);
        using var claimed = record;
        record!.Logger = log.CreateLogger(typeof(QueueShardRecord).FullName!);

        clock.Failing = true;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (clock.Failures < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the loop did not renew three times");
            await Task.Delay(50);
        }
        Assert.Equal([(2012, LogLevel.Error)], log.Records.Select(r => (r.EventId, r.Level)));
        Assert.Equal("the lease clock failed", log.Records[0].Exception?.Message);

        clock.Failing = false;
        while (!log.Records.Any(r => r.EventId == 2011))
        {
            Assert.True(DateTime.UtcNow < deadline, "the loop did not renew after the failure");
            await Task.Delay(50);
        }
        Assert.Equal([2012, 2011], log.Records.Select(r => r.EventId));
    }

    private sealed class FailingClock : TimeProvider
    {
        private int _failures;
        public DateTimeOffset Now { get; init; }
        public volatile bool Failing;
        public int Failures => Volatile.Read(ref _failures);

        public override DateTimeOffset GetUtcNow()
        {
            if (!Failing) return Now;
            Interlocked.Increment(ref _failures);
            throw new InvalidOperationException("the lease clock failed");
        }
    }

    /// <summary>Timers a hundred times faster than asked: the renewal loop's 10 s period in 100 ms.</summary>
    private sealed class HundredfoldTimers : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, dueTime / 100, period / 100);
    }

    private sealed class FailsOnce(ILogger inner) : ILogger
    {
        private int _failed;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);
        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (Interlocked.Exchange(ref _failed, 1) == 0) throw new InvalidOperationException("the log sink failed");
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>
    /// The silo's record stops after Orleans (hosted services stop in reverse order of registration): it released first, so a
    /// silo of another count could claim and join while the last silo still deactivated its grains (up to ~15 s).
    /// </summary>
    [Fact]
    public async Task The_silos_record_is_released_after_orleans_has_stopped()
    {
        string[] args = ["--Storage:Provider", "redis", "--Redis:ConnectionString", _redis.ConnectionString, "--Orleans:ServiceId", Service,
            "--Orleans:SiloPort", $"{FreePorts.Next()}", "--Orleans:GatewayPort", $"{FreePorts.Next()}", "--urls", $"http://127.0.0.1:{FreePorts.Next()}"];
        await using var app = SiloApp.Build(args);
        var started = app.Services.GetServices<IHostedService>().Select(s => s.GetType().FullName).ToList();
        var record = started.IndexOf(typeof(QueueShardRecord).FullName);
        var orleans = started.IndexOf("Orleans.Hosting.SiloHostedService");
        Assert.True(record >= 0 && orleans >= 0, string.Join(", ", started));
        Assert.True(record < orleans, $"the record starts at {record}, Orleans at {orleans}: the record stops first");
        Assert.True(await Db.KeyExistsAsync(QueueShardRecord.Key(Service)));
    }

    /// <summary>
    /// A start that fails after the claim (here the last changes to the builder) disposes the record: its connection stayed
    /// open, renewing the lease of a silo that never started until the process ended.
    /// </summary>
    [Fact]
    public async Task A_start_that_fails_after_the_claim_closes_the_records_connection()
    {
        var clients = (await Db.ExecuteAsync("CLIENT", "LIST")).ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        string[] args = ["--Storage:Provider", "redis", "--Redis:ConnectionString", _redis.ConnectionString, "--Orleans:ServiceId", Service,
            "--Orleans:SiloPort", $"{FreePorts.Next()}", "--Orleans:GatewayPort", $"{FreePorts.Next()}", "--urls", $"http://127.0.0.1:{FreePorts.Next()}"];
        Assert.Throws<InvalidOperationException>(() => SiloApp.Build(args, _ => throw new InvalidOperationException("a failed configure")));
        Assert.True(await Db.KeyExistsAsync(QueueShardRecord.Key(Service)), "the record was not claimed");
        // Waits on redis-server noticing the closed connections (the same number of clients as before the start).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int now;
        while ((now = (await Db.ExecuteAsync("CLIENT", "LIST")).ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length) != clients)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{now} clients, {clients} before the start: the record's connection is open");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// A Redis that fails the claim (nothing on the port; abortConnect=false let the connection "succeed" and the script time
    /// out, a RedisTimeoutException the start printed with its stack trace, exit 70) is the machine's: exit 69, one line.
    /// </summary>
    [Fact]
    public void A_redis_failure_while_claiming_is_unavailable_on_one_line()
    {
        var closed = FreePorts.Next();
        var config = new ConfigurationBuilder().Build();
        var connection = $"127.0.0.1:{closed},abortConnect=false,connectTimeout=500,syncTimeout=500,asyncTimeout=500";
        var e = Assert.Throws<StartupUnavailableException>(() => QueueShardRecord.Claim(config, ConnectionMultiplexer.Connect(connection), connection));
        var problem = Assert.Single(e.Problems);
        Assert.StartsWith($"Redis at 127.0.0.1:{closed} failed as the silo recorded its queue shard count (", problem);
        Assert.DoesNotContain('\n', problem);
        Assert.NotNull(StartupEnvironment.Of(new AggregateException(new RedisTimeoutException("Timeout awaiting response", CommandStatus.Sent))));
    }
}
