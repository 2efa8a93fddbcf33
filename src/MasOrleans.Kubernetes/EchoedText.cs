namespace MasOrleans.Kubernetes;

/// <summary>
/// Text from a request body quoted back in an answer or a log line (a field's path, a quantity, a parser's message),
/// cut to <see cref="MaxLength"/> characters: the body is the caller's, up to megabytes, and an error answered to it is
/// logged and kept as a key (ExtenderErrorLog), so a quote of it must not grow with it. The start is kept: it says where.
/// </summary>
public static class EchoedText
{
    public const int MaxLength = 160;

    public static string Bounded(string text)
    {
        if (text.Length <= MaxLength) return text;
        // Not between the halves of a surrogate pair: the answer is UTF-8.
        var cut = char.IsHighSurrogate(text[MaxLength - 1]) ? MaxLength - 1 : MaxLength;
        return $"{text[..cut]}... ({text.Length} characters)";
    }
}
