using System.Globalization;
using ScottPlot;

namespace Deqn.Reports;

/// <summary>
/// Ticks for an axis whose coordinates are already log10 of the data (ScottPlot 5 has no native log axis).
/// Wide ranges get one labelled tick per decade ("10⁻³") with minor ticks at 2–9 × 10ⁿ; ranges narrower than
/// two decades get labelled ticks at 1–2–5 (or 1–9) mantissas so that the axis never shows a single label.
/// </summary>
internal sealed class LogTickGenerator : ITickGenerator
{
    public Tick[] Ticks { get; set; } = [];

    public int MaxTickCount { get; set; } = 10_000;

    /// <summary>Rough width a horizontal label such as "2×10⁻³" needs, in pixels, including the gap to its neighbour.</summary>
    public float HorizontalLabelSpacing { get; set; } = 80;

    /// <summary>Rough height a vertical label needs, in pixels.</summary>
    public float VerticalLabelSpacing { get; set; } = 55;

    public void Regenerate(CoordinateRange range, Edge edge, PixelLength size, Paint paint, LabelStyle labelStyle)
    {
        var spacing = edge is Edge.Left or Edge.Right ? VerticalLabelSpacing : HorizontalLabelSpacing;
        var maxMajor = Math.Max(2, (int)(size.Length / spacing));
        Ticks = Compute(range.Min, range.Max, maxMajor);
    }

    internal static Tick[] Compute(double lo, double hi, int maxMajor)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
            return [];
        if (hi < lo)
            (lo, hi) = (hi, lo);
        // Doubles beyond ±300 decades cannot be shown anyway; this keeps the loops below bounded.
        lo = Math.Max(lo, -300);
        hi = Math.Min(hi, 300);
        if (hi - lo < 1e-12)
            return [];
        maxMajor = Math.Max(2, maxMajor);

        const double eps = 1e-9;
        var firstDecade = (int)Math.Ceiling(lo - eps);
        var lastDecade = (int)Math.Floor(hi + eps);
        var decadeCount = lastDecade - firstDecade + 1;
        if (decadeCount >= 2)
            return DecadeTicks(lo, hi, firstDecade, lastDecade, maxMajor);

        var mantissaTicks = MantissaTicks(lo, hi, maxMajor);
        return mantissaTicks ?? LinearTicks(lo, hi, maxMajor);
    }

    private static Tick[] DecadeTicks(double lo, double hi, int firstDecade, int lastDecade, int maxMajor)
    {
        var decadeCount = lastDecade - firstDecade + 1;
        var step = (int)Math.Ceiling(decadeCount / (double)maxMajor);
        var ticks = new List<Tick>();
        for (var d = firstDecade; d <= lastDecade; d++)
        {
            // Floor-modulo keeps 10⁰ among the labelled decades when every other decade is skipped.
            var isMajor = ((d % step) + step) % step == 0;
            ticks.Add(isMajor ? Tick.Major(d, FormatDecade(d)) : Tick.Minor(d));
        }

        if (step == 1)
        {
            for (var d = (int)Math.Floor(lo); d <= (int)Math.Ceiling(hi); d++)
            {
                for (var m = 2; m <= 9; m++)
                {
                    var position = d + Math.Log10(m);
                    if (position >= lo && position <= hi)
                        ticks.Add(Tick.Minor(position));
                }
            }
        }

        return [.. ticks.OrderBy(t => t.Position)];
    }

    private static readonly int[][] MantissaSets = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 5], [1, 2, 5], [1, 3], [1]];

    private static Tick[]? MantissaTicks(double lo, double hi, int maxMajor)
    {
        foreach (var set in MantissaSets)
        {
            var majors = Positions(lo, hi, set);
            if (majors.Count > maxMajor)
                continue;
            // Two labels on an axis that spans less than a decade do not tell the reader enough.
            if (majors.Count < 3)
                return null;
            // One notation per axis: "0.005, 0.01, 0.02" or "5×10⁻⁴, 10⁻³, 2×10⁻³", never a mix of both.
            var plain = majors.All(p => p.Decade is >= -2 and <= 3);
            var ticks = majors.Select(p => Tick.Major(p.Position, FormatMantissa(p.Mantissa, p.Decade, plain))).ToList();
            if (set.Length < 9)
            {
                var minorSet = Enumerable.Range(1, 9).Except(set).ToArray();
                ticks.AddRange(Positions(lo, hi, minorSet).Select(p => Tick.Minor(p.Position)));
            }

            return [.. ticks.OrderBy(t => t.Position)];
        }

        return null;
    }

    private static List<(double Position, int Mantissa, int Decade)> Positions(double lo, double hi, int[] mantissas)
    {
        var positions = new List<(double, int, int)>();
        for (var d = (int)Math.Floor(lo) - 1; d <= (int)Math.Ceiling(hi); d++)
        {
            foreach (var m in mantissas)
            {
                var position = d + Math.Log10(m);
                if (position >= lo - 1e-9 && position <= hi + 1e-9)
                    positions.Add((position, m, d));
            }
        }

        return positions;
    }

    /// <summary>When mantissa ticks are too few: evenly spaced values (in data units) placed on the log axis.</summary>
    private static Tick[] LinearTicks(double lo, double hi, int maxMajor)
    {
        var low = Math.Pow(10, lo);
        var high = Math.Pow(10, hi);
        // The widest 1–2–5 step that still gives three labels, so the reader can see the spacing.
        var step = NiceSteps(high - low).FirstOrDefault(s => Count(s) >= 3 && Count(s) <= maxMajor);
        if (step == 0)
            step = NiceSteps(high - low).First(s => Count(s) >= 2);
        var ticks = new List<Tick>();
        for (var k = Math.Ceiling(low / step); k * step <= high * (1 + 1e-12); k++)
        {
            var value = k * step;
            if (value > 0)
                ticks.Add(Tick.Major(Math.Log10(value), FormatPlain(value, step)));
        }

        return [.. ticks];

        int Count(double s) => (int)(Math.Floor(high * (1 + 1e-12) / s) - Math.Ceiling(low / s)) + 1;
    }

    private static IEnumerable<double> NiceSteps(double span)
    {
        var exponent = (int)Math.Floor(Math.Log10(span));
        for (var e = exponent; e > exponent - 6; e--)
        {
            foreach (var m in new[] { 5, 2, 1 })
                yield return m * Math.Pow(10, e);
        }
    }

    private static string FormatPlain(double value, double step)
    {
        var decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step)), 0, 15);
        return Math.Round(value, decimals).ToString("0." + new string('#', Math.Max(decimals, 0)), CultureInfo.InvariantCulture);
    }

    /// <summary>Decade labels are always powers ("10⁻¹", "10⁰", "10²") so that one axis never mixes two notations.</summary>
    internal static string FormatDecade(int decade) => "10" + Superscript(decade);

    /// <summary>Within less than two decades: plain numbers near 1 ("0.02", "500"), otherwise "2×10⁻³".</summary>
    internal static string FormatMantissa(int mantissa, int decade, bool plain)
    {
        if (plain)
            return (mantissa * Math.Pow(10, decade)).ToString("0.###", CultureInfo.InvariantCulture);
        return mantissa == 1 ? FormatDecade(decade) : $"{mantissa}×{FormatDecade(decade)}";
    }

    internal static string Superscript(int exponent)
    {
        const string digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        var text = Math.Abs(exponent).ToString(CultureInfo.InvariantCulture);
        var chars = text.Select(c => digits[c - '0']);
        return (exponent < 0 ? "⁻" : "") + string.Concat(chars);
    }
}
