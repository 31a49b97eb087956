using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Solving;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class SlopeAnchorTests
{
    // Deterministic Brock–Mirman (δ = 1): s = αβ everywhere, so the first-order slope of s in K is 0 and s̄ = αβ.
    private static readonly GrowthCalibration Bm = GrowthCalibration.BrockMirman;
    private static readonly double Star = Bm.Alpha * Bm.Beta;
    private static readonly double KStar = Math.Pow(Star, 1 / (1 - Bm.Alpha));

    private sealed class SavingsRate(Func<Tensor, Tensor> s) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => s(states.select(1, 0)).unsqueeze(1);
    }

    [Fact]
    public void The_closed_form_has_no_gap_and_no_penalty()
    {
        var model = new StochasticGrowth(Bm);
        using var anchor = SlopeAnchor.For(model, LinearSolution.Of(model), weight: 1)!;
        var closedForm = new SavingsRate(k => Star + 0 * k);
        Assert.True(anchor.Gap(closedForm) < 1e-9);
        Assert.True(anchor.Penalty(closedForm).item<double>() < 1e-18);
    }

    [Fact]
    public void A_tilted_policy_has_the_verdicts_gap_and_its_square_as_penalty()
    {
        // Given s = αβ + b·(K − K*): slope b against the perturbation's 0; K's half-range w = 0.45 (K ~ U[0.1, 1]);
        // the gap is |b|·w / max(s̄, 0) = |b|·0.45/αβ, the penalty weight × gap²
        var model = new StochasticGrowth(Bm);
        const double b = 0.01, weight = 0.5;
        using var anchor = SlopeAnchor.For(model, LinearSolution.Of(model), weight)!;
        var tilted = new SavingsRate(k => Star + b * (k - KStar));
        double expected = b * 0.45 / Star;
        Assert.Equal(expected, anchor.Gap(tilted), 6);
        Assert.Equal(weight * expected * expected, anchor.Penalty(tilted).item<double>(), 9);
    }

    [Fact]
    public void The_penalty_is_differentiable_in_the_weights()
    {
        var model = new StochasticGrowth(Bm);
        using var anchor = SlopeAnchor.For(model, LinearSolution.Of(model), weight: 1)!;
        var b = tensor(0.02, dtype: ScalarType.Float64, requires_grad: true);
        var penalty = anchor.Penalty(new SavingsRate(k => b * (k - KStar) + Star));
        penalty.backward();
        // d/db of (b·w/s̄)² = 2b·(w/s̄)²
        double scale = 0.45 / Star;
        Assert.Equal(2 * 0.02 * scale * scale, b.grad!.item<double>(), 6);
    }

    [Fact]
    public void No_anchor_without_weight_or_first_order_solution()
    {
        var model = new StochasticGrowth(Bm);
        Assert.Null(SlopeAnchor.For(model, LinearSolution.Of(model), weight: 0));
    }
}
