using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class OracleTests
{
    private static Tensor RandomStates(Model model, int rows, long seed)
    {
        var random = new StandardNormalStream(seed);
        var values = new double[rows, model.States.Count];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < model.States.Count; j++)
                values[i, j] = model.States[j].Initial.Low + (model.States[j].Initial.High - model.States[j].Initial.Low) * random.Uniform();
        return Tensors.FromArray(values, ScalarType.Float64);
    }

    private static double MaxAbsResidual(Model model, Quadrature rule, long seed)
    {
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(rule, ScalarType.Float64);
        var residuals = Evaluation.Evaluate(model, RandomStates(model, 500, seed), new ClosedFormPolicy(model), quadrature);
        return residuals.Equations.Max(e => e.Residual.abs().max().item<double>());
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void The_closed_form_makes_the_deterministic_Brock_Mirman_Euler_residual_vanish_at_random_states(long seed)
    {
        // Given the deterministic model with δ = 1 and its closed form s = αβ
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        // When its Euler residual is evaluated at 500 random capital stocks in [0.1, 1]
        double max = MaxAbsResidual(model, new QuadratureSpec().Build([], 0), seed);
        // Then it is zero to float64 rounding
        Assert.True(max < 1e-12, $"max |residual| {max:G3} ≥ 1e-12");
    }

    [Theory]
    [InlineData(5, 1L)]
    [InlineData(3, 2L)]
    [InlineData(10, 3L)]
    public void The_closed_form_makes_the_stochastic_Brock_Mirman_Euler_residual_vanish_for_any_Gauss_Hermite_order(int nodes, long seed)
    {
        // Given the stochastic model with δ = 1: K' = αβzK^α holds node by node, so any quadrature integrates it exactly
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.05, CapitalHigh: 0.5));
        // When the residual is evaluated at random (K, z) with Gauss–Hermite of several orders
        double max = MaxAbsResidual(model, Quadratures.GaussHermite(nodes, 0.04), seed);
        // Then it is zero to rounding
        Assert.True(max < 1e-12, $"max |residual| {max:G3} ≥ 1e-12");
    }

    [Fact]
    public void A_wrong_savings_rate_gives_the_Euler_residual_derived_by_hand()
    {
        // Given δ = 1 and the constant policy s = 0.3 (not αβ): C = 0.7K^α, K' = 0.3K^α, C' = 0.7K'^α,
        // so β·C·(αK'^(α−1))/C' = αβ/0.3 and the residual is 1 − 0.3/(αβ)
        var c = GrowthCalibration.BrockMirman;
        var model = new StochasticGrowth(c);
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build([], 0), ScalarType.Float64);
        var residuals = Evaluation.Evaluate(model, RandomStates(model, 50, 9), new ConstantPolicy(0.3), quadrature);
        // Then every state has that residual
        double expected = 1 - 0.3 / (c.Alpha * c.Beta);
        var values = residuals.Equations[0].Residual.data<double>().ToArray();
        Assert.All(values, v => Assert.True(Math.Abs(v - expected) < 1e-12 * Math.Abs(expected), $"{v} vs {expected}"));
    }

    private sealed class ConstantPolicy(double value) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => torch.full([states.shape[0], 1], value, dtype: states.dtype);
    }
}
