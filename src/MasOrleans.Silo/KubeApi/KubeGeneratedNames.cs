namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// metadata.generateName as the API server fills it in: the prefix (cut to leave room) and five random characters
/// from apimachinery's pkg/util/rand alphabet (names.SimpleNameGenerator), tried afresh while the name is taken, up to
/// the registry's eight attempts (apiserver pkg/registry/generic/registry/store.go, maxNameGenerationCreateAttempts).
/// </summary>
internal static class KubeGeneratedNames
{
    public const int MaxAttempts = 8;
    private const int RandomLength = 5;
    private const int MaxNameLength = MasOrleans.Kubernetes.KubernetesNames.LabelMaxLength;
    // No vowels (no words by chance) and no 0, 1, 3 (read as o, l, e).
    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string Next(string prefix, Random random)
    {
        if (prefix.Length > MaxNameLength - RandomLength) prefix = prefix[..(MaxNameLength - RandomLength)];
        return string.Create(prefix.Length + RandomLength, (prefix, random), static (span, state) =>
        {
            state.prefix.AsSpan().CopyTo(span);
            for (var i = state.prefix.Length; i < span.Length; i++) span[i] = Alphabet[state.random.Next(Alphabet.Length)];
        });
    }

    /// <summary>
    /// Creates under <paramref name="name"/>, or, when there is none and <paramref name="generateName"/> is given, under
    /// generated names until one is not <paramref name="taken"/> or the attempts run out (the last answer stands).
    /// </summary>
    public static async Task<T> Create<T>(string? name, string? generateName, Func<string, Task<T>> create, Func<T, bool> taken, Random random)
    {
        if (!string.IsNullOrEmpty(name) || string.IsNullOrEmpty(generateName)) return await create(name ?? "");
        var result = await create(Next(generateName, random));
        for (var attempt = 1; attempt < MaxAttempts && taken(result); attempt++) result = await create(Next(generateName, random));
        return result;
    }
}
