using System.Net;
using MasOrleans.Silo.Hosting;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A silo configured as deploy/kubernetes/silo.yaml configures it, in a pod: what it advertises to the other silos.
/// The application is built, not started (starting needs a Kubernetes API server for Orleans' pod watcher).
/// </summary>
public sealed class KubernetesHostingTests
{
    private const string PodIP = "10.244.1.7";

    /// <summary>
    /// Orleans' Kubernetes hosting (dotnet/orleans v10.4.2 src/Orleans.Hosting.Kubernetes/ConfigureKubernetesHostingOptions.cs,
    /// PostConfigure(EndpointOptions)) sets the advertised address from POD_IP only when no address was configured. Each
    /// silo pod of the 2-replica Deployment advertised 127.0.0.1 instead, so the silos registered loopback in Redis
    /// membership and could not reach one another.
    /// </summary>
    [Theory]
    [InlineData(null, PodIP)]
    [InlineData("10.0.0.9", "10.0.0.9")]
    public async Task A_silo_of_the_shipped_deployment_advertises_its_pod_IP_unless_an_address_is_set(string? advertisedIP, string expected)
    {
        using var redis = RedisServer.Start();
        var settings = DeployFilesTests.KubernetesEnvironment(DeployFilesTests.SiloContainer())
            .Where(e => e.Value != DeployFilesTests.FromField)
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => e.Value);
        Assert.Equal("true", settings["Orleans:Kubernetes"]);
        // Addresses remapped to this machine: the test's redis-server and free ports.
        settings["Redis:ConnectionString"] = redis.ConnectionString;
        settings["Orleans:SiloPort"] = $"{FreePorts.Next()}";
        settings["Orleans:GatewayPort"] = $"{FreePorts.Next()}";
        settings["urls"] = $"http://127.0.0.1:{FreePorts.Next()}";
        if (advertisedIP is not null) settings["Orleans:AdvertisedIP"] = advertisedIP;
        // POD_IP as the downward API fills it (status.podIP). Orleans reads it from the environment only; nothing else in
        // these tests reads it, and the silos they start as processes do not run Orleans' Kubernetes hosting.
        Environment.SetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable, PodIP);
        EndpointOptions endpoints;
        try
        {
            await using var app = SiloApp.Build([.. settings.SelectMany(s => new[] { $"--{s.Key}", s.Value })]);
            endpoints = app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        }
        finally
        {
            Environment.SetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable, null);
        }
        Assert.Equal(expected, endpoints.AdvertisedIPAddress.ToString());
        Assert.Equal(int.Parse(settings["Orleans:SiloPort"]), endpoints.SiloPort);
        Assert.Equal(new IPEndPoint(IPAddress.Any, endpoints.SiloPort), endpoints.SiloListeningEndpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Any, int.Parse(settings["Orleans:GatewayPort"])), endpoints.GatewayListeningEndpoint);
    }
}
