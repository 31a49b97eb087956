namespace Deqn.Reports;

/// <summary>Maps data values to plot coordinates: identity, or log10 for a log axis (values ≤ 0 have no coordinate).</summary>
internal static class AxisTransform
{
    public static bool TryMap(double value, AxisScale scale, out double coordinate)
    {
        coordinate = scale == AxisScale.Log10 ? Math.Log10(value) : value;
        return double.IsFinite(value) && (scale == AxisScale.Linear || value > 0) && double.IsFinite(coordinate);
    }
}

/// <summary>A series in plot coordinates, with the values that could not be shown counted rather than thrown on.</summary>
internal sealed record PreparedSeries(
    string Label,
    double[] Xs,
    double[] Ys,
    double[] BandXs,
    double[] BandLows,
    double[] BandHighs,
    int OmittedValues)
{
    public static PreparedSeries From(Series series, AxisScale xScale, AxisScale yScale, double? ceiling = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(series.X, nameof(series.X));
        ArgumentNullException.ThrowIfNull(series.Y, nameof(series.Y));
        var n = series.X.Length;
        if (series.Y.Length != n)
            throw new ArgumentException($"Series '{series.Label}': X has {n} values but Y has {series.Y.Length}.");
        if (series.Lower is { } lower && lower.Length != n)
            throw new ArgumentException($"Series '{series.Label}': X has {n} values but Lower has {lower.Length}.");
        if (series.Upper is { } upper && upper.Length != n)
            throw new ArgumentException($"Series '{series.Label}': X has {n} values but Upper has {upper.Length}.");

        var omitted = 0;
        var xs = new List<double>(n);
        var ys = new List<double>(n);
        var bandXs = new List<double>();
        var bandLows = new List<double>();
        var bandHighs = new List<double>();
        var hasBand = series.Lower is not null || series.Upper is not null;

        // Points are sorted by x so that lines and bands are drawn left to right even if the caller's order is not.
        foreach (var i in Enumerable.Range(0, n).OrderBy(i => series.X[i]))
        {
            if (!AxisTransform.TryMap(series.X[i], xScale, out var x))
            {
                omitted += 1 + (hasBand ? 1 : 0);
                continue;
            }

            if (AxisTransform.TryMap(Clip(series.Y[i], ceiling), yScale, out var y))
            {
                xs.Add(x);
                ys.Add(y);
            }
            else
            {
                omitted++;
            }

            if (!hasBand)
                continue;
            // A missing bound falls back to the line itself, so a one-sided band still shows.
            var lowValue = series.Lower?[i] ?? series.Y[i];
            var highValue = series.Upper?[i] ?? series.Y[i];
            if (AxisTransform.TryMap(lowValue, yScale, out var low) && AxisTransform.TryMap(highValue, yScale, out var high))
            {
                bandXs.Add(x);
                bandLows.Add(Math.Min(low, high));
                bandHighs.Add(Math.Max(low, high));
            }
            else
            {
                omitted++;
            }
        }

        return new PreparedSeries(series.Label ?? "", [.. xs], [.. ys], [.. bandXs], [.. bandLows], [.. bandHighs], omitted);
    }

    /// <summary>A value above the ceiling, or NaN or +∞ (where a diverged run ends), is drawn at the ceiling.</summary>
    public static double Clip(double y, double? ceiling) =>
        ceiling is { } c && (y > c || double.IsNaN(y) || double.IsPositiveInfinity(y)) ? c : y;

    public IEnumerable<(double X, double Y)> Points()
    {
        for (var i = 0; i < Xs.Length; i++)
            yield return (Xs[i], Ys[i]);
        for (var i = 0; i < BandXs.Length; i++)
        {
            yield return (BandXs[i], BandLows[i]);
            yield return (BandXs[i], BandHighs[i]);
        }
    }

    /// <summary>Points along the drawn lines (not only the data points), so legend placement sees the segments too.</summary>
    public IEnumerable<(double X, double Y)> SampledOutline(int perSegment)
    {
        foreach (var p in Sample(Xs, Ys, perSegment))
            yield return p;
        foreach (var p in Sample(BandXs, BandLows, perSegment))
            yield return p;
        foreach (var p in Sample(BandXs, BandHighs, perSegment))
            yield return p;
        for (var i = 0; i < BandXs.Length; i++)
        {
            for (var k = 1; k < 4; k++)
                yield return (BandXs[i], BandLows[i] + (BandHighs[i] - BandLows[i]) * k / 4);
        }
    }

    private static IEnumerable<(double, double)> Sample(double[] xs, double[] ys, int perSegment)
    {
        for (var i = 0; i < xs.Length; i++)
        {
            yield return (xs[i], ys[i]);
            if (i + 1 >= xs.Length)
                continue;
            for (var k = 1; k < perSegment; k++)
            {
                var t = k / (double)perSegment;
                yield return (xs[i] + (xs[i + 1] - xs[i]) * t, ys[i] + (ys[i + 1] - ys[i]) * t);
            }
        }
    }
}
