using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Irbc;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Tests.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Irbc;

/// <summary>
/// The shipped N-country IRBC against hand-computed values: its deterministic steady state (k = 1, λ = 1, c_j = A − δ),
/// and every residual at a state off it under a policy whose values are known (constant k′ and λ, so next period's
/// growth is zero and E[e^{z′_j}] = e^{ρz_j}·e^{σ²}: each log-TFP innovation σ(ε_j + ε_0) has variance 2σ²).
/// </summary>
public sealed class InternationalRbcTests
{
    private static readonly IrbcCalibration Two = new();

    private static Dictionary<string, double> Residuals(Model model, double[] state, double[] policy)
    {
        using var scope = torch.NewDisposeScope();
        // Gauss–Hermite 10 per innovation: E[e^{u}] to rounding
        using var quadrature = new QuadratureTensors(new QuadratureSpec(QuadratureKind.GaussHermite, 10).Build(model.ShockCholesky, 0), ScalarType.Float64);
        var residuals = Evaluation.Evaluate(model, torch.tensor(state, [1, state.Length], dtype: ScalarType.Float64), new ConstantPolicy(policy), quadrature);
        return residuals.Elements().ToDictionary(e => e.Name, e => e.Residual.item<double>());
    }

    [Fact]
    public void The_steady_state_is_k_1_lambda_1_and_consumption_A_minus_delta()
    {
        var model = new InternationalRbc(Two);
        var steady = SteadyState.Of(model);
        Assert.True(steady.Found, steady.Message);
        foreach (var k in steady.StateRow.Take(2)) Assert.Equal(1.0, k, 12);
        foreach (var z in steady.StateRow.Skip(2)) Assert.Equal(0.0, z, 12);
        Assert.All(steady.PolicyRow, p => Assert.Equal(1.0, p, 12));
        // and there, with the shocks integrated, the resource constraint holds exactly (c_j = A − δ) and each Euler
        // residual is β·ζA·(E[e^{u}] − 1) = (1 − β(1 − δ))·(e^{σ²} − 1): the only term the shocks move
        var r = Residuals(model, [1, 1, 0, 0], [1, 1, 1]);
        Assert.Equal(0.0, r["resource"], 15);
        double euler = (1 - Two.Beta * (1 - Two.Delta)) * (Math.Exp(Two.Sigma * Two.Sigma) - 1);
        // (to the rounding of a ratio near 1 minus 1)
        Assert.Equal(euler, r["euler[1]"], 14);
        Assert.Equal(euler, r["euler[2]"], 14);
    }

    [Fact]
    public void Every_residual_at_a_state_off_the_steady_state_is_the_hand_computed_one()
    {
        // Given k = (0.9, 1.1), z = (0.05, −0.03), and the constant policy k′ = (0.95, 1.04), λ = 1.2
        var c = Two;
        var model = new InternationalRbc(c);
        double[] k = [0.9, 1.1], z = [0.05, -0.03], kNext = [0.95, 1.04];
        const double lambda = 1.2;
        var r = Residuals(model, [.. k, .. z], [.. kNext, lambda]);

        double a = c.Productivity, shock = Math.Exp(c.Sigma * c.Sigma);
        double spent = 0, resources = 0;
        for (int j = 0; j < 2; j++)
        {
            double g = kNext[j] / k[j] - 1;
            // next period: the same k′, so g′ = 0 and R′_j = ζA·e^{z′_j}·k′_j^(ζ−1) + 1 − δ, λ′ = λ
            double expected = lambda * (c.Zeta * a * Math.Exp(c.Rho * z[j]) * shock * Math.Pow(kNext[j], c.Zeta - 1) + 1 - c.Delta);
            Assert.Equal(c.Beta * expected / (lambda * (1 + c.Kappa * g)) - 1, r[$"euler[{j + 1}]"], 13);
            double consumption = Math.Pow(lambda / c.ParetoWeights[j], -c.Elasticities[j]);
            spent += kNext[j] + c.Kappa / 2 * k[j] * g * g + consumption;
            resources += a * Math.Exp(z[j]) * Math.Pow(k[j], c.Zeta) + (1 - c.Delta) * k[j];
        }
        Assert.Equal(1 - spent / resources, r["resource"], 14);
    }

    [Fact]
    public void With_irreversible_investment_the_complementarity_pairs_the_investment_rate_with_the_multipliers_weight()
    {
        // Given country 1 disinvesting (k′ = 0.85 < (1 − δ)·0.9) with μ_1 = 0.3 and country 2 investing (1.10 > 0.99·1.1) with μ_2 = 0
        var c = Two;
        var model = new InternationalRbc(c, irreversible: true);
        double[] k = [0.9, 1.1], kNext = [0.85, 1.10], mu = [0.3, 0];
        const double lambda = 1.2;
        var r = Residuals(model, [.. k, 0, 0], [.. kNext, lambda, .. mu]);
        double weight = 1 - c.Beta * (1 - c.Delta);
        for (int j = 0; j < 2; j++)
        {
            double rate = (kNext[j] - (1 - c.Delta) * k[j]) / k[j], multiplier = weight * mu[j] / lambda;
            Assert.Equal(rate + multiplier - Math.Sqrt(rate * rate + multiplier * multiplier), r[$"irreversible[{j + 1}]"], 14);
        }
        // and country 2 (investing, μ = 0) satisfies it exactly
        Assert.Equal(0.0, r["irreversible[2]"], 15);
    }

    [Theory]
    [InlineData(0.0, "sigma must be > 0 (got 0)")]
    public void A_bad_calibration_is_a_one_line_error(double sigma, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new InternationalRbc(Two with { Sigma = sigma }));
        Assert.Equal(message, e.Message);
    }
}
