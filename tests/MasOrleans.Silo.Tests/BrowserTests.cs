using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Playwright;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Playwright (.NET, its bundled node driver, offline) drives Debian's /usr/bin/chromium against a running silo:
/// Swagger UI lists the routes and the Orleans dashboard shows its silo. Screenshots go to the test output folder.
/// </summary>
public sealed class BrowserTests : IClassFixture<MemorySiloFixture>, IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly MemorySiloFixture _silo;
    private readonly string _profile = Directory.CreateTempSubdirectory("mas-chromium-").FullName;
    private IPlaywright _playwright = null!;
    private IBrowserContext _browser = null!;

    public BrowserTests(MemorySiloFixture silo) => _silo = silo;

    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium)) Assert.Fail($"{Chromium} is missing: apt-get install -y chromium (scripts/setup.sh does)");
        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Playwright.CreateAsync();
        // A fresh profile per run (Playwright passes it as --user-data-dir); the background-networking flags keep
        // Chromium from calling out, which this machine's closed network refuses.
        _browser = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        Directory.Delete(_profile, recursive: true);
        _silo.Host.Log.AssertClean();
    }

    [Fact]
    public async Task Swagger_ui_lists_the_api_routes()
    {
        var page = await NewPage();
        await page.GotoAsync(new Uri(_silo.Http.BaseAddress!, "/swagger/index.html").ToString());
        var operations = page.Locator(".opblock-summary-path");
        await operations.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var paths = (await operations.AllInnerTextsAsync()).Select(p => p.Replace("\u200b", "").Trim()).ToHashSet();
        Assert.Contains("/api/v1/nodes", paths);
        Assert.Contains("/api/v1/pods", paths);
        Assert.Contains("/api/v1/scheduler/policy", paths);
        Assert.Contains("MasOrleans", await page.Locator(".title").First.InnerTextAsync());
        await Screenshot(page, "swagger-ui.png");
    }

    [Fact]
    public async Task Orleans_dashboard_shows_the_silo()
    {
        var page = await NewPage();
        await page.GotoAsync(new Uri(_silo.Http.BaseAddress!, "/dashboard").ToString());
        // The overview polls the dashboard API and fills in the counters; one silo runs.
        await page.WaitForFunctionAsync("() => /active silos\\s*1\\b/i.test(document.body.innerText) && /total activations\\s*[1-9]/i.test(document.body.innerText)",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        await Screenshot(page, "orleans-dashboard.png");
        // The silo table lists this silo by its address.
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Silos", Exact = true }).ClickAsync();
        await page.GetByText("127.0.0.1").First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        await Screenshot(page, "orleans-dashboard.png");
    }

    /// <summary>
    /// The dashboard's Log Stream page (#/trace) reads GET /dashboard/Trace by XMLHttpRequest and shows responseText on
    /// each progress event; until the first one it says "Connecting...". The endpoint writes a banner at once and then
    /// each log line as it comes.
    /// </summary>
    [Fact]
    public async Task Dashboard_log_stream_shows_the_stream()
    {
        var page = await NewPage();
        await page.GotoAsync(new Uri(_silo.Http.BaseAddress!, "/dashboard/#/trace").ToString());
        var log = page.Locator("pre.log");
        // The banner's last line (ServiceCollectionExtensions.StreamTraceAsync in Orleans.Dashboard); on failure the
        // assertion says what the page showed instead.
        await Assertions.Expect(log).ToContainTextAsync("You are connected to the Orleans Dashboard log streaming service",
            new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
        Assert.DoesNotContain("Connecting...", await log.InnerTextAsync());
        await Screenshot(page, "orleans-dashboard-log-stream.png");
    }

    private async Task<IPage> NewPage() => await _browser.NewPageAsync();

    private static async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDirectory, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = false });
        Assert.True(new FileInfo(path).Length > 10_000, $"{path} is suspiciously small");
    }
}
