using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Tests.Growth;

public sealed class TimeIterationTests
{
    private static double[] Linspace(double a, double b, int n) => Enumerable.Range(0, n).Select(i => a + (b - a) * i / (n - 1)).ToArray();

    [Fact]
    public void The_reference_grid_covers_ln_z_within_four_and_a_half_stationary_deviations()
    {
        // Given the workshop's ρ = 0.9, σ = 0.04: ln z's stationary deviation 0.04/√0.19, so ±4.5 of it is ±0.41294
        var c = new GrowthCalibration();
        var (low, high) = TimeIterationReference.ProductivityRange(c);
        double spread = 4.5 * 0.04 / Math.Sqrt(1 - 0.81);
        Assert.Equal(Math.Exp(-spread), low, 12);   // 0.662, below the initial 0.7
        Assert.Equal(Math.Exp(spread), high, 12);   // 1.511, above the initial 1.3
        // and a range wider than that, or no shocks at all, keeps the initial one
        Assert.Equal((0.5, 2.0), TimeIterationReference.ProductivityRange(c with { ProductivityLow = 0.5, ProductivityHigh = 2.0 }));
        Assert.Equal((0.7, 1.3), TimeIterationReference.ProductivityRange(c with { Sigma = 0 }));
    }

    [Fact]
    public void With_full_depreciation_it_converges_to_the_Brock_Mirman_closed_form()
    {
        // Given the deterministic model with δ = 1, whose exact policy saves the share αβ of output everywhere
        var c = new GrowthCalibration(Delta: 1, Sigma: 0);
        var result = TimeIteration.Solve(c, Linspace(0.05, 0.5, 20), new[] { 1.0 }, Quadratures.GaussHermite(1, 0));

        // Then
        Assert.True(result.Converged);
        foreach (var k in Linspace(0.06, 0.49, 37))
            Assert.Equal(c.ClosedFormNextCapital(k, 1)!.Value, result.Policy.At(k, 1) * c.Wealth(k, 1), 1e-10);
    }

    [Fact]
    public void The_stochastic_model_with_full_depreciation_matches_its_closed_form_on_and_off_the_grid()
    {
        var c = new GrowthCalibration(Delta: 1, Rho: 0.9, Sigma: 0.04);
        var result = TimeIteration.Solve(c, Linspace(0.05, 0.5, 15), Linspace(0.8, 1.25, 7), Quadratures.GaussHermite(5, c.Sigma));
        Assert.True(result.Converged);
        foreach (var k in new[] { 0.07, 0.2, 0.41 })
            foreach (var z in new[] { 0.83, 1.0, 1.21 })
                Assert.Equal(c.ClosedFormNextCapital(k, z)!.Value / (c.Wealth(k, z)), result.Policy.At(k, z), 1e-9);
    }

    [Fact]
    public void The_workshop_calibration_converges_and_satisfies_its_Euler_equation()
    {
        // Given δ = 0.1, ρ = 0.9, σ = 0.04 on a box around the steady state
        var c = new GrowthCalibration();
        double kStar = c.SteadyStateCapital;
        var shocks = Quadratures.GaussHermite(5, c.Sigma);
        var result = TimeIteration.Solve(c, Linspace(0.5 * kStar, 1.5 * kStar, 40), Linspace(0.75, 1.3, 9), shocks, tolerance: 1e-10);
        Func<double, double, double> next = (k, z) => result.Policy.At(k, z) * c.Wealth(k, z);

        // Then on the grid the Euler equation holds to the bisection's precision, and between grid points to interpolation accuracy
        Assert.True(result.Converged, $"not converged after {result.Iterations} iterations (change {result.Change})");
        Assert.True(Math.Abs(TimeIteration.EulerError(c, next, result.Policy.Capital[10], 1.0 * result.Policy.Productivity[4], shocks)) < 1e-8);
        double worst = 0;
        foreach (var k in Linspace(0.6 * kStar, 1.4 * kStar, 17))
            foreach (var z in Linspace(0.8, 1.25, 7))
                worst = Math.Max(worst, Math.Abs(TimeIteration.EulerError(c, next, k, z, shocks)));
        Assert.True(worst < 1e-3, $"worst relative Euler error off the grid {worst}");
        // And the deterministic steady state is a fixed point of the policy at z = 1 (to interpolation accuracy)
        Assert.Equal(kStar, next(kStar, 1.0), kStar * 2e-3);
    }

    [Theory]
    [InlineData(0.0, 0.99, 0.1, 0.9, 0.04, "alpha")]
    [InlineData(0.36, 1.0, 0.1, 0.9, 0.04, "beta")]
    [InlineData(0.36, 0.99, 0.0, 0.9, 0.04, "delta")]
    [InlineData(0.36, 0.99, 1.1, 0.9, 0.04, "delta")]
    [InlineData(0.36, 0.99, 0.1, 1.0, 0.04, "rho")]
    [InlineData(0.36, 0.99, 0.1, 0.9, -0.1, "sigma")]
    public void An_impossible_calibration_is_refused_naming_the_parameter(double alpha, double beta, double delta, double rho, double sigma, string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new GrowthCalibration(alpha, beta, delta, rho, sigma).Validate());
        Assert.Contains(name, e.Message.Split(' ')[0]);
    }

    [Fact]
    public void The_result_does_not_depend_on_how_many_threads_solve_the_grid()
    {
        // Given the workshop calibration on a small grid
        var c = new GrowthCalibration();
        var k = Enumerable.Range(0, 12).Select(i => 3.0 + 7.0 * i / 11).ToArray();
        var z = new[] { 0.8, 1.0, 1.2 };
        var shocks = Deqn.Equilibrium.Shocks.Quadratures.GaussHermite(5, c.Sigma);
        // When it is solved with one thread and with four
        var one = TimeIteration.Solve(c, k, z, shocks, tolerance: 1e-9, parallelism: 1);
        var four = TimeIteration.Solve(c, k, z, shocks, tolerance: 1e-9, parallelism: 4);
        // Then the policies and iteration counts are identical
        Assert.Equal(one.Iterations, four.Iterations);
        Assert.Equal(one.Policy.Share.Cast<double>(), four.Policy.Share.Cast<double>());
    }
}
