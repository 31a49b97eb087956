using System.Globalization;
using ScottPlot;

namespace Deqn.Reports;

/// <summary>
/// Linear ticks at 1–2–5 steps, as many as fit with room for the label, all with the same number of decimals
/// ("0.0, 0.5, 1.0" rather than ScottPlot's "0, 0.5, 1"), and minor ticks between them.
/// </summary>
internal sealed class LinearTickGenerator : ITickGenerator
{
    public Tick[] Ticks { get; set; } = [];

    public int MaxTickCount { get; set; } = 10_000;

    public void Regenerate(CoordinateRange range, Edge edge, PixelLength size, Paint paint, LabelStyle labelStyle)
    {
        var spacing = edge is Edge.Left or Edge.Right ? 60f : 90f;
        Ticks = Compute(range.Min, range.Max, Math.Max(2, (int)(size.Length / spacing)));
    }

    internal static Tick[] Compute(double lo, double hi, int maxMajor)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
            return [];
        if (hi < lo)
            (lo, hi) = (hi, lo);
        var span = hi - lo;
        if (span <= 0 || span < Math.Abs(hi) * 1e-14)
            return [];

        var (step, mantissa) = Step(span, lo, hi, Math.Max(2, maxMajor));
        var minorCount = mantissa == 2 ? 4 : 5;
        var minorStep = step / minorCount;
        var ticks = new List<Tick>();
        var first = Math.Ceiling(lo / minorStep);
        var last = Math.Floor(hi / minorStep);
        // Bounded: the chosen step keeps majors ≤ maxMajor, so minors ≤ 5·maxMajor + 5.
        for (var k = first; k <= last; k++)
        {
            var value = k * minorStep;
            var isMajor = Math.Abs(Math.IEEERemainder(k, minorCount)) < 0.5;
            // Snap values like 0.30000000000000004 so that 0 is exactly 0 and labels are clean.
            var snapped = Math.Round(value / minorStep) * minorStep;
            ticks.Add(isMajor ? Tick.Major(snapped, Format(snapped, step, hi, lo)) : Tick.Minor(snapped));
        }

        return [.. ticks];
    }

    private static (double Step, int Mantissa) Step(double span, double lo, double hi, int maxMajor)
    {
        var exponent = (int)Math.Floor(Math.Log10(span / maxMajor));
        for (var e = exponent; e <= exponent + 2; e++)
        {
            foreach (var m in new[] { 1, 2, 5 })
            {
                var step = m * Math.Pow(10, e);
                var count = Math.Floor(hi / step) - Math.Ceiling(lo / step) + 1;
                if (count <= maxMajor)
                    return (step, m);
            }
        }

        return (10 * Math.Pow(10, exponent + 2), 1);
    }

    private static string Format(double value, double step, double hi, double lo)
    {
        if (value == 0)
            value = 0; // -0 would print as "-0.0"
        var largest = Math.Max(Math.Abs(hi), Math.Abs(lo));
        if (largest >= 1e6 || step < 1e-4)
        {
            // As many mantissa digits as the step needs, so a narrow range far from zero (0.356401, 0.356403…) still
            // gets distinct labels.
            int magnitude = largest > 0 ? (int)Math.Floor(Math.Log10(largest)) : 0;
            int stepMagnitude = (int)Math.Floor(Math.Log10(step) + 1e-9);
            int digits = Math.Clamp(magnitude - stepMagnitude, 0, 15);
            return value.ToString(digits == 0 ? "0e0" : "0." + new string('0', digits) + "e0", CultureInfo.InvariantCulture);
        }
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        return value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
