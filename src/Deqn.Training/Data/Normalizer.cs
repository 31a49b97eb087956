using System.Globalization;
using System.Text.Json.Serialization;
using TorchSharp;

namespace Deqn.Training.Data;

/// <summary>How a column is rescaled before training.</summary>
public enum NormalizationKind
{
    None,
    /// <summary>(x − mean)/std with the population std (ddof 0, as scikit-learn's StandardScaler); a constant column gets std 1.</summary>
    Standard,
    /// <summary>Onto [−1, 1]: (x − midrange)/half-range; a constant column gets half-range 1.</summary>
    MinMax,
}

/// <summary>
/// A per-column affine rescaling x' = (x − Offset)/Scale, fitted on the training rows only and stored with
/// the model, which is why it is a plain record of arrays. Equality compares the arrays' contents.
/// </summary>
public sealed record Normalizer(NormalizationKind Kind, double[] Offset, double[] Scale)
{
    public static readonly IReadOnlyDictionary<string, NormalizationKind> ByName =
        new Dictionary<string, NormalizationKind>(StringComparer.OrdinalIgnoreCase)
        {
            ["none"] = NormalizationKind.None,
            ["standard"] = NormalizationKind.Standard, ["zscore"] = NormalizationKind.Standard,
            ["minmax"] = NormalizationKind.MinMax, ["min-max"] = NormalizationKind.MinMax,
        };

    [JsonIgnore]
    public int Dimension => Offset.Length;

    /// <summary>Fits on <paramref name="rows"/> ([n, d]); pass only the training rows.</summary>
    public static Normalizer Fit(NormalizationKind kind, double[,] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int n = rows.GetLength(0), d = rows.GetLength(1);
        if (kind == NormalizationKind.None) return Identity(d);
        if (n == 0) throw new ArgumentException("normalizer: cannot fit on zero rows");

        var offset = new double[d];
        var scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            switch (kind)
            {
                case NormalizationKind.Standard:
                    double mean = 0;
                    for (int i = 0; i < n; i++) mean += rows[i, j];
                    mean /= n;
                    // Two passes: the one-pass formula loses digits when the mean is large relative to the spread.
                    double ss = 0;
                    for (int i = 0; i < n; i++) ss += (rows[i, j] - mean) * (rows[i, j] - mean);
                    double std = Math.Sqrt(ss / n);
                    offset[j] = mean;
                    scale[j] = std > 0 ? std : 1.0;
                    break;
                case NormalizationKind.MinMax:
                    double min = double.PositiveInfinity, max = double.NegativeInfinity;
                    for (int i = 0; i < n; i++)
                    {
                        min = Math.Min(min, rows[i, j]);
                        max = Math.Max(max, rows[i, j]);
                    }
                    double half = (max - min) / 2;
                    offset[j] = min + half;
                    scale[j] = half > 0 ? half : 1.0;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
            }
        }
        return new Normalizer(kind, offset, scale);
    }

    public static Normalizer Identity(int d)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(d);
        return new Normalizer(NormalizationKind.None, new double[d], Enumerable.Repeat(1.0, d).ToArray());
    }

    public double[,] Transform(double[,] x) => Map(x, inverse: false);

    public double[,] Inverse(double[,] x) => Map(x, inverse: true);

    /// <summary>A new tensor ([n, d], any floating dtype and device) rescaled column-wise.</summary>
    public torch.Tensor Transform(torch.Tensor x)
    {
        CheckShape(x);
        using var offset = torch.tensor(Offset, dtype: x.dtype, device: x.device);
        using var scale = torch.tensor(Scale, dtype: x.dtype, device: x.device);
        return x.sub(offset).div_(scale);
    }

    public torch.Tensor Inverse(torch.Tensor x)
    {
        CheckShape(x);
        using var offset = torch.tensor(Offset, dtype: x.dtype, device: x.device);
        using var scale = torch.tensor(Scale, dtype: x.dtype, device: x.device);
        return x.mul(scale).add_(offset);
    }

    /// <summary>"none", "standard" (or "zscore"), "minmax" (or "min-max"), any case.</summary>
    public static NormalizationKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name.Trim(), out var kind)
            ? kind
            : throw new ArgumentException($"unknown normalization '{name}' (valid: none, standard, minmax)");
    }

    public bool Equals(Normalizer? other) =>
        other is not null && Kind == other.Kind && Offset.AsSpan().SequenceEqual(other.Offset) && Scale.AsSpan().SequenceEqual(other.Scale);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Kind);
        foreach (double v in Offset) h.Add(v);
        foreach (double v in Scale) h.Add(v);
        return h.ToHashCode();
    }

    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()}(offset [{Join(Offset)}], scale [{Join(Scale)}])";

    private static string Join(double[] v) => string.Join(", ", v.Select(x => x.ToString("G6", CultureInfo.InvariantCulture)));

    private double[,] Map(double[,] x, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.GetLength(0), d = x.GetLength(1);
        if (d != Dimension) throw new ArgumentException($"normalizer: fitted on {Dimension} columns, got {d}");
        var y = new double[n, d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
                y[i, j] = inverse ? x[i, j] * Scale[j] + Offset[j] : (x[i, j] - Offset[j]) / Scale[j];
        return y;
    }

    private void CheckShape(torch.Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2 || x.shape[1] != Dimension)
            throw new ArgumentException($"normalizer: fitted on {Dimension} columns, got a tensor of shape [{string.Join(", ", x.shape)}]");
    }
}
