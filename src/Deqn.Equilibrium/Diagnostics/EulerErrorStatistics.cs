namespace Deqn.Equilibrium.Diagnostics;

/// <summary>
/// What economists publish about a solution's accuracy: the distribution of |relative Euler errors| over states from a
/// simulated path — mean, max and percentiles, also as log10 (−4 reads "a consumption mistake of 1 in 10,000").
/// Non-finite errors (a policy that left the feasible set) are counted, not summarized: with any of them the mean and
/// the max are NaN, so no table can show a clean number for them.
/// </summary>
public sealed record EulerErrorStatistics(int Count, double Mean, double Max, double Median, double P90, double P99)
{
    public double Log10Mean => Math.Log10(Mean);
    public double Log10Max => Math.Log10(Max);

    /// <summary>How many errors were NaN or infinite (they are left out of the percentiles).</summary>
    public int NonFinite { get; init; }

    public bool AllFinite => NonFinite == 0;

    /// <summary>Statistics of the absolute values; percentiles by linear interpolation between order statistics.</summary>
    public static EulerErrorStatistics Of(IEnumerable<double> errors)
    {
        var all = errors.Select(Math.Abs).ToArray();
        if (all.Length == 0) throw new ArgumentException("no Euler errors to summarize");
        var a = all.Where(double.IsFinite).ToArray();
        int nonFinite = all.Length - a.Length;
        if (a.Length == 0) return new EulerErrorStatistics(all.Length, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN) { NonFinite = nonFinite };
        Array.Sort(a);
        double Percentile(double p)
        {
            double pos = p * (a.Length - 1);
            int lo = (int)Math.Floor(pos);
            int hi = Math.Min(lo + 1, a.Length - 1);
            return a[lo] + (pos - lo) * (a[hi] - a[lo]);
        }
        return new EulerErrorStatistics(all.Length, nonFinite > 0 ? double.NaN : a.Average(), nonFinite > 0 ? double.NaN : a[^1], Percentile(0.5), Percentile(0.9), Percentile(0.99))
        {
            NonFinite = nonFinite,
        };
    }
}
