using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>Files of the repository (deploy/, dashboards/, docs/) as the tests read them.</summary>
public static partial class RepoFiles
{
    public static string Root => TestFiles.RepoRoot;

    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    public static string Read(string relative) => File.ReadAllText(Path(relative));

    /// <summary>Every YAML document of a file (Kubernetes manifests hold several).</summary>
    public static IReadOnlyList<YamlMappingNode> Yaml(string relative) => ParseYaml(Read(relative));

    /// <summary>Every YAML document of a text (what kubectl renders, a ConfigMap's file).</summary>
    public static IReadOnlyList<YamlMappingNode> ParseYaml(string text)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(text);
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    /// <summary>Copies the shipped model of <paramref name="algorithm"/> (models/) into a new directory <paramref name="into"/>; returns it.</summary>
    public static string CopyModel(string algorithm, string into)
    {
        var target = Directory.CreateDirectory(into).FullName;
        foreach (var file in Directory.GetFiles(Path($"models/{algorithm}"))) File.Copy(file, System.IO.Path.Combine(target, System.IO.Path.GetFileName(file)));
        return target;
    }

    /// <summary>Every PromQL expression of the Grafana dashboards (panel targets and template queries), with where it is.</summary>
    public static IReadOnlyList<(string Where, string Expr)> DashboardQueries()
    {
        var queries = new List<(string, string)>();
        foreach (var file in Directory.GetFiles(Path("dashboards/grafana/dashboards"), "*.json"))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var name = System.IO.Path.GetFileName(file);
            foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                    queries.Add(($"{name}: {panel.GetProperty("title").GetString()}", target.GetProperty("expr").GetString()!));
            }
            foreach (var variable in doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
                queries.Add(($"{name}: ${variable.GetProperty("name").GetString()}", variable.GetProperty("definition").GetString()!));
        }
        return queries;
    }

    /// <summary>Every alerting rule's expression in dashboards/prometheus/alerts.yml.</summary>
    public static IReadOnlyList<(string Where, string Expr)> AlertExpressions() =>
        ((YamlSequenceNode)Yaml("dashboards/prometheus/alerts.yml")[0]["groups"]).Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>())
            .Select(r => ($"alert {r["alert"]}", r["expr"].ToString()))
            .ToList();

    /// <summary>Metric names a PromQL expression reads: the service's families (mas_*, orleans_*) and Prometheus' own up.</summary>
    public static IReadOnlyList<string> MetricNames(string expr) =>
        MetricName().Matches(expr).Select(m => m.Value).Distinct().ToList();

    [GeneratedRegex(@"\b(?:mas|orleans)_[a-z0-9_]+\b|\bup(?=\{)")]
    private static partial Regex MetricName();
}
