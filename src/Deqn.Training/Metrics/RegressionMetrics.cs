namespace Deqn.Training.Metrics;

/// <summary>Errors over all elements of [n, k] predictions; R² is the mean over the k outputs (scikit-learn's uniform_average).</summary>
public sealed record RegressionMetrics(double Mse, double Rmse, double Mae, double MaxAbsError, double R2)
{
    public static RegressionMetrics Compute(double[,] predicted, double[,] actual)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(actual);
        int n = actual.GetLength(0), k = actual.GetLength(1);
        if (predicted.GetLength(0) != n || predicted.GetLength(1) != k)
            throw new ArgumentException($"metrics: predicted [{predicted.GetLength(0)}, {predicted.GetLength(1)}] and actual [{n}, {k}] differ in shape");
        if (n == 0 || k == 0) throw new ArgumentException("metrics: no values to compare");

        double sumSquares = 0, sumAbs = 0, maxAbs = 0, r2 = 0;
        for (int j = 0; j < k; j++)
        {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += actual[i, j];
            mean /= n;
            double ssRes = 0, ssTot = 0;
            for (int i = 0; i < n; i++)
            {
                double e = predicted[i, j] - actual[i, j];
                ssRes += e * e;
                ssTot += (actual[i, j] - mean) * (actual[i, j] - mean);
                sumAbs += Math.Abs(e);
                maxAbs = Math.Max(maxAbs, Math.Abs(e));
            }
            sumSquares += ssRes;
            // A constant column has no variance to explain: scikit-learn scores it 1 if predicted exactly, else 0.
            r2 += ssTot > 0 ? 1 - ssRes / ssTot : ssRes == 0 ? 1 : 0;
        }
        double count = (double)n * k;
        double mse = sumSquares / count;
        return new RegressionMetrics(mse, Math.Sqrt(mse), sumAbs / count, maxAbs, r2 / k);
    }

    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["mse"] = Mse, ["rmse"] = Rmse, ["mae"] = Mae, ["max_abs_error"] = MaxAbsError, ["r2"] = R2,
    };
}
