using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MasOrleans.Cli.Serve;
using MasOrleans.Learning.Tests.Support;

namespace MasOrleans.Cli.Tests.Serve;

/// <summary>The real `mas` process (mas.dll beside the tests), stopped with SIGTERM as a service manager stops it.</summary>
public class ServeProcessTests
{
    [Fact]
    public async Task Sigterm_lets_an_update_in_flight_finish_then_saves_the_model()
    {
        var ports = FreePorts.Take(2);
        using var temp = new TempDirectory();
        var saveDir = Path.Combine(temp, "model");
        using var process = MasProcess.Start("serve", "--algo", "ppo",
            "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(), "--state_dim", "2", "--action_dim", "3", "--save-on-exit", saveDir);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await WaitForHealth(process, ports[1]);

            // An /update whose body is still arriving when the signal comes: the host drains it before stopping.
            var body = Encoding.UTF8.GetBytes("""{"states":[[0.1,0.2],[0.3,0.4]],"actions":[0,2],"rewards":[1,0.5],"dones":[false,true]}""");
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, ports[1]);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /update HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
            await stream.WriteAsync(body.AsMemory(0, 10));
            await Task.Delay(500);

            Assert.True(Signals.Send(process.Id, Signals.Terminate), "SIGTERM to mas serve was not sent");
            // Past the 2 s after which System.CommandLine used to end the process whatever the verb was doing.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(process.HasExited, $"mas serve ended 3 s after SIGTERM with an update in flight (exit code {(process.HasExited ? process.ExitCode : 0)})");

            await stream.WriteAsync(body.AsMemory(10));
            using var response = new StreamReader(stream);
            Assert.Equal("HTTP/1.1 200 OK", await response.ReadLineAsync());

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {await stderr}");
            Assert.Contains($"Saved model to {saveDir}.", await stdout);
            using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(saveDir, "metadata.json")));
            Assert.Equal(1, metadata.RootElement.GetProperty("trainingMetrics").GetProperty("updates").GetDouble());
            using var saved = Learning.VectorPolicy.Load(saveDir, "ppo", 2, 3);
            Assert.InRange(saved.Predict([0.1f, 0.2f], deterministic: true), 0, 2);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_on_stderr_and_exit_code_69()
    {
        var ports = FreePorts.Take(2);
        var taken = new TcpListener(IPAddress.Loopback, ports[1]);
        taken.Start();
        try
        {
            using var process = MasProcess.Start("serve", "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString());
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(69, process.ExitCode); // EX_UNAVAILABLE
            // The host used to log "Hosting failed to start" with the bind exception's stack trace first.
            Assert.Equal("", await stdout);
            Assert.Equal($"error: Failed to bind to address http://127.0.0.1:{ports[1]}: address already in use.{Environment.NewLine}", await stderr);
        }
        finally
        {
            taken.Stop();
        }
    }

    /// <summary>
    /// --host passes its check (an IP address) but names no address of this machine: 192.0.2.1 is TEST-NET-1 (RFC 5737,
    /// for documentation, assigned to no host). Kestrel wraps only a port in use; this socket error came bare and was
    /// printed as a defect with its stack trace, exit code 70.
    /// </summary>
    [Fact]
    public async Task An_address_this_machine_does_not_have_is_one_line_on_stderr_and_exit_code_69()
    {
        var ports = FreePorts.Take(2);
        using var process = MasProcess.Start("serve", "--host", "192.0.2.1", "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString());
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 69, $"exit code {process.ExitCode}: {await stderr}"); // EX_UNAVAILABLE
            Assert.Equal("", await stdout);
            Assert.Equal($"error: Failed to bind to 192.0.2.1 (gRPC port {ports[0]}, HTTP port {ports[1]}): Cannot assign requested address.{Environment.NewLine}",
                await stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static async Task WaitForHealth(Process process, int port)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var attempt = 0; attempt < 300 && !process.HasExited; attempt++)
        {
            try
            {
                if (await http.GetFromJsonAsync<HealthResponse>("/health") is { Status: "healthy" }) return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        Assert.Fail($"mas serve did not answer /health (exited: {process.HasExited})");
    }
}
