using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// A /k8s request naming one deployment reads its grain alone; a name no deployment can have (empty, or not a DNS-1123
/// label) activated a workload grain under that key. It finds none now, and no grain is called.
/// </summary>
public sealed class KubeNamedDeploymentTests
{
    /// <summary>The keys of the workload grains called, by anyone.</summary>
    private sealed class WorkloadCalls : IIncomingGrainCallFilter
    {
        public ConcurrentBag<string> Keys { get; } = [];

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(IWorkloadGrain)) Keys.Add(context.TargetId.Key.ToString()!);
            return context.Invoke();
        }
    }

    [Theory]
    [InlineData("k8s/apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3D")]
    [InlineData("k8s/apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3DNot_A_Name")]
    [InlineData("k8s/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DDeployment,involvedObject.name%3D")]
    [InlineData("k8s/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DDeployment,involvedObject.name%3DNot_A_Name")]
    public async Task A_name_no_deployment_can_have_finds_none_and_calls_no_grain(string path)
    {
        var calls = new WorkloadCalls();
        await using var silo = await SiloHost.StartAsync(configure: builder => builder.Services.AddSingleton<IIncomingGrainCallFilter>(calls));
        using var listed = await silo.Http.GetAsync(path);
        var body = await listed.Content.ReadAsStringAsync();
        Assert.True(listed.StatusCode == HttpStatusCode.OK, body);
        using var list = JsonDocument.Parse(body);
        Assert.Equal(0, list.RootElement.GetProperty("items").GetArrayLength());
        Assert.Empty(calls.Keys);
    }
}
