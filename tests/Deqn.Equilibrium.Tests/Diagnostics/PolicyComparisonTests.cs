using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Diagnostics;

/// <summary>
/// The diagnostics of a policy against the closed form of deterministic Brock–Mirman (δ = 1, savings rate αβ), with
/// policies whose errors are known by construction. The grid box of a deterministic model is its initial range
/// [k_low, k_high], and its path starts at the centre of that range.
/// </summary>
public sealed class PolicyComparisonTests
{
    private const double Epsilon = 0.01;

    private static readonly DiagnosticsSpec Small = new() { Periods = 50, BurnIn = 0, GridPoints = 11 };

    private static Model BrockMirman() => BuiltinModels.Catalog().Find("brock-mirman").Create(new Dictionary<string, double>());

    /// <summary>The closed form times a factor that may depend on the states.</summary>
    private sealed class Perturbed(Model model, Func<Tensor, Tensor> factor) : IPolicyFunction
    {
        private readonly ClosedFormPolicy _exact = new(model);

        public Tensor Values(Tensor states) => _exact.Values(states) * factor(states);
    }

    private static (double Low, double High) Range(Model model) => (model.States[0].Initial.Low, model.States[0].Initial.High);

    private static PolicyComparison Find(SolutionReport report, string where) => Assert.Single(report.Comparisons, c => c.Where == where);

    private static void Near(double expected, double actual, double relative, string what) =>
        Assert.True(Math.Abs(actual - expected) <= relative * Math.Abs(expected), $"{what}: {actual:R}, expected {expected:R} (relative tolerance {relative})");

    [Fact]
    public void The_closed_form_itself_has_no_policy_error_and_no_Euler_error()
    {
        // Given
        var model = BrockMirman();

        // When
        var report = SolutionDiagnostics.Run(model, new ClosedFormPolicy(model), Small);

        // Then
        Assert.Equal("closed form", report.ReferenceName);
        Assert.Equal(2, report.Comparisons.Count);
        Assert.All(report.Comparisons, c => Assert.True(c.Mean <= 1e-15 && c.Max <= 1e-15, $"{c.Where}: mean {c.Mean:E2}, max {c.Max:E2}"));
        Assert.True(report.Errors["euler"].Max < 1e-12, $"max Euler error {report.Errors["euler"].Max:E2}");
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(-0.01)]
    public void A_policy_one_percent_off_the_closed_form_is_one_percent_off_everywhere_with_Euler_errors_of_one_percent(double epsilon)
    {
        // Given the savings rate s = αβ(1 + ε), above or below the closed form
        var model = BrockMirman();
        var policy = new Perturbed(model, k => torch.full_like(k, 1 + epsilon));

        // When
        var report = SolutionDiagnostics.Run(model, policy, Small);

        // Then |s/αβ − 1| = |ε| at every grid point and every period of the path
        foreach (var where in new[] { "grid", "path" })
        {
            var c = Find(report, where);
            Assert.Equal("s", c.Policy);
            Near(Math.Abs(epsilon), c.Mean, 1e-9, $"{where} mean");
            Near(Math.Abs(epsilon), c.Max, 1e-9, $"{where} max");
        }
        // and, with log utility and δ = 1, β·C·R'/C' = αβ/s for any constant s, so every Euler error 1 − s/(αβ) is −ε
        var e = report.Errors["euler"];
        Assert.Equal(Small.Periods, e.Count);
        foreach (var (what, value) in new[] { ("mean", e.Mean), ("median", e.Median), ("p90", e.P90), ("p99", e.P99), ("max", e.Max) })
            Near(Math.Abs(epsilon), value, 1e-9, $"Euler {what}");
        Near(-2, e.Log10Max, 1e-9, "log10 max");
    }

    [Fact]
    public void An_error_growing_across_the_box_gives_its_mean_and_max_on_the_grid_and_along_the_path()
    {
        // Given s = αβ(1 + ε·w), w = (K − k_low)/(k_high − k_low): no error at k_low, ε at k_high
        var model = BrockMirman();
        var (low, high) = Range(model);
        var policy = new Perturbed(model, k => 1 + Epsilon * (k - low) / (high - low));

        // When
        var report = SolutionDiagnostics.Run(model, policy, Small);

        // Then the grid is 11 points from k_low to k_high, w = 0, 0.1, …, 1: mean error ε/2, max ε
        Assert.Equal([("K", low, high)], report.GridBox);
        var grid = Find(report, "grid");
        Near(Epsilon / 2, grid.Mean, 1e-9, "grid mean");
        Near(Epsilon, grid.Max, 1e-9, "grid max");

        // and along the path, which starts at the centre (w = 1/2) and falls towards the steady state, the largest
        // error is the first period's ε/2 and the mean is ε times the mean of w over the path's own states
        int k = report.PathColumns.ToList().IndexOf("K");
        var w = Enumerable.Range(0, report.Path.GetLength(0)).Select(i => (report.Path[i, k] - low) / (high - low)).ToArray();
        Assert.True(w[^1] < 0.2, $"the path should approach the steady state (w = {w[^1]:G3} at the end)");
        var path = Find(report, "path");
        Near(Epsilon / 2, path.Max, 1e-9, "path max");
        Near(Epsilon * w.Average(), path.Mean, 1e-9, "path mean");
        Assert.True(path.Mean < path.Max / 2, "the path mean should sit well below its first period's error");
    }
}
