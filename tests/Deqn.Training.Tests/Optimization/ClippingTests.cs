using Deqn.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static Deqn.Training.Tests.Optimization.OptimizerTestProblems;

namespace Deqn.Training.Tests.Optimization;

public sealed class ClippingTests
{
    /// <summary>Gradients (3, −4) and (12): a linear loss cᵀw has gradient c exactly. Global norm 13.</summary>
    private static (Parameter P1, Parameter P2, Parameter NoGrad) WithGradients()
    {
        var p1 = Param(1.0, 2.0);
        var p2 = Param(5.0);
        var unused = Param(7.0);
        var loss = (torch.tensor(new[] { 3.0, -4.0 }) * p1).sum() + 12.0 * p2.sum();
        loss.backward();
        return (p1, p2, unused);
    }

    [Fact]
    public void Clipping_by_value_clamps_each_entry()
    {
        // Given
        var (p1, p2, unused) = WithGradients();

        // When
        GradientClipping.ByValue(new[] { p1, p2, unused }, 3.5);

        // Then
        Assert.Equal(new[] { 3.0, -3.5 }, Values(p1.grad!));
        Assert.Equal(new[] { 3.5 }, Values(p2.grad!));
        Assert.Null(unused.grad);
    }

    [Fact]
    public void The_global_norm_is_over_all_gradients_together()
    {
        var (p1, p2, unused) = WithGradients();
        Assert.Equal(13.0, GradientClipping.GlobalNorm(new[] { p1, p2, unused }), 1e-15);
    }

    [Fact]
    public void Clipping_by_global_norm_rescales_all_gradients_and_returns_the_norm_before()
    {
        // Given
        var (p1, p2, _) = WithGradients();

        // When
        double before = GradientClipping.ByGlobalNorm(new[] { p1, p2 }, 6.5);

        // Then the direction is kept, the norm is 6.5 (tolerance 1e-15 relative)
        Assert.Equal(13.0, before, 1e-15);
        AssertClose(new[] { 1.5, -2.0 }, Values(p1.grad!));
        AssertClose(new[] { 6.0 }, Values(p2.grad!));
        Assert.Equal(6.5, GradientClipping.GlobalNorm(new[] { p1, p2 }), 1e-14);
    }

    [Fact]
    public void Gradients_below_the_global_norm_are_left_alone()
    {
        var (p1, p2, _) = WithGradients();
        Assert.Equal(13.0, GradientClipping.ByGlobalNorm(new[] { p1, p2 }, 20), 1e-15);
        Assert.Equal(new[] { 3.0, -4.0 }, Values(p1.grad!));
        Assert.Equal(new[] { 12.0 }, Values(p2.grad!));
    }

    [Fact]
    public void Clipping_limits_must_be_positive()
    {
        var (p1, _, _) = WithGradients();
        Assert.Equal("clip value must be > 0 (got 0)", Assert.Throws<ArgumentException>(() => GradientClipping.ByValue(new[] { p1 }, 0)).Message);
        Assert.Equal("clip norm must be > 0 (got -1)", Assert.Throws<ArgumentException>(() => GradientClipping.ByGlobalNorm(new[] { p1 }, -1)).Message);
    }

    [Fact]
    public void Clipping_as_the_after_backward_hook_changes_the_step()
    {
        // Given sgd with lr 1 on the linear loss, clipped to global norm 1 after each backward
        using var w = Param(0.0, 0.0);
        using var opt = Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 1 }, new[] { w });
        opt.AfterBackward = () => GradientClipping.ByGlobalNorm(opt.Parameters, 1.0);

        // When
        opt.Step(() => { var l = (torch.tensor(new[] { 3.0, -4.0 }) * w).sum(); l.backward(); return l.ToDouble(); });

        // Then the step is the unit vector against the gradient
        AssertClose(new[] { -0.6, 0.8 }, Values(w));
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-15 * Math.Abs(expected[i]), $"[{i}] expected {expected[i]:R}, got {actual[i]:R}");
    }
}
