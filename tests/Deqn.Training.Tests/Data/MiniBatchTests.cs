using Deqn.Training.Data;
using TorchSharp;

namespace Deqn.Training.Tests.Data;

public sealed class MiniBatchTests
{
    private static long[][] Indices(IReadOnlyList<torch.Tensor> batches)
    {
        var result = batches.Select(b => b.data<long>().ToArray()).ToArray();
        foreach (var b in batches) b.Dispose();
        return result;
    }

    [Theory]
    [InlineData(10, 3, true)]
    [InlineData(10, 5, true)]
    [InlineData(7, 1, true)]
    [InlineData(10, 3, false)]
    public void An_epoch_covers_every_row_exactly_once_in_batches_of_the_given_size(int n, int batchSize, bool shuffle)
    {
        // Given
        using var g = new torch.Generator(1);

        // When
        var batches = MiniBatches.Plan(n, batchSize, g, shuffle);
        Assert.All(batches, b => Assert.Equal(torch.ScalarType.Int64, b.dtype));
        var indices = Indices(batches);

        // Then
        Assert.Equal((n + batchSize - 1) / batchSize, indices.Length);
        Assert.All(indices[..^1], b => Assert.Equal(batchSize, b.Length));
        Assert.Equal(n - (indices.Length - 1) * batchSize, indices[^1].Length);
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long)i), indices.SelectMany(b => b).Order());
    }

    [Fact]
    public void Each_epoch_draws_a_fresh_order_and_a_seed_repeats_the_sequence()
    {
        // Given two generators with the same seed
        using var g = new torch.Generator(7);
        using var h = new torch.Generator(7);

        // When
        var first = Indices(MiniBatches.Plan(100, 10, g)).SelectMany(b => b).ToArray();
        var second = Indices(MiniBatches.Plan(100, 10, g)).SelectMany(b => b).ToArray();
        var again = Indices(MiniBatches.Plan(100, 10, h)).SelectMany(b => b).ToArray();

        // Then
        Assert.NotEqual(first, second);
        Assert.NotEqual(Enumerable.Range(0, 100).Select(i => (long)i), first);
        Assert.Equal(first, again);
    }

    [Fact]
    public void Without_shuffling_batches_follow_the_row_order()
    {
        // Given
        using var g = new torch.Generator(7);

        // When
        var indices = Indices(MiniBatches.Plan(5, 2, g, shuffle: false));

        // Then
        Assert.Equal(new[] { new long[] { 0, 1 }, [2, 3], [4] }, indices);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(1000)]
    public void A_batch_size_of_zero_or_at_least_n_gives_one_batch_of_all_rows(int batchSize)
    {
        // Given
        using var g = new torch.Generator(3);

        // When
        var indices = Indices(MiniBatches.Plan(8, batchSize, g));

        // Then
        var batch = Assert.Single(indices);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), batch);
    }

    [Fact]
    public void No_rows_give_no_batches()
    {
        // Given
        using var g = new torch.Generator(3);

        // When / Then
        Assert.Empty(MiniBatches.Plan(0, 4, g));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(7, 3)]
    [InlineData(100, 4)]
    public void A_permutation_from_a_uniform_stream_holds_every_index_once_and_repeats_with_the_stream(int n, int seed)
    {
        // Given two uniform streams from the same seed
        var a = new Random(seed);
        var b = new Random(seed);

        // When each drives a permutation of n
        var first = MiniBatches.Permutation(n, a.NextDouble);
        var second = MiniBatches.Permutation(n, b.NextDouble);

        // Then each index appears once, and the same stream gives the same order
        Assert.Equal(Enumerable.Range(0, n).Select(i => (long)i), first.Order());
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_permutation_follows_fisher_yates_from_the_last_index_down()
    {
        // Given draws 0.0, 0.99, 0.5 for n = 4: swap 3↔0, then 2↔2, then 1↔1 ((int)(0.5·2) = 1)
        var draws = new Queue<double>([0.0, 0.99, 0.5]);

        // When the permutation is made
        var p = MiniBatches.Permutation(4, draws.Dequeue);

        // Then it is [3, 1, 2, 0]
        Assert.Equal([3L, 1, 2, 0], p);
    }
}
