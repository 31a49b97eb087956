namespace Deqn.Equilibrium.Diagnostics;

/// <summary>
/// What economists publish about a solution's accuracy: the distribution of |relative Euler errors| over states from a
/// simulated path — mean, max and percentiles, also as log10 (−4 reads "a consumption mistake of 1 in 10,000").
/// </summary>
public sealed record EulerErrorStatistics(int Count, double Mean, double Max, double Median, double P90, double P99)
{
    public double Log10Mean => Math.Log10(Mean);
    public double Log10Max => Math.Log10(Max);

    /// <summary>Statistics of the absolute values; percentiles by linear interpolation between order statistics.</summary>
    public static EulerErrorStatistics Of(IEnumerable<double> errors)
    {
        var a = errors.Select(Math.Abs).ToArray();
        if (a.Length == 0) throw new ArgumentException("no Euler errors to summarize");
        if (a.Any(double.IsNaN)) throw new ArgumentException("an Euler error is NaN: the policy left the feasible set");
        Array.Sort(a);
        double Percentile(double p)
        {
            double pos = p * (a.Length - 1);
            int lo = (int)Math.Floor(pos);
            int hi = Math.Min(lo + 1, a.Length - 1);
            return a[lo] + (pos - lo) * (a[hi] - a[lo]);
        }
        return new EulerErrorStatistics(a.Length, a.Average(), a[^1], Percentile(0.5), Percentile(0.9), Percentile(0.99));
    }
}
