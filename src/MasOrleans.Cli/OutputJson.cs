using System.Text.Json;

namespace MasOrleans.Cli;

/// <summary>
/// How the JSON files of `mas`'s verbs are cased (summary.json, curves.json, the training curve, evaluate's and
/// tune-ties' --output): camelCase keys, indented, as a model's metadata.json. Written with .NET's default options,
/// evaluate's and tune-ties' anonymous objects mixed keys named in the code ("mean") with properties' own ("Wins", "Objective").
/// </summary>
internal static class OutputJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };
}
