using Deqn.Equilibrium.Diagnostics;

namespace Deqn.Equilibrium.Tests.Diagnostics;

/// <summary>The published numbers of a residual vector: mean, median, p90, p99 and max of |e|, and their log10.</summary>
public sealed class EulerErrorStatisticsTests
{
    private static void Near(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Abs(expected), $"{what}: {actual:R}, expected {expected:R} (relative tolerance 1e-12)");

    [Fact]
    public void Five_residuals_of_mixed_sign_in_any_order()
    {
        // Given |e| = 2e-4, 4e-4, 6e-4, 1.8e-3, 2e-3, shuffled, some negative
        var s = EulerErrorStatistics.Of([-1.8e-3, 2e-4, 2e-3, -6e-4, 4e-4]);

        // Then (sorted a0..a4; percentile p at position 4p, interpolated linearly between neighbours):
        // mean 5e-3/5 = 1e-3; median at 2 = a2; p90 at 3.6 = a3 + 0.6·(a4 − a3) = 1.8e-3 + 0.12e-3; p99 at 3.96 = 1.8e-3 + 0.192e-3
        Assert.Equal(5, s.Count);
        Near(1e-3, s.Mean, "mean");
        Near(6e-4, s.Median, "median");
        Near(1.92e-3, s.P90, "p90");
        Near(1.992e-3, s.P99, "p99");
        Near(2e-3, s.Max, "max");
        Near(-3, s.Log10Mean, "log10 mean");
        Near(-3 + 0.30102999566398120, s.Log10Max, "log10 max");   // log10 2 − 3
    }

    [Fact]
    public void An_even_count_puts_the_median_between_the_middle_two()
    {
        // Given |e| = 1, 2, 3, 4 (×1e-3)
        var s = EulerErrorStatistics.Of([4e-3, -1e-3, 3e-3, -2e-3]);

        // Then median at 1.5 = 2.5e-3; p90 at 2.7 = 3e-3 + 0.7e-3; p99 at 2.97 = 3e-3 + 0.97e-3
        Near(2.5e-3, s.Mean, "mean");
        Near(2.5e-3, s.Median, "median");
        Near(3.7e-3, s.P90, "p90");
        Near(3.97e-3, s.P99, "p99");
        Near(4e-3, s.Max, "max");
    }

    [Fact]
    public void One_residual_is_every_statistic()
    {
        var s = EulerErrorStatistics.Of([-1e-5]);

        Assert.Equal(1, s.Count);
        Assert.All(new[] { s.Mean, s.Median, s.P90, s.P99, s.Max }, v => Near(1e-5, v, "statistic"));
        Near(-5, s.Log10Max, "log10 max");
    }

    [Fact]
    public void No_residuals_are_refused()
    {
        Assert.Throws<ArgumentException>(() => EulerErrorStatistics.Of([]));
    }

    [Fact]
    public void Non_finite_residuals_are_counted_and_make_the_mean_and_max_NaN()
    {
        // Given errors of which two are not finite
        var s = EulerErrorStatistics.Of([1e-3, double.NaN, 2e-3, double.PositiveInfinity, 3e-3]);
        // Then they are counted, the mean and max cannot look clean, and the percentiles describe the finite ones
        Assert.Equal(2, s.NonFinite);
        Assert.False(s.AllFinite);
        Assert.True(double.IsNaN(s.Mean));
        Assert.True(double.IsNaN(s.Max));
        Assert.Equal(2e-3, s.Median, 1e-15);
        Assert.Equal(5, s.Count);
    }
}
