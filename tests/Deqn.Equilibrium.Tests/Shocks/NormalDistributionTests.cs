using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Tests.Shocks;

public sealed class NormalDistributionTests
{
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.959963984540054, 0.975)]
    [InlineData(-1.0, 0.15865525393145707)]
    [InlineData(2.5, 0.9937903346742238)]
    public void The_distribution_function_matches_tabulated_values(double x, double p) =>
        Assert.True(Math.Abs(NormalDistribution.Cdf(x) - p) <= 1.2e-7 * p, $"Φ({x}) = {NormalDistribution.Cdf(x)}, expected {p}");

    [Theory]
    [InlineData(0.001)]
    [InlineData(0.02)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void The_quantile_inverts_the_distribution_function(double p) =>
        Assert.Equal(p, NormalDistribution.Cdf(NormalDistribution.Quantile(p)), 12);

    [Fact]
    public void Truncated_normal_starts_stay_in_their_range_and_have_the_right_mean()
    {
        // N(1, 0.5²) truncated to [0.5, 2]: mean 1 + σ(φ(α) − φ(β))/(Φ(β) − Φ(α)) with α = −1, β = 2.
        var initial = InitialDistribution.TruncatedNormal(1, 0.5, 0.5, 2);
        var random = new StandardNormalStream(11);
        var draws = Enumerable.Range(0, 40_000).Select(_ => initial.Draw(random.Uniform())).ToArray();
        Assert.All(draws, x => Assert.InRange(x, 0.5, 2));
        double phi(double z) => Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
        double expected = 1 + 0.5 * (phi(-1) - phi(2)) / (NormalDistribution.Cdf(2) - NormalDistribution.Cdf(-1));
        // Standard error of the mean ≈ 0.4/√40,000 = 0.002.
        Assert.Equal(expected, draws.Average(), 0.01);
    }
}
