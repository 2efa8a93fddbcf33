using MasOrleans.Scheduling.Model;
using MasOrleans.Silo.Security;

namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A label selector read as the API server reads ?labelSelector (apimachinery pkg/labels/selector.go: its lexer,
/// its recursive descent and the checks of its NewRequirement), so what it refuses is refused here with its words,
/// and "!app=web" is an error rather than "app=web absent". Grammar:
/// <c>requirement ("," requirement)*</c>, <c>requirement := ["!"] key [("=" | "==" | "!=" | "&gt;" | "&lt;") value | ("in" | "notin") "(" values ")"]</c>.
/// </summary>
internal sealed class LabelParser
{
    private enum Token { End, Identifier, Not, Equals, DoubleEquals, NotEquals, Greater, Less, In, NotIn, Open, Close, Comma }

    private enum Operator { Exists, DoesNotExist, Equals, NotEquals, In, NotIn, Greater, Less }

    /// <summary>The operators a key can be followed by, in the API server's error message.</summary>
    private const string BinaryOperators = "in, notin, =, ==, !=, gt, lt";

    private readonly List<(Token Kind, string Text)> _tokens;
    private int _position;

    public LabelParser(string text) => _tokens = Scan(text);

    /// <summary>Adds one predicate per requirement; null, or the error the API server would answer (400).</summary>
    public string? Parse(List<Func<Func<string, string?>, bool>> requirements)
    {
        while (true)
        {
            var (kind, text) = Peek(values: true);
            if (kind == Token.End) return null;
            if (kind is not (Token.Identifier or Token.Not)) return $"found '{text}', expected: !, identifier, or 'end of string'";
            if (Requirement(out var requirement) is { } error) return $"unable to parse requirement: {error}";
            requirements.Add(requirement);
            var (next, nextText) = Next(values: true);
            if (next == Token.End) return null;
            if (next != Token.Comma) return $"found '{nextText}', expected: ',' or 'end of string'";
            var (after, afterText) = Peek(values: true);
            if (after is not (Token.Identifier or Token.Not)) return $"found '{afterText}', expected: identifier after ','";
        }
    }

    private string? Requirement(out Func<Func<string, string?>, bool> requirement)
    {
        requirement = null!;
        var op = Operator.Exists;
        var (kind, key) = Next(values: true);
        if (kind == Token.Not)
        {
            op = Operator.DoesNotExist;
            (kind, key) = Next(values: true);
        }
        if (kind != Token.Identifier) return $"found '{key}', expected: identifier";
        if (KubernetesSyntax.CheckQualifiedName(key, "label key") is { } keyError) return keyError;
        var ends = Peek(values: true).Kind is Token.End or Token.Comma;
        if (op == Operator.DoesNotExist || ends)
        {
            // "!key" is complete here even when more follows ("!app=web"): the caller finds '=' where ',' belongs.
            requirement = op == Operator.DoesNotExist ? v => v(key) is null : v => v(key) is not null;
            return null;
        }
        var (opToken, opText) = Next(values: false);
        op = opToken switch
        {
            Token.Equals or Token.DoubleEquals => Operator.Equals,
            Token.NotEquals => Operator.NotEquals,
            Token.In => Operator.In,
            Token.NotIn => Operator.NotIn,
            Token.Greater => Operator.Greater,
            Token.Less => Operator.Less,
            _ => Operator.Exists,
        };
        if (op == Operator.Exists) return $"found '{opText}', expected: {BinaryOperators}";
        HashSet<string> values = [];
        if ((op is Operator.In or Operator.NotIn ? ValueSet(values) : ExactValue(values)) is { } valueError) return valueError;
        var i = 0;
        foreach (var value in values)
        {
            if (KubernetesSyntax.CheckLabelValue(value, $"values[{i++}][{key}]") is { } invalid) return invalid;
        }
        if (op is Operator.Greater or Operator.Less)
        {
            // The label value check above and strconv.ParseInt, as NewRequirement: the one reading node affinity uses too.
            if (!SelectorOperators.TryParseBound(values.Single(), out var bound))
                return $"values[0]: Invalid value: \"{values.Single()}\": for 'Gt', 'Lt' operators, the value must be an integer";
            requirement = v => SelectorOperators.TryParseInteger(v(key), out var actual) && (op == Operator.Greater ? actual > bound : actual < bound);
            return null;
        }
        var negate = op is Operator.NotEquals or Operator.NotIn;
        // Equality and "in" need the label; "!=" and "notin" also hold where it is absent.
        requirement = v => v(key) is { } actual ? values.Contains(actual) != negate : negate;
        return null;
    }

    /// <summary>"(a,b)", where empty entries are the empty value: "()" and "(a,)" hold "".</summary>
    private string? ValueSet(HashSet<string> values)
    {
        var (open, openText) = Next(values: true);
        if (open != Token.Open) return $"found '{openText}' expected: '('";
        var (first, firstText) = Peek(values: true);
        if (first == Token.Close)
        {
            Next(values: true);
            values.Add("");
            return null;
        }
        if (first is not (Token.Identifier or Token.Comma)) return $"found '{firstText}', expected: ',', ')' or identifier";
        while (true)
        {
            var (kind, text) = Next(values: true);
            if (kind == Token.Identifier)
            {
                values.Add(text);
                var (after, afterText) = Peek(values: true);
                if (after == Token.Close) break;
                if (after != Token.Comma) return $"found '{afterText}', expected: ',' or ')'";
            }
            else if (kind == Token.Comma)
            {
                if (values.Count == 0) values.Add("");
                var after = Peek(values: true).Kind;
                if (after == Token.Close)
                {
                    values.Add("");
                    break;
                }
                if (after == Token.Comma)
                {
                    Next(values: true);
                    values.Add("");
                }
            }
            else return $"found '{text}', expected: ',', or identifier";
        }
        var (close, closeText) = Next(values: true);
        return close == Token.Close ? null : $"found '{closeText}', expected: ')'";
    }

    /// <summary>One value; nothing before a ',' or the end is the empty value.</summary>
    private string? ExactValue(HashSet<string> values)
    {
        if (Peek(values: true).Kind is Token.End or Token.Comma)
        {
            values.Add("");
            return null;
        }
        var (kind, text) = Next(values: true);
        if (kind != Token.Identifier) return $"found '{text}', expected: identifier";
        values.Add(text);
        return null;
    }

    /// <summary>Where a value may stand, "in" and "notin" are values ("x in (in)").</summary>
    private (Token Kind, string Text) Peek(bool values) => AsValue(_tokens[_position], values);

    /// <summary>The token, and a step past it (the last token, End, is never stepped past).</summary>
    private (Token Kind, string Text) Next(bool values)
    {
        var token = Peek(values);
        if (_position < _tokens.Count - 1) _position++;
        return token;
    }

    private static (Token Kind, string Text) AsValue((Token Kind, string Text) token, bool values) =>
        values && token.Kind is Token.In or Token.NotIn ? (Token.Identifier, token.Text) : token;

    private static bool IsSpecial(char c) => c is '=' or '!' or '(' or ')' or ',' or '>' or '<';

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    /// <summary>Identifiers run to a space or an operator character; operators are the longest of "!=", "==" or one character.</summary>
    private static List<(Token, string)> Scan(string text)
    {
        var tokens = new List<(Token, string)>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && IsSpace(text[i])) i++;
            if (i == text.Length)
            {
                tokens.Add((Token.End, ""));
                return tokens;
            }
            if (IsSpecial(text[i]))
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                var (kind, length) = two switch
                {
                    "!=" => (Token.NotEquals, 2),
                    "==" => (Token.DoubleEquals, 2),
                    _ => (text[i] switch
                    {
                        '=' => Token.Equals,
                        '!' => Token.Not,
                        '(' => Token.Open,
                        ')' => Token.Close,
                        ',' => Token.Comma,
                        '>' => Token.Greater,
                        _ => Token.Less,
                    }, 1),
                };
                tokens.Add((kind, text.Substring(i, length)));
                i += length;
                continue;
            }
            var start = i;
            while (i < text.Length && !IsSpace(text[i]) && !IsSpecial(text[i])) i++;
            var word = text[start..i];
            tokens.Add((word switch { "in" => Token.In, "notin" => Token.NotIn, _ => Token.Identifier }, word));
        }
    }
}
