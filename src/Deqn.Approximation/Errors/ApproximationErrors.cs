namespace Deqn.Approximation.Errors;

/// <summary>
/// How far predictions are from the true values on a set of test points.
/// <para>
/// MeanAbs = mean |p − a|, MaxAbs = max |p − a|, Rmse = √(mean (p − a)²). Range = max a − min a, the spread of
/// the true values; the relative errors are the absolute ones divided by Range, so they compare across functions
/// of different scales. When Range is 0 (a constant target) the relative errors are divided by 1 instead, i.e.
/// they equal the absolute ones. A NaN among the values makes the errors NaN.
/// </para>
/// </summary>
public sealed record ApproximationErrors(
    double MeanAbs, double MaxAbs, double Rmse, double Range, double RelMeanAbs, double RelMaxAbs, double RelRmse)
{
    /// <exception cref="ArgumentException">The spans differ in length or are empty.</exception>
    public static ApproximationErrors Compute(ReadOnlySpan<double> predicted, ReadOnlySpan<double> actual)
    {
        if (predicted.Length != actual.Length)
            throw new ArgumentException($"errors: {predicted.Length} predictions for {actual.Length} true values");
        if (actual.Length == 0) throw new ArgumentException("errors: no values to compare");

        double sumAbs = 0, sumSquares = 0, maxAbs = 0, min = actual[0], max = actual[0];
        for (int i = 0; i < actual.Length; i++)
        {
            double e = Math.Abs(predicted[i] - actual[i]);
            sumAbs += e;
            sumSquares += e * e;
            maxAbs = Math.Max(maxAbs, e); // Math.Max propagates NaN
            min = Math.Min(min, actual[i]);
            max = Math.Max(max, actual[i]);
        }
        double meanAbs = sumAbs / actual.Length, rmse = Math.Sqrt(sumSquares / actual.Length), range = max - min;
        double scale = range == 0 ? 1 : range;
        return new ApproximationErrors(meanAbs, maxAbs, rmse, range, meanAbs / scale, maxAbs / scale, rmse / scale);
    }

    /// <summary>Keys: mean_abs_error, max_abs_error, rmse, range, rel_mean_abs_error, rel_max_abs_error, rel_rmse.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["mean_abs_error"] = MeanAbs,
        ["max_abs_error"] = MaxAbs,
        ["rmse"] = Rmse,
        ["range"] = Range,
        ["rel_mean_abs_error"] = RelMeanAbs,
        ["rel_max_abs_error"] = RelMaxAbs,
        ["rel_rmse"] = RelRmse,
    };
}
