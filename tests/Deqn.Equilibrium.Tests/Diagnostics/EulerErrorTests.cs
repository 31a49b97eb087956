using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Tests.Growth;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Tests.Diagnostics;

public sealed class EulerErrorTests
{
    [Fact]
    public void Statistics_of_a_hand_made_sample()
    {
        // Given |errors| 1..100 (signs do not matter)
        var s = EulerErrorStatistics.Of(Enumerable.Range(1, 100).Select(i => i % 2 == 0 ? i * 1e-5 : -i * 1e-5));

        // Then
        Assert.Equal(100, s.Count);
        Assert.Equal(50.5e-5, s.Mean, 15);
        Assert.Equal(100e-5, s.Max, 15);
        Assert.Equal(50.5e-5, s.Median, 15);
        Assert.Equal(90.1e-5, s.P90, 15);
        Assert.Equal(99.01e-5, s.P99, 15);
        Assert.Equal(-3, s.Log10Max, 12);
    }

    [Fact]
    public void The_closed_form_has_zero_Euler_error_along_a_simulated_path()
    {
        // Given the stochastic Brock–Mirman model with δ = 1 and its exact policy
        var c = new GrowthCalibration(Delta: 1, Rho: 0.9, Sigma: 0.04);
        Func<double, double, double> exact = (k, z) => c.ClosedFormNextCapital(k, z)!.Value;
        var path = GrowthSimulation.Simulate(c, exact, 0.2, 1.0, 2000, seed: 11);
        var shocks = Quadratures.GaussHermite(10, c.Sigma);

        // When
        var s = EulerErrorStatistics.Of(path.Capital.Zip(path.Productivity, (k, z) => TimeIteration.EulerError(c, exact, k, z, shocks)));

        // Then (E[1/C'] times r' is exact for log utility because K' does not depend on z': quadrature only sums weights)
        Assert.True(s.Max < 1e-12, $"max {s.Max}");
    }

    [Fact]
    public void The_reference_solution_of_the_workshop_model_has_small_Euler_errors_on_a_fresh_path()
    {
        // Given time iteration with 5 Gauss–Hermite nodes, evaluated with 10 on a 2,000-period path (independent seed)
        var c = new GrowthCalibration();
        double kStar = c.SteadyStateCapital;
        double[] Lin(double a, double b, int n) => Enumerable.Range(0, n).Select(i => a + (b - a) * i / (n - 1)).ToArray();
        var solved = TimeIteration.Solve(c, Lin(0.4 * kStar, 1.6 * kStar, 60), Lin(0.7, 1.4, 15), Quadratures.GaussHermite(5, c.Sigma));
        Func<double, double, double> policy = (k, z) => solved.Policy.At(k, z) * c.Wealth(k, z);
        var path = GrowthSimulation.Simulate(c, policy, kStar, 1.0, 2000, seed: 2024);

        // When
        var s = EulerErrorStatistics.Of(path.Capital.Zip(path.Productivity, (k, z) => TimeIteration.EulerError(c, policy, k, z, Quadratures.GaussHermite(10, c.Sigma))));

        // Then the path stays in the solved box and the errors are those of a good reference
        Assert.InRange(path.Capital.Min(), 0.4 * kStar, 1.6 * kStar);
        Assert.True(s.Mean < 1e-4 && s.Max < 1e-3, $"mean {s.Mean:E2}, max {s.Max:E2}");
    }

    [Fact]
    public void Paths_are_reproducible_by_seed()
    {
        var c = new GrowthCalibration(Delta: 1);
        Func<double, double, double> exact = (k, z) => c.ClosedFormNextCapital(k, z)!.Value;
        Assert.Equal(GrowthSimulation.Simulate(c, exact, 0.2, 1, 50, 3).Productivity, GrowthSimulation.Simulate(c, exact, 0.2, 1, 50, 3).Productivity);
        Assert.NotEqual(GrowthSimulation.Simulate(c, exact, 0.2, 1, 50, 3).Productivity, GrowthSimulation.Simulate(c, exact, 0.2, 1, 50, 4).Productivity);
    }
}
