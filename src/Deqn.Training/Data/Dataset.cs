using TorchSharp;

namespace Deqn.Training.Data;

/// <summary>
/// Features [n, d] and targets: [n, k] floating for regression, or [n] int64 class indices for classification.
/// The dataset owns both tensors and disposes them.
/// </summary>
public sealed class Dataset : IDisposable
{
    public torch.Tensor Features { get; }
    public torch.Tensor Targets { get; }
    public int Count => (int)Features.shape[0];

    /// <summary>Whether <see cref="Targets"/> are class indices.</summary>
    public bool IsClassification => Targets.dtype == torch.ScalarType.Int64;

    /// <summary>Takes ownership of both tensors.</summary>
    public Dataset(torch.Tensor features, torch.Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.dim() != 2) throw new ArgumentException($"dataset: features must be [n, d] (got [{Shape(features)}])");
        if (!features.is_floating_point()) throw new ArgumentException($"dataset: features must be floating point (got {features.dtype})");
        bool classes = targets.dim() == 1 && targets.dtype == torch.ScalarType.Int64;
        bool values = targets.dim() == 2 && targets.is_floating_point();
        if (!classes && !values)
            throw new ArgumentException($"dataset: targets must be [n, k] floating or [n] int64 (got [{Shape(targets)}] {targets.dtype})");
        if (targets.shape[0] != features.shape[0])
            throw new ArgumentException($"dataset: {features.shape[0]} feature rows but {targets.shape[0]} target rows");
        Features = features;
        Targets = targets;
    }

    /// <summary>Regression data: features and targets in <paramref name="dtype"/>.</summary>
    public static Dataset FromArrays(double[,] x, double[,] y, torch.ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var features = torch.tensor(x, dtype: dtype);
        var targets = torch.tensor(y, dtype: dtype);
        return Owning(features, targets);
    }

    /// <summary>Classification data: features in <paramref name="dtype"/>, targets as int64 class indices.</summary>
    public static Dataset FromArrays(double[,] x, int[] classes, torch.ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(classes);
        var features = torch.tensor(x, dtype: dtype);
        var targets = torch.tensor(classes.Select(c => (long)c).ToArray(), dtype: torch.ScalarType.Int64);
        return Owning(features, targets);
    }

    /// <summary>A new dataset (copies) of the given rows, in the given order.</summary>
    public Dataset Subset(int[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (int r in rows)
            if (r < 0 || r >= Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"dataset has {Count} rows");
        using var index = torch.tensor(rows.Select(r => (long)r).ToArray(), dtype: torch.ScalarType.Int64, device: Features.device);
        return Owning(Features.index_select(0, index), Targets.index_select(0, index));
    }

    public void Dispose()
    {
        Features.Dispose();
        Targets.Dispose();
    }

    // Disposes what was already made if validation fails, so a bad call leaks nothing.
    private static Dataset Owning(torch.Tensor features, torch.Tensor targets)
    {
        try { return new Dataset(features, targets); }
        catch
        {
            features.Dispose();
            targets.Dispose();
            throw;
        }
    }

    private static string Shape(torch.Tensor t) => string.Join(", ", t.shape);
}
