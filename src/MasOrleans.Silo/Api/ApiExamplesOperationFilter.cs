using System.Text.Json;
using System.Text.Json.Nodes;
using MasOrleans.Silo.Hosting;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace MasOrleans.Silo.Api;

/// <summary>Puts <see cref="ApiExamples"/> into the Swagger document's request bodies and responses.</summary>
internal sealed class ApiExamplesOperationFilter : IOperationFilter
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var key = $"{context.ApiDescription.HttpMethod} {context.ApiDescription.RelativePath?.TrimEnd('/')}";
        if (!ApiExamples.ByRoute.TryGetValue(key, out var example)) return;
        if (example.Request is not null && operation.RequestBody?.Content is { } requestContent)
        {
            foreach (var media in requestContent.Values) media.Example = ToNode(example.Request);
        }
        if (example.Response is not null && operation.Responses is not null
            && operation.Responses.TryGetValue(example.Status, out var response) && response.Content is { } responseContent)
        {
            foreach (var media in responseContent.Values) media.Example = ToNode(example.Response);
        }
    }

    private static JsonNode? ToNode(object value) => JsonSerializer.SerializeToNode(value, Json);

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions();
        SiloApp.ConfigureJson(options);
        return options;
    }
}
