using Deqn.Training.Ensembles;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Ensembles;

public sealed class StackedLevenbergMarquardtTests
{
    private static NetworkSpec Linear() => NetworkSpec.Dense(3, [], 1, Activation.Linear) with { Precision = Precision.Float64 };

    private static NetworkSpec Tanh(int width = 8) => NetworkSpec.Dense(3, [width, width], 1, Activation.Tanh) with { Precision = Precision.Float64 };

    private static Tensor Rand(Generator g, params long[] shape) => torch.rand(shape, dtype: ScalarType.Float64, generator: g);

    private static double[] Flat(NetworkStack stack, int k)
    {
        using var scope = torch.NewDisposeScope();
        return torch.cat(stack.parameters().Select(p => p.detach()[k].reshape(-1)).ToArray(), 0).data<double>().ToArray();
    }

    [Theory]
    // losses, window, tolerance → stalled: the newest loss is above (1 − tol) × the loss `window` iterations before.
    [InlineData(new[] { 1.0, 0.5 }, 1, 0.1, false)]          // fell by half
    [InlineData(new[] { 1.0, 0.95 }, 1, 0.1, true)]          // fell by 5 % < 10 %
    [InlineData(new[] { 1.0, 0.9, 0.85, 0.8 }, 3, 0.1, false)] // 20 % over three iterations
    [InlineData(new[] { 1.0, 0.99, 0.98, 0.97 }, 3, 0.1, true)] // 3 % over three iterations
    [InlineData(new[] { 1.0, 0.999 }, 5, 0.1, false)]        // fewer than window + 1 values never stall
    [InlineData(new[] { 2.0, 1.0, 1.0 }, 1, 0.0, false)]     // at tolerance 0 only a rise stalls: an unchanged loss does not
    [InlineData(new[] { 2.0, 1.0, 1.5 }, 1, 0.0, true)]
    public void Stalled_follows_its_formula(double[] losses, int window, double tol, bool stalled)
    {
        Assert.Equal(stalled, StackedLevenbergMarquardt.Stalled(losses, window, tol));
    }

    /// <summary>
    /// A linear model is its own Gauss–Newton model, so LM with small damping reaches the least-squares solution of the
    /// normal equations in a few steps: this checks JJᵀ = Σ (AAᵀ + 1)∘(DDᵀ) and Jᵀy with the bias column.
    /// </summary>
    [Fact]
    public void On_a_linear_model_it_reaches_the_least_squares_solution()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(5);
        const int K = 2, n = 30;
        var x = Rand(g, K, n, 3);
        var trueW = torch.tensor(new double[] { 1.5, -2.0, 0.5, 3.0, 0.2, -1.0 }, dtype: ScalarType.Float64).view(K, 3, 1);
        var y = x.bmm(trueW).add(torch.tensor(new[] { 0.7, -0.3 }, dtype: ScalarType.Float64).view(K, 1, 1)).add(Rand(g, K, n, 1).sub(0.5).mul(0.1));
        using var stack = NetworkStack.FromSeeds(Linear(), [1, 2]);
        var lm = new StackedLevenbergMarquardt(stack, relativeTolerance: 0);
        for (int i = 0; i < 8; i++) lm.Step(x, y);

        for (int k = 0; k < K; k++)
        {
            // Normal equations on [x, 1].
            var a = torch.cat([x[k], torch.ones(n, 1, dtype: ScalarType.Float64)], 1);
            var w = torch.linalg.lstsq(a, y[k]).Solution.reshape(-1).data<double>().ToArray();
            var got = Flat(stack, k);   // weight (3) then bias (1)
            for (int j = 0; j < 4; j++) Assert.True(Math.Abs(got[j] - w[j]) < 1e-8, $"member {k}, coefficient {j}: {got[j]} vs {w[j]}");
        }
    }

    [Fact]
    public void Members_train_as_they_would_alone_and_the_loss_falls()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(11);
        const int n = 40;
        var x = Rand(g, 2, n, 3).mul(2).sub(1);
        var y = x.select(2, 0).mul(Math.PI).sin().mul(x.select(2, 1).exp()).unsqueeze(2).add(x.select(2, 2).square().unsqueeze(2));

        using var pair = NetworkStack.FromSeeds(Tanh(), [3, 4]);
        using var alone = NetworkStack.FromSeeds(Tanh(), [4]);
        var lmPair = new StackedLevenbergMarquardt(pair, relativeTolerance: 0);
        var lmAlone = new StackedLevenbergMarquardt(alone, relativeTolerance: 0);
        double first = 0, last = 0;
        for (int i = 0; i < 15; i++)
        {
            var lp = lmPair.Step(x, y);
            var la = lmAlone.Step(x.narrow(0, 1, 1), y.narrow(0, 1, 1));
            if (i == 0) first = la[0];
            last = la[0];
            Assert.True(Math.Abs(lp[1] - la[0]) <= 1e-9 * Math.Max(la[0], 1e-300), $"iteration {i}: {lp[1]} in the pair, {la[0]} alone");
        }
        Assert.True(last < first / 100, $"loss {first} → {last}");
        var a = Flat(pair, 1);
        var b = Flat(alone, 0);
        Assert.True(a.Zip(b, (u, v) => Math.Abs(u - v)).Max() <= 1e-8 * b.Max(Math.Abs));
    }

    [Fact]
    public void A_member_that_reaches_the_loss_floor_stops_and_others_go_on()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(2);
        var x = Rand(g, 2, 5, 3);
        // Member 0: an exactly linear target (the net can interpolate 5 points); member 1 as well, but with floor 0.
        var y = x.sum([2L], keepdim: true);
        using var stack = NetworkStack.FromSeeds(Tanh(16), [1, 2]);
        var lm = new StackedLevenbergMarquardt(stack, relativeTolerance: 0, lossFloor: 1e-12);
        for (int i = 0; i < 60 && !lm.Converged.All(c => c); i++) lm.Step(x, y);
        Assert.All(lm.Converged, Assert.True);
        lm.Exclude(0);
        Assert.Throws<ArgumentException>(() => new StackedLevenbergMarquardt(stack, relativeTolerance: 1));
    }

    [Fact]
    public void It_is_planned_stacked_even_for_one_member()
    {
        Assert.True(EnsemblePlanner.ShouldStack(1, 500, 0, Tanh(), OptimizerKind.Lm));
        Assert.Equal(OptimizerKind.Lm, Optimizers.Parse("lm"));
    }
}
