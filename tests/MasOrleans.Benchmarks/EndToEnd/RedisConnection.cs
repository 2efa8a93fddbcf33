using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// A minimal RESP client for the few commands the benchmark sends to its redis-server (FLUSHALL, INFO, COMMAND INFO,
/// HGETALL): the benchmark does not reference StackExchange.Redis (it would pull the silo's dependency graph in).
/// Replies: simple and bulk strings as string, integers as long, arrays as object?[], nil as null.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly BufferedStream _stream;

    public RedisConnection(int port)
    {
        _client = new TcpClient("127.0.0.1", port) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        _stream = new BufferedStream(_client.GetStream());
    }

    public object? Execute(params string[] args)
    {
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args) request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        _stream.Write(Encoding.UTF8.GetBytes(request.ToString()));
        _stream.Flush();
        return ReadReply();
    }

    /// <summary>The calls of every command in INFO commandstats (subcommands as "config|resetstat").</summary>
    public Dictionary<string, long> CommandCalls()
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        var info = (string)Execute("INFO", "commandstats")!;
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries))
        {
            // cmdstat_hset:calls=1,usec=16,...
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':');
            var fields = line[(colon + 1)..].Split(',');
            var count = fields.First(f => f.StartsWith("calls=", StringComparison.Ordinal))[6..];
            calls[line[8..colon]] = long.Parse(count, CultureInfo.InvariantCulture);
        }
        return calls;
    }

    /// <summary>Whether Redis flags the command "write" (COMMAND INFO); scripts (eval, evalsha) are not, their inner commands are.</summary>
    public bool IsWriteCommand(string command)
    {
        if (command.Contains('|')) return false; // subcommands are admin commands here (config|resetstat, client|setname)
        if (Execute("COMMAND", "INFO", command) is not object?[] { Length: 1 } reply || reply[0] is not object?[] details) return false;
        return details[2] is object?[] flags && flags.Contains("write");
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }

    private object? ReadReply()
    {
        var prefix = _stream.ReadByte();
        var line = ReadLine();
        switch (prefix)
        {
            case '+': return line;
            case '-': throw new InvalidOperationException($"redis: {line}");
            case ':': return long.Parse(line, CultureInfo.InvariantCulture);
            case '$':
            {
                var length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0) return null;
                var buffer = new byte[length + 2];
                _stream.ReadExactly(buffer);
                return Encoding.UTF8.GetString(buffer, 0, length);
            }
            case '*':
            {
                var count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0) return null;
                var items = new object?[count];
                for (var i = 0; i < count; i++) items[i] = ReadReply();
                return items;
            }
            case -1: throw new IOException("redis closed the connection");
            default: throw new InvalidOperationException($"unexpected RESP prefix '{(char)prefix}'");
        }
    }

    private string ReadLine()
    {
        var line = new StringBuilder();
        int b;
        while ((b = _stream.ReadByte()) != '\n')
        {
            if (b < 0) throw new IOException("redis closed the connection");
            if (b != '\r') line.Append((char)b);
        }
        return line.ToString();
    }
}
