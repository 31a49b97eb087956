using TorchSharp;

namespace Deqn.Training.Data;

/// <summary>Which rows go into each minibatch of an epoch.</summary>
public static class MiniBatches
{
    /// <summary>
    /// Int64 index tensors for one epoch, every row exactly once. With <paramref name="shuffle"/>, a fresh
    /// torch.randperm(n) from <paramref name="generator"/>; otherwise rows in order. A batch size of 0 or at
    /// least n gives one batch of all rows in order, without drawing from the generator (the order cannot
    /// change a full-batch mean, and a fixed order keeps its floating-point sum reproducible). The last
    /// batch may be smaller. The caller disposes the tensors.
    /// </summary>
    public static IReadOnlyList<torch.Tensor> Plan(int n, int batchSize, torch.Generator generator, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        if (n == 0) return Array.Empty<torch.Tensor>();
        if (batchSize == 0 || batchSize >= n) return [torch.arange(n, dtype: torch.ScalarType.Int64)];

        ArgumentNullException.ThrowIfNull(generator);
        using var order = shuffle
            ? torch.randperm(n, torch.ScalarType.Int64, generator: generator)
            : torch.arange(n, dtype: torch.ScalarType.Int64);
        var batches = new List<torch.Tensor>((n + batchSize - 1) / batchSize);
        for (long start = 0; start < n; start += batchSize)
        {
            long length = Math.Min(batchSize, n - start);
            // Contiguous copies, so each batch stands alone when the caller disposes the others.
            using var view = order.narrow(0, start, length);
            batches.Add(view.clone());
        }
        return batches;
    }

    /// <summary>
    /// A permutation of 0 … n−1 by Fisher–Yates from <paramref name="uniform"/> (values in [0, 1)): for a caller whose
    /// random stream is its own and checkpointed with it (DEQN's one stream for draws, shocks and shuffling), where a
    /// torch generator's state would have to be saved beside it.
    /// </summary>
    public static long[] Permutation(int n, Func<double> uniform)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(uniform() * (i + 1));
            if (j > i) j = i;
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
