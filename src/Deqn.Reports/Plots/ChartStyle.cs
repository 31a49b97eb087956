using ScottPlot;

namespace Deqn.Reports;

/// <summary>Colours, markers and font sizes shared by every chart so that figures from different commands look alike.</summary>
internal static class ChartStyle
{
    // Okabe–Ito, reordered so that yellow (hard to see on white) comes last and black (reads as "axis") late.
    private static readonly Color[] Palette =
    [
        Color.FromHex("#0072B2"), // blue
        Color.FromHex("#D55E00"), // vermillion
        Color.FromHex("#009E73"), // bluish green
        Color.FromHex("#CC79A7"), // reddish purple
        Color.FromHex("#E69F00"), // orange
        Color.FromHex("#56B4E9"), // sky blue
        Color.FromHex("#000000"), // black
        Color.FromHex("#F0E442"), // yellow
    ];

    private static readonly MarkerShape[] Markers =
    [
        MarkerShape.FilledCircle,
        MarkerShape.FilledSquare,
        MarkerShape.FilledTriangleUp,
        MarkerShape.FilledDiamond,
        MarkerShape.FilledTriangleDown,
        MarkerShape.OpenCircle,
        MarkerShape.OpenSquare,
        MarkerShape.OpenTriangleUp,
        MarkerShape.OpenDiamond,
        MarkerShape.Eks,
        MarkerShape.Cross,
        MarkerShape.Asterisk,
    ];

    private static readonly LinePattern[] Patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];

    public static Color ColorFor(int index) => Palette[index % Palette.Length];

    public static MarkerShape MarkerFor(int index) => Markers[index % Markers.Length];

    /// <summary>Once colours repeat the line pattern changes, so series 0 and 8 still differ.</summary>
    public static LinePattern PatternFor(int index) => Patterns[index / Palette.Length % Patterns.Length];

    /// <summary>
    /// A sans-serif family that is installed here. SkiaSharp without fontconfig falls back to whatever family it
    /// finds first (DejaVu Serif on our machines), which makes charts look like a 1990s paper; ask by name instead.
    /// </summary>
    public static string FontFamily => LazyFontFamily.Value;

    private static readonly Lazy<string> LazyFontFamily = new(() =>
    {
        string[] preferred = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Open Sans", "Arial", "Helvetica", "Segoe UI"];
        foreach (var family in preferred)
        {
            using var typeface = SkiaSharp.SKFontManager.Default.MatchFamily(family);
            if (typeface is not null && string.Equals(typeface.FamilyName, family, StringComparison.OrdinalIgnoreCase))
                return family;
        }

        return Fonts.Default;
    });

    public static readonly Color GridColor = Color.FromHex("#E0E0E0");
    public static readonly Color MinorGridColor = Color.FromHex("#F0F0F0");
    public static readonly Color NoteColor = Color.FromHex("#555555");
}

/// <summary>Font sizes in pixels; panels of a grid use a smaller set so that four panels still fit their labels.</summary>
internal sealed record FontSizes(float Title, float AxisLabel, float TickLabel, float Legend, float Note)
{
    public static readonly FontSizes Full = new(Title: 22, AxisLabel: 18, TickLabel: 15, Legend: 15, Note: 13);
    public static readonly FontSizes Panel = new(Title: 17, AxisLabel: 15, TickLabel: 13, Legend: 12, Note: 11);
}

/// <summary>Gives each distinct series label one index, so a label keeps its colour and marker across panels.</summary>
internal sealed class SeriesIndex
{
    private readonly Dictionary<string, int> _indices = new(StringComparer.Ordinal);

    public int this[string label]
    {
        get
        {
            if (!_indices.TryGetValue(label, out var index))
            {
                index = _indices.Count;
                _indices[label] = index;
            }

            return index;
        }
    }
}
