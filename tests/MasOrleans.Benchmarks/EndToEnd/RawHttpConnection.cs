using System.Buffers.Text;
using System.Net.Sockets;
using System.Text;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the fixed-rate generator, on a non-blocking socket that the generator's single
/// thread polls with the others (as wrk does with epoll): a request goes out as one buffer, and an answer is read as it
/// arrives until its end (Content-Length or chunked) is in. It replaced HttpClient, and then the socket engine's
/// asynchronous calls, in the fixed-rate generator, which shares the silos' two cores (docs/benchmarks.md, sessions 19
/// and 20).
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private const int MaxAnswerBytes = 1 << 20;
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);

    private byte[] _buffer = new byte[16 * 1024];
    private int _end;

    private RawHttpConnection(Socket socket) => Socket = socket;

    /// <summary>For <see cref="System.Net.Sockets.Socket.Select"/>; the connection does its own reads and writes.</summary>
    public Socket Socket { get; }

    /// <summary>The last answer said "Connection: close": the server closes this connection, so the next request needs another.</summary>
    public bool IsClosing { get; private set; }

    public static RawHttpConnection Connect(Uri server)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Connect(server.Host, server.Port);
            socket.Blocking = false;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new RawHttpConnection(socket);
    }

    /// <summary>The bytes of a POST of <paramref name="json"/> to <paramref name="path"/> on <paramref name="server"/>.</summary>
    public static byte[] Post(Uri server, string path, string json) =>
        Encoding.UTF8.GetBytes($"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(json)}\r\n\r\n{json}");

    /// <summary>The bytes of a GET of <paramref name="path"/> on <paramref name="server"/>.</summary>
    public static byte[] Get(Uri server, string path) => Encoding.UTF8.GetBytes($"GET {path} HTTP/1.1\r\nHost: {server.Authority}\r\n\r\n");

    /// <summary>Sends the whole request (a full send buffer, which a request this small rarely meets, is waited out).</summary>
    public void Send(byte[] request)
    {
        if (_end > 0) throw new InvalidOperationException("a request was sent before the last answer was read");
        for (var sent = 0; sent < request.Length;)
        {
            var count = Socket.Send(request, sent, request.Length - sent, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                if (!Socket.Poll(SendTimeout, SelectMode.SelectWrite)) throw new IOException("the server took no bytes for 30 s");
                continue;
            }
            if (error != SocketError.Success) throw new SocketException((int)error);
            sent += count;
        }
    }

    /// <summary>Reads what has arrived; the answer's status code once the whole answer is in, null while more is to come.</summary>
    public int? Receive()
    {
        while (true)
        {
            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= MaxAnswerBytes) throw new InvalidDataException($"an answer longer than {MaxAnswerBytes} bytes");
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            var count = Socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock) break;
            if (error != SocketError.Success) throw new SocketException((int)error);
            if (count == 0) throw new IOException("the server closed the connection");
            _end += count;
            if (_end < _buffer.Length) break;
        }
        if (ParseAnswer(_buffer.AsSpan(0, _end)) is not { } answer) return null;
        // One request at a time per connection: nothing may follow its answer.
        if (answer.Length != _end) throw new InvalidDataException($"{_end - answer.Length} bytes after an answer");
        _end = 0;
        IsClosing = answer.Close;
        return answer.Status;
    }

    /// <summary>
    /// A whole answer at the start of <paramref name="data"/>: its status code, its length in bytes and whether it closes
    /// the connection; null while it is incomplete.
    /// </summary>
    public static (int Status, int Length, bool Close)? ParseAnswer(ReadOnlySpan<byte> data)
    {
        var headEnd = data.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0) return null;
        var (status, length, chunked, close) = ParseHead(data[..headEnd]);
        var at = headEnd + 4;
        if (!chunked)
        {
            if (length < 0) throw new InvalidDataException("an answer with neither Content-Length nor chunked encoding");
            return data.Length - at >= length ? (status, at + (int)length, close) : null;
        }
        while (true)
        {
            var lineEnd = data[at..].IndexOf("\r\n"u8);
            if (lineEnd < 0) return null;
            if (!Utf8Parser.TryParse(data.Slice(at, lineEnd), out long chunk, out _, 'x') || chunk is < 0 or > MaxAnswerBytes)
                throw new InvalidDataException("bad chunk size");
            at += lineEnd + 2;
            if (chunk == 0) break;
            if (data.Length - at < chunk + 2) return null;
            at += (int)chunk + 2;
        }
        // Trailers (none from Kestrel here) end with an empty line.
        while (true)
        {
            var lineEnd = data[at..].IndexOf("\r\n"u8);
            if (lineEnd < 0) return null;
            at += lineEnd + 2;
            if (lineEnd == 0) return (status, at, close);
        }
    }

    /// <summary>The status code, Content-Length (-1 when absent), whether the body is chunked and whether the server closes.</summary>
    private static (int Status, long Length, bool Chunked, bool Close) ParseHead(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 202 Accepted"
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8) || !Utf8Parser.TryParse(head.Slice(9, 3), out int status, out _))
            throw new InvalidDataException($"not an HTTP/1.1 status line: {Encoding.ASCII.GetString(head[..Math.Min(head.Length, 40)])}");
        long length = -1;
        bool chunked = false, close = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            if (Value(line, "content-length:"u8) is var number && !number.IsEmpty && Utf8Parser.TryParse(number, out long n, out _)) length = n;
            else if (Value(line, "transfer-encoding:"u8) is var encoding && !encoding.IsEmpty) chunked = Ascii.EqualsIgnoreCase(encoding, "chunked"u8);
            else if (Value(line, "connection:"u8) is var connection && !connection.IsEmpty) close = Ascii.EqualsIgnoreCase(connection, "close"u8);
        }
        return (status, length, chunked, close);

        static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name) =>
            line.Length > name.Length && Ascii.EqualsIgnoreCase(line[..name.Length], name) ? line[name.Length..].Trim((byte)' ') : default;
    }

    public void Dispose() => Socket.Dispose();
}
