using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Engine;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Shocks;

public sealed class CorrelatedShockTests
{
    private static readonly double[,] Covariance = { { 0.04, 0.012 }, { 0.012, 0.01 } };

    /// <summary>Two states driven by two correlated innovations.</summary>
    private sealed class Toy : Model
    {
        private readonly State _x, _y;
        private readonly Shock[] _e;
        private readonly Policy _p;

        public Toy()
        {
            _x = State("x", InitialDistribution.Uniform(-1, 1));
            _y = State("y", InitialDistribution.Uniform(-1, 1));
            _e = CorrelatedShocks(["ex", "ey"], Covariance);
            _p = Policy("p");
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
        {
            yield return (_x, shocks[_e[0]] + 0 * t[_x]);
            yield return (_y, shocks[_e[1]] + 0 * t[_y]);
        }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t) => [("e", t[_p])];
    }

    [Theory]
    [InlineData(QuadratureKind.GaussHermite, 3)]
    [InlineData(QuadratureKind.GaussHermite, 5)]
    [InlineData(QuadratureKind.Monomial, 1)]
    public void Every_rule_reproduces_the_covariance_of_correlated_shocks(QuadratureKind kind, int nodes)
    {
        var model = new Toy();
        var rule = new QuadratureSpec(kind, nodes).Build(model.ShockCholesky, 1);
        Assert.Equal(1.0, rule.Weights.Sum(), 14);
        for (int a = 0; a < 2; a++)
        {
            Assert.Equal(0.0, rule.Expect(e => e[a]), 14);
            for (int b = 0; b < 2; b++) Assert.Equal(Covariance[a, b], rule.Expect(e => e[a] * e[b]), 14);
        }
    }

    [Fact]
    public void Simulated_draws_have_the_declared_covariance()
    {
        var model = new Toy();
        var draws = Tensors.ToArray(Simulator.DrawShocks(model, 40_000, new StandardNormalStream(3), ScalarType.Float64, CPU)!);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                double sample = Enumerable.Range(0, 40_000).Average(i => draws[i, a] * draws[i, b]);
                // The sampling error of a second moment with 40,000 draws is below 1 % of the variances here; 5 % is safe.
                Assert.True(Math.Abs(sample - Covariance[a, b]) <= 0.05 * Math.Sqrt(Covariance[a, a] * Covariance[b, b]), $"[{a},{b}]: {sample} vs {Covariance[a, b]}");
            }
    }

    [Fact]
    public void A_covariance_that_is_not_positive_definite_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Cholesky.Lower(new double[,] { { 1, 2 }, { 2, 1 } }));
        Assert.Contains("positive definite", e.Message);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    public void Antithetic_draws_have_mean_zero_exactly_and_equal_weights(long seed)
    {
        var model = new Toy();
        var rule = Quadratures.Antithetic(16, model.ShockCholesky, new StandardNormalStream(seed));
        Assert.Equal(32, rule.Count);
        Assert.Equal(1.0, rule.Weights.Sum(), 14);
        for (int a = 0; a < 2; a++) Assert.Equal(0.0, rule.Expect(e => e[a]), 15);
        Assert.Equal(0.0, rule.Expect(e => e[0] * e[0] * e[0]), 15);
    }
}
