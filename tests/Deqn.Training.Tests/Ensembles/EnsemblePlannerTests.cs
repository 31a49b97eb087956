using Deqn.Training.Ensembles;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;

namespace Deqn.Training.Tests.Ensembles;

public sealed class EnsemblePlannerTests
{
    private static readonly NetworkSpec Small = NetworkSpec.Dense(3, [64, 64], 1, Activation.Tanh);

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(64)]
    public void Small_networks_on_minibatches_of_32_are_stacked(int members)
    {
        // Given / When / Then (measured: 3.6× faster at K = 4, 5.4× at K = 16)
        Assert.True(EnsemblePlanner.ShouldStack(members, rows: 500, batchSize: 32, Small));
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(16, 500)]
    [InlineData(64, 1000)]
    public void Full_batches_of_500_rows_are_not_stacked(int members, int batchSize)
    {
        // Given full batch (0 or at least the row count) / When / Then (measured: 0.88–1.05×)
        Assert.False(EnsemblePlanner.ShouldStack(members, rows: 500, batchSize, Small));
    }

    [Fact]
    public void A_single_network_is_never_stacked()
    {
        Assert.False(EnsemblePlanner.ShouldStack(1, rows: 500, batchSize: 32, Small));
    }

    [Fact]
    public void Batch_normalization_is_never_stacked()
    {
        // Given a spec the stack refuses
        var spec = NetworkSpec.Dense(3, [64, 64], 1, batchNorm: new BatchNormSpec());

        // When / Then
        Assert.False(EnsemblePlanner.ShouldStack(16, rows: 500, batchSize: 32, spec));
    }

    [Fact]
    public void Wide_networks_whose_arithmetic_dominates_are_not_stacked()
    {
        // Given 512-wide layers (≈ 265k parameters): a step of 32 rows is arithmetic, not overhead
        var wide = NetworkSpec.Dense(3, [512, 512], 1);

        // When / Then
        Assert.False(EnsemblePlanner.ShouldStack(16, rows: 500, batchSize: 32, wide));
    }

    [Fact]
    public void Minibatches_of_256_are_stacked_from_four_members()
    {
        // Given the rule's crossover for the small net at 256 rows (overhead 450 µs; arithmetic 344 µs alone, 516 µs stacked)
        // When / Then
        Assert.False(EnsemblePlanner.ShouldStack(3, rows: 1000, batchSize: 256, Small));
        Assert.True(EnsemblePlanner.ShouldStack(4, rows: 1000, batchSize: 256, Small));
    }

    [Theory]
    [InlineData(4, 10, true)]
    [InlineData(64, 10, true)]
    [InlineData(16, 100, true)]
    [InlineData(2, 100, false)]
    [InlineData(4, 500, false)]
    [InlineData(64, 500, false)]
    public void StackedLbfgs_is_planned_for_four_or_more_members_on_small_training_sets(int members, int rows, bool stack)
    {
        // Given full-batch L-BFGS (the batch size does not matter) / When / Then (measured: 2.8–10× at N ≤ 100, K ≥ 4; 0.4–0.9× at N = 500)
        Assert.Equal(stack, EnsemblePlanner.ShouldStack(members, rows, batchSize: 32, Small, OptimizerKind.Lbfgs));
    }
}
