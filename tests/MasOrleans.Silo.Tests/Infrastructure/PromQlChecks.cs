using System.Text.RegularExpressions;

namespace MasOrleans.Silo.Tests.Infrastructure;

/// <summary>
/// What a PromQL expression of the dashboards or the rules asks of a live exposition, beyond its metric names: a series
/// matching each selector's label matchers, the labels it groups or joins by, counters (never gauges) under rate() and
/// increase(), and histogram_quantile() over _bucket series grouped by le. A name that exists is not enough: a matcher
/// on a value the silo never writes, or a sum by a label it does not set, draws an empty or a single flat line, and
/// Prometheus answers either without an error.
/// </summary>
public static partial class PromQlChecks
{
    /// <summary>
    /// Labels Prometheus itself puts on every scraped series (the scrape job's target), which /metrics never carries.
    /// </summary>
    private static readonly HashSet<string> TargetLabels = ["instance", "job"];

    /// <summary>Grafana's template variables, as their "All" value expands them.</summary>
    private static readonly Dictionary<string, string> GrafanaAll = new(StringComparer.Ordinal) { ["$node"] = ".*" };

    public static IEnumerable<string> Problems(string expr, string exposition)
    {
        var samples = PrometheusText.Samples(exposition).Select(s => (s.Name, Labels: Labels(s.Labels))).ToList();
        var counters = PrometheusText.CounterNames(exposition);
        var histograms = TypedNames(exposition, "histogram");
        var names = RepoFiles.MetricNames(expr).Where(n => n != "up").ToList();
        var problems = new List<string>();

        foreach (Match selector in Selector().Matches(expr))
        {
            var name = selector.Groups["name"].Value;
            if (name == "up") continue;
            var matchers = Matcher().Matches(selector.Groups["matchers"].Value)
                .Select(m => (Label: m.Groups["label"].Value, Op: m.Groups["op"].Value, Value: Expand(m.Groups["value"].Value))).ToList();
            if (!samples.Any(s => s.Name == name && matchers.All(m => Matches(s.Labels, m.Label, m.Op, m.Value))))
                problems.Add($"no series matches {selector.Value}");
        }

        var labelsOfExpr = samples.Where(s => names.Contains(s.Name)).SelectMany(s => s.Labels.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (Match grouping in Grouping().Matches(expr))
        {
            foreach (var label in grouping.Groups["labels"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!TargetLabels.Contains(label) && !labelsOfExpr.Contains(label))
                    problems.Add($"{grouping.Groups["keyword"].Value} ({label}): no series of {string.Join(", ", names)} has the label {label}");
            }
        }

        foreach (Match call in LabelValues().Matches(expr))
        {
            var (name, label) = (call.Groups["name"].Value, call.Groups["label"].Value);
            if (!samples.Any(s => s.Name == name && s.Labels.ContainsKey(label))) problems.Add($"{call.Value}: no series of {name} has the label {label}");
        }

        // rate() and increase() read a counter's increments; over a gauge they turn every fall into a counter reset.
        foreach (Match call in RangeCall().Matches(expr))
        {
            var name = call.Groups["name"].Value;
            if (!counters.Contains(name) && !IsHistogramSeries(name, histograms))
                problems.Add($"{call.Groups["function"].Value}({name}): {name} is not a counter");
        }

        // histogram_quantile() reads cumulative buckets: _bucket series, aggregated with le kept.
        if (expr.Contains("histogram_quantile(", StringComparison.Ordinal))
        {
            foreach (var name in names.Where(n => !n.EndsWith("_bucket", StringComparison.Ordinal) || !histograms.Contains(n[..^"_bucket".Length])))
                problems.Add($"histogram_quantile over {name}, not a histogram's _bucket series");
            if (!Grouping().Matches(expr).Any(g => g.Groups["labels"].Value.Split(',', StringSplitOptions.TrimEntries).Contains("le")))
                problems.Add("histogram_quantile without le among the labels it aggregates by");
        }
        return problems;
    }

    private static bool IsHistogramSeries(string name, HashSet<string> histograms) =>
        new[] { "_bucket", "_sum", "_count" }.Any(suffix => name.EndsWith(suffix, StringComparison.Ordinal) && histograms.Contains(name[..^suffix.Length]));

    /// <summary>Names declared <c># TYPE name type</c>.</summary>
    private static HashSet<string> TypedNames(string exposition, string type) =>
        exposition.Split('\n').Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length == 4 && p[0] == "#" && p[1] == "TYPE" && p[3] == type).Select(p => p[2]).ToHashSet(StringComparer.Ordinal);

    /// <summary>A missing label matches as the empty string, and a regex matches the whole value (PromQL's rules).</summary>
    private static bool Matches(Dictionary<string, string> labels, string label, string op, string value)
    {
        var actual = labels.GetValueOrDefault(label, "");
        return op switch
        {
            "=" => actual == value,
            "!=" => actual != value,
            "=~" => Regex.IsMatch(actual, $"^(?:{value})$"),
            "!~" => !Regex.IsMatch(actual, $"^(?:{value})$"),
            _ => throw new ArgumentException($"matcher operator {op}"),
        };
    }

    private static string Expand(string value) => GrafanaAll.Aggregate(value, (v, variable) => v.Replace(variable.Key, variable.Value, StringComparison.Ordinal));

    private static Dictionary<string, string> Labels(string labels) =>
        ExpositionLabel().Matches(labels).ToDictionary(m => m.Groups["label"].Value, m => Regex.Unescape(m.Groups["value"].Value), StringComparer.Ordinal);

    [GeneratedRegex(@"\b(?<name>(?:mas|orleans)_[a-z0-9_]+|up)\b(?:\{(?<matchers>[^}]*)\})?")]
    private static partial Regex Selector();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?<op>=~|!~|!=|=)\s*""(?<value>[^""]*)""")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"\b(?<keyword>by|without|on|ignoring|group_left|group_right)\s*\((?<labels>[^)]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\blabel_values\(\s*(?<name>[a-z_][a-z0-9_]*)\s*,\s*(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\b(?<function>rate|irate|increase)\(\s*(?<name>[a-z_][a-z0-9_]*)")]
    private static partial Regex RangeCall();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex ExpositionLabel();
}
