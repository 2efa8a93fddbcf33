using System.Net;
using System.Text;
using k8s;
using MasOrleans.Kubernetes;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>kube-scheduler's calls to the extender, as the HTTP tests make them.</summary>
public static class ExtenderCalls
{
    /// <summary>Payloads/filter-args.json: kube-scheduler's filter request for ml/trainer-0 over its candidate nodes.</summary>
    public static ExtenderArgs LoadArgs() =>
        KubernetesJson.Deserialize<ExtenderArgs>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json")));

    /// <summary>Posts <paramref name="args"/> to the extender's <paramref name="verb"/> as kube-scheduler does; fails on any answer but 200.</summary>
    public static async Task<T> PostExtender<T>(this HttpClient http, string verb, object args)
    {
        using var response = await http.PostAsync($"/extender/{verb}", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{verb}: {(int)response.StatusCode} {text}");
        return KubernetesJson.Deserialize<T>(text);
    }
}
