using System.Net;
using System.Security.Cryptography.X509Certificates;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// /extender on its own HTTPS listener that admits only allowed client certificates (kube-scheduler's
/// tlsConfig), with /api kept off that port and /extender kept off the public one.
/// </summary>
public sealed class ExtenderListenerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-tls-").FullName;
    private readonly X509Certificate2 _server = TestCertificates.Server();

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static string FilterArgs => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));

    private async Task<(SiloHost Host, Uri Extender)> StartAsync(Dictionary<string, string> tls)
    {
        var port = FreePorts.Next();
        var settings = new Dictionary<string, string>(tls)
        {
            ["Extender:Urls"] = $"https://127.0.0.1:{port}",
            ["Extender:Tls:CertificatePath"] = TestCertificates.WritePfx(_server, _dir, "server.pfx"),
            ["Security:ApiKey"] = SecuredSiloFixture.AdminKey,
        };
        // No Warning is expected: the silo binds every address itself, and --urls no longer reaches Kestrel as well (it
        // logged "Overriding address(es)" on every start).
        return (await SiloHost.StartAsync(settings: settings), new Uri($"https://127.0.0.1:{port}"));
    }

    private static async Task<HttpResponseMessage> Filter(HttpClient http) =>
        await http.PostAsync("/extender/filter", new StringContent(FilterArgs, System.Text.Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Only_an_allowed_client_certificate_reaches_the_extender()
    {
        using var allowed = TestCertificates.SelfSignedClient("kube-scheduler");
        using var stranger = TestCertificates.SelfSignedClient("someone-else");
        var (host, extender) = await StartAsync(new() { ["Extender:Tls:AllowedThumbprints:0"] = allowed.Thumbprint });
        await using var _ = host;

        using var scheduler = TestCertificates.Client(extender, _server, allowed);
        using var filtered = await Filter(scheduler);
        var body = await filtered.Content.ReadAsStringAsync();
        Assert.True(filtered.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"FailedNodes\"", body);

        using var anonymous = TestCertificates.Client(extender, _server, client: null);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => Filter(anonymous));
        using var other = TestCertificates.Client(extender, _server, stranger);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => Filter(other));
    }

    [Fact]
    public async Task Certificates_issued_by_the_configured_ca_are_admitted()
    {
        using var ca = TestCertificates.Ca();
        using var issued = TestCertificates.ClientIssuedBy(ca, "kube-scheduler");
        using var selfSigned = TestCertificates.SelfSignedClient("kube-scheduler");
        var (host, extender) = await StartAsync(new() { ["Extender:Tls:ClientCaPath"] = TestCertificates.WritePem(ca, _dir, "ca.pem") });
        await using var _ = host;

        using var scheduler = TestCertificates.Client(extender, _server, issued);
        Assert.Equal(HttpStatusCode.OK, (await Filter(scheduler)).StatusCode);
        using var impostor = TestCertificates.Client(extender, _server, selfSigned);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => Filter(impostor));
    }

    [Fact]
    public async Task Each_listener_serves_only_its_own_routes()
    {
        using var client = TestCertificates.SelfSignedClient("kube-scheduler");
        var (host, extender) = await StartAsync(new() { ["Extender:Tls:AllowedThumbprints:0"] = client.Thumbprint });
        await using var _ = host;
        using var scheduler = TestCertificates.Client(extender, _server, client);

        foreach (var elsewhere in new[] { "/api/v1/nodes", "/k8s/api/v1/nodes", "/metrics", "/dashboard/", "/swagger/index.html" })
            Assert.True(HttpStatusCode.NotFound == (await scheduler.GetAsync(elsewhere)).StatusCode, elsewhere);
        Assert.Equal(HttpStatusCode.OK, (await scheduler.GetAsync("/health")).StatusCode);
        // The public port no longer serves /extender, even to an admin key.
        var request = new HttpRequestMessage(HttpMethod.Post, "/extender/filter") { Content = new StringContent(FilterArgs) };
        request.Headers.Add("X-Api-Key", SecuredSiloFixture.AdminKey);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.SendAsync(request)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/api/v1/nodes")).StatusCode);
    }

    /// <summary>
    /// With Kestrel:Endpoints the public listeners are theirs, and --urls (or, without it, the default
    /// http://localhost:8080) is not listened on. The extender's listeners re-declared the public URLs, which ignored
    /// Kestrel:Endpoints: a listener nobody asked for, whose port start-up never checked.
    /// </summary>
    [Fact]
    public async Task With_kestrel_endpoints_the_extender_adds_only_its_own_listener()
    {
        var endpoint = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var extender = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var settings = new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:Public:Url"] = endpoint.ToString(),
            ["Extender:Urls"] = extender.ToString(),
        };
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings!).Build();
        Assert.Empty(StartupValidation.PublicUrls(config));

        await using var host = await SiloHost.StartAsync(settings: settings);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(endpoint, "/api/v1/nodes"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(extender, "/health"))).StatusCode);
        // SiloHost's --urls port: no listener.
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => host.Http.GetAsync("/health"));
        Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, Assert.IsType<System.Net.Sockets.SocketException>(refused.InnerException).SocketErrorCode);
    }
}
