using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MasOrleans.Tests.Shared;

/// <summary>
/// A local HTTP endpoint standing in for the Kubernetes API server; it records every request and answers
/// with <paramref name="status"/> (201 echoes the body, as the API server does for a Binding).
/// Linked into every test project that needs it.
/// </summary>
public sealed class RecordingApiServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpStatusCode _status;
    private readonly List<(string Method, string Path, string Body)> _requests = [];

    public RecordingApiServer(HttpStatusCode status = HttpStatusCode.Created)
    {
        _status = status;
        Url = $"http://127.0.0.1:{FreePorts.Next()}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public IReadOnlyList<(string Method, string Path, string Body)> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    /// <summary>A kubeconfig file that points KubernetesClient at this server, for silo configuration.</summary>
    public string WriteKubeconfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig.yaml");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: recording
                cluster: {"{"}server: "{Url.TrimEnd('/')}"{"}"}
            users:
              - name: tester
                user: {"{"}token: "test-token"{"}"}
            contexts:
              - name: recording
                context: {"{"}cluster: recording, user: tester{"}"}
            current-context: recording
            """);
        return path;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            lock (_requests) _requests.Add((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, body));
            context.Response.StatusCode = (int)_status;
            context.Response.ContentType = "application/json";
            var reply = Encoding.UTF8.GetBytes(_status == HttpStatusCode.Created ? body : $"{{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":{(int)_status}}}");
            await context.Response.OutputStream.WriteAsync(reply);
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
