using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// The fixed-rate generator's loop, on one thread: request i goes to silo i mod N at start + i / rate (up to a
/// millisecond early, the poll's resolution), on a free connection of that silo, and waits there for a free one when
/// none is; between sends the thread polls the connections that wait for an answer. One thread that wakes for a due
/// request or an answer, as wrk's event loop does, instead of a timer, a pool thread and the socket engine's thread per
/// request: the generator shares the silos' two cores, and the issue allows it a tenth of one. A request's latency runs
/// from its scheduled time (or its send, when that was earlier), so time spent waiting for a free connection counts.
/// </summary>
public sealed class FixedRateSchedule(byte[][] requests, int silos, double rate)
{
    private static readonly long Early = Stopwatch.Frequency / 1000;
    private static readonly long TimeoutCheckInterval = Stopwatch.Frequency;

    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>Per request answered, ms from its scheduled time (or its send, if earlier) to its answer; NaN if none came.</summary>
    public double[] Latencies { get; } = new double[requests.Length];
    public int Accepted { get; private set; }
    /// <summary>Answered other than 202, or not answered at all (<see cref="Lane.Unanswered"/>).</summary>
    public int Failed { get; private set; }
    public int Answered => Accepted + Failed;
    /// <summary>How many answers had each status code (0: none came).</summary>
    public Dictionary<int, int> Statuses { get; } = [];

    public void Run(IReadOnlyList<Lane> lanes)
    {
        // First in, first out: every connection is used in turn, so none sits idle long enough for the server to close it.
        var idle = Enumerable.Range(0, silos).Select(s => new Queue<Lane>(lanes.Where(l => l.Index == s))).ToArray();
        if (idle.Any(s => s.Count == 0)) throw new ArgumentException("every silo needs a connection", nameof(lanes));
        var waiting = Enumerable.Range(0, silos).Select(_ => new Queue<int>()).ToArray();
        var busy = new Dictionary<Socket, Lane>();
        var readable = new List<Socket>();
        var overdue = new List<Lane>();
        var timeoutChecked = _start;
        var next = 0;
        while (Answered < requests.Length)
        {
            var now = Stopwatch.GetTimestamp();
            for (; next < requests.Length && Due(next) - Early <= now; next++) waiting[next % silos].Enqueue(next);
            for (var s = 0; s < silos; s++)
                while (waiting[s].Count > 0 && idle[s].TryDequeue(out var lane))
                {
                    var request = waiting[s].Dequeue();
                    if (lane.TrySend(request, requests[request])) busy.Add(lane.Socket, lane);
                    else
                    {
                        Finish(lane, 0, Stopwatch.GetTimestamp());
                        idle[s].Enqueue(lane);
                    }
                }
            if (Answered == requests.Length) break;

            // Whole milliseconds (the poll's unit), rounded up: at least one, so the loop never spins.
            var waitMs = next < requests.Length ? (int)Math.Clamp((Due(next) - now - 1) / Early, 1, 1000) : 1000;
            if (busy.Count == 0)
            {
                Thread.Sleep(waitMs);
                continue;
            }
            readable.Clear();
            readable.AddRange(busy.Keys);
            Socket.Select(readable, null, null, waitMs * 1000);
            now = Stopwatch.GetTimestamp();
            foreach (var socket in readable)
            {
                var lane = busy[socket];
                if (lane.Receive() is not { } status) continue;
                busy.Remove(socket);
                Finish(lane, status, now);
                idle[lane.Index].Enqueue(lane);
            }

            if (now - timeoutChecked < TimeoutCheckInterval) continue;
            timeoutChecked = now;
            overdue.Clear();
            overdue.AddRange(busy.Values.Where(l => now - l.SentAt > Lane.RequestTimeout.TotalSeconds * Stopwatch.Frequency));
            foreach (var lane in overdue)
            {
                busy.Remove(lane.Socket);
                lane.Drop();
                Finish(lane, 0, now);
                idle[lane.Index].Enqueue(lane);
            }
        }
    }

    private long Due(int request) => _start + (long)(request / rate * Stopwatch.Frequency);

    private void Finish(Lane lane, int status, long now)
    {
        var from = Math.Min(Due(lane.Request), lane.SentAt);
        Latencies[lane.Request] = status == 0 ? double.NaN : (now - from) * 1000.0 / Stopwatch.Frequency;
        Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
        if (status == (int)HttpStatusCode.Accepted) Accepted++;
        else Failed++;
    }
}

/// <summary>
/// One connection to one silo, opened again after an answer that closes it or a POST that got no answer (counted, as
/// wrk counts socket errors and timeouts, instead of ending the pass).
/// </summary>
public sealed class Lane(int index, Uri silo) : IDisposable
{
    /// <summary>As wrk's --timeout in the maximum-rate pass.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private RawHttpConnection? _connection;

    /// <summary>The silo's number.</summary>
    public int Index => index;
    /// <summary>The open connection's socket (valid while a request is out).</summary>
    public Socket Socket => _connection!.Socket;
    /// <summary>The request out, and when it was sent.</summary>
    public int Request { get; private set; } = -1;
    public long SentAt { get; private set; }
    public int Unanswered { get; private set; }

    public void Open() => _connection ??= RawHttpConnection.Connect(silo);

    /// <summary>Sends <paramref name="bytes"/> as request <paramref name="request"/>; false (counted) when the connection failed.</summary>
    public bool TrySend(int request, byte[] bytes)
    {
        Request = request;
        try
        {
            if (_connection is { IsClosing: true }) Drop(count: false);
            Open();
            SentAt = Stopwatch.GetTimestamp();
            _connection!.Send(bytes);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            Drop();
            return false;
        }
    }

    /// <summary>
    /// The answer's status when it is whole, 0 when the connection failed (counted), null while more is to come. An
    /// answer that is not HTTP as expected (<see cref="InvalidDataException"/>) is not caught: it ends the generator
    /// with its message, since it is a defect of the silo or of the parser, not a lost connection.
    /// </summary>
    public int? Receive()
    {
        try
        {
            return _connection!.Receive();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            Drop();
            return 0;
        }
    }

    /// <summary>Closes the connection (the next send opens another); counts the request out as unanswered.</summary>
    public void Drop(bool count = true)
    {
        if (count) Unanswered++;
        _connection?.Dispose();
        _connection = null;
    }

    public void Dispose() => _connection?.Dispose();
}
