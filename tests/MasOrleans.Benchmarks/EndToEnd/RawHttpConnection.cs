using System.Buffers.Text;
using System.Net.Sockets;
using System.Text;

namespace MasOrleans.Benchmarks.EndToEnd;

/// <summary>
/// One keep-alive HTTP/1.1 connection for the fixed-rate generator: a request goes out as one buffer, and an answer is
/// read only as far as its status and its end (Content-Length or chunked). It replaced HttpClient in the fixed-rate
/// generator, which shares the silos' two cores (docs/benchmarks.md, session 19).
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private RawHttpConnection(Socket socket) => _socket = socket;

    public static async Task<RawHttpConnection> ConnectAsync(Uri server, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, cancellation);
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

    /// <summary>Sends <paramref name="request"/> and reads its whole answer; returns the status code.</summary>
    public async Task<int> SendAsync(byte[] request, CancellationToken cancellation)
    {
        for (var sent = 0; sent < request.Length;)
            sent += await _socket.SendAsync(request.AsMemory(sent), SocketFlags.None, cancellation);

        int headerEnd;
        while ((headerEnd = IndexOf("\r\n\r\n"u8, _start)) < 0) await FillAsync(cancellation);
        var (status, length, chunked, close) = ParseHead(_buffer.AsSpan(_start, headerEnd - _start));
        IsClosing = close;
        _start = headerEnd + 4;

        if (chunked)
        {
            while (true)
            {
                var size = await LineAsync(cancellation);
                if (!Utf8Parser.TryParse(_buffer.AsSpan(size.Start, size.Length), out long chunk, out _, 'x'))
                    throw new InvalidDataException("bad chunk size");
                if (chunk == 0)
                {
                    // Trailers (none from Kestrel here) end with an empty line.
                    while ((await LineAsync(cancellation)).Length > 0) { }
                    break;
                }
                await SkipAsync(chunk + 2, cancellation);
            }
        }
        else if (length > 0) await SkipAsync(length, cancellation);
        else if (length < 0) throw new InvalidDataException("an answer with neither Content-Length nor chunked encoding");
        return status;
    }

    /// <summary>The status code, Content-Length (-1 when absent) and whether the body is chunked.</summary>
    /// <summary>The last answer said "Connection: close": the server closes this connection, so the next request needs another.</summary>
    public bool IsClosing { get; private set; }

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

    /// <summary>The next line's position in the buffer (without its CRLF), consumed.</summary>
    private async Task<(int Start, int Length)> LineAsync(CancellationToken cancellation)
    {
        int end;
        while ((end = IndexOf("\r\n"u8, _start)) < 0) await FillAsync(cancellation);
        var line = (_start, end - _start);
        _start = end + 2;
        return line;
    }

    private async Task SkipAsync(long count, CancellationToken cancellation)
    {
        while (count > 0)
        {
            if (_start == _end) await FillAsync(cancellation);
            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    private int IndexOf(ReadOnlySpan<byte> value, int from)
    {
        var at = _buffer.AsSpan(from, _end - from).IndexOf(value);
        return at < 0 ? -1 : from + at;
    }

    /// <summary>Reads more bytes, first moving what is left to the buffer's start.</summary>
    private async Task FillAsync(CancellationToken cancellation)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new InvalidDataException("an answer's head does not fit the buffer");
        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellation);
        if (read == 0) throw new IOException("the server closed the connection");
        _end += read;
    }

    public void Dispose() => _socket.Dispose();
}
