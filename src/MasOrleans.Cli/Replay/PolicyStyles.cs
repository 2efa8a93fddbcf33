using ScottPlot;

namespace MasOrleans.Cli.Replay;

/// <summary>
/// One colour and one marker per policy, so 16+ policies stay apart in colour and, where colours are hard to tell
/// apart (print, colour blindness), by marker. Colours are Kelly's 22 colours of maximum contrast (K. L. Kelly,
/// "Twenty-two colors of maximum contrast", Color Engineering 3(6), 1965) without white; markers are the
/// ScottPlot shapes that read at 7 px.
/// </summary>
internal static class PolicyStyles
{
    public static readonly IReadOnlyList<Color> Palette =
    [
        Color.FromHex("#0067A5"), Color.FromHex("#BE0032"), Color.FromHex("#008856"), Color.FromHex("#F38400"),
        Color.FromHex("#875692"), Color.FromHex("#222222"), Color.FromHex("#A1CAF1"), Color.FromHex("#F3C300"),
        Color.FromHex("#882D17"), Color.FromHex("#8DB600"), Color.FromHex("#E68FAC"), Color.FromHex("#604E97"),
        Color.FromHex("#848482"), Color.FromHex("#F6A600"), Color.FromHex("#B3446C"), Color.FromHex("#2B3D26"),
        Color.FromHex("#F99379"), Color.FromHex("#C2B280"), Color.FromHex("#DCD300"), Color.FromHex("#654522"),
        Color.FromHex("#E25822"),
    ];

    public static readonly IReadOnlyList<MarkerShape> Markers =
    [
        MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
        MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp, MarkerShape.OpenDiamond,
        MarkerShape.FilledTriangleDown, MarkerShape.OpenTriangleDown, MarkerShape.Asterisk, MarkerShape.HashTag,
        MarkerShape.TriUp, MarkerShape.TriDown, MarkerShape.OpenCircleWithDot, MarkerShape.OpenCircleWithCross,
        MarkerShape.OpenCircleWithEks,
    ];

    public sealed record Style(Color Color, MarkerShape Marker);

    /// <summary>
    /// The style of the policy at <paramref name="index"/> in the replay's policy order. Colour and marker advance
    /// together, so up to 17 policies get a colour and a marker no other has; past that the pair still differs.
    /// </summary>
    public static Style For(int index) => new(Palette[index % Palette.Count], Markers[index % Markers.Count]);

    /// <summary>Styles for a list of policies, by position.</summary>
    public static IReadOnlyDictionary<string, Style> For(IReadOnlyList<string> policies) =>
        policies.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => For(x.i));
}
