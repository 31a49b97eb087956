using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Tests.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Olg;

/// <summary>
/// The DEQN paper's benchmark OLG against values computed by hand from its code's formulas (in float64, outside Deqn):
/// its constants, and every residual at a state that a constant policy keeps where it is, so that next period's
/// holdings equal today's under each of the four shocks.
/// </summary>
public sealed class OlgBenchmarkTests
{
    private static readonly OlgBenchmarkCalibration Paper = new();

    [Fact]
    public void The_constants_are_the_papers()
    {
        var labour = Paper.Labour();
        Assert.Equal(56, labour.Length);
        Assert.Equal(57.77664604591837, labour.Sum(), 12);
        Assert.Equal(0.6, labour[0], 14);
        Assert.Equal(1.362, labour[28], 12);
        Assert.Equal(1.2832729591836736, labour[37], 14);
        Assert.All(labour.Skip(45), l => Assert.Equal(0.6416364795918368, l, 14));
        Assert.Equal(1 / 0.89, Paper.Kappa, 15);
        Assert.Equal(0.95, Paper.Beta, 15);
        var chain = Paper.Chain().Transition;
        double[,] expected = { { 0.87966, 0.09234, 0.02534, 0.00266 }, { 0.09234, 0.87966, 0.00266, 0.02534 }, { 0.27150, 0.02850, 0.63350, 0.06650 }, { 0.02850, 0.27150, 0.06650, 0.63350 } };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) Assert.Equal(expected[i, j], chain[i, j], 14);
    }

    [Theory]
    [InlineData(6, 0.5013714619594262, 0.4101869540737416, 1, 2)]
    [InlineData(56, 141.47293865306526, 0.9375671388058495, 2, 14)]
    public void The_steady_state_is_the_one_computed_outside_Deqn(int generations, double capital, double price, int noCapitalUpTo, int collateralBindsUpTo)
    {
        // Given the economy with the chain at its stationary mean, solved by Deqn's Newton iteration from the one-asset
        // life cycle (and its initial box centred there)
        var c = Paper with { Generations = generations };
        var profile = OlgBenchmarkSteadyState.Of(c);
        Assert.True(profile.Solved);
        // Then aggregate capital and the bond price are those of an independent solution (scipy: each household's
        // problem solved for given prices, the bond and capital markets cleared by bisection, the whole system polished
        // by a root finder, 221 equations to 4e-15), and the constraints bind at the same ages: no capital bought by the
        // youngest, the collateral constraint binding up to a middle age, each binding constraint with a positive multiplier
        Assert.Equal(capital, profile.K.Sum(), 8);
        Assert.Equal(price, profile.Price, 9);
        for (int age = 1; age < generations; age++)
        {
            Assert.True(age <= noCapitalUpTo ? profile.KNext[age - 1] < 1e-9 && profile.Lambda[age - 1] > 1e-3 : profile.KNext[age - 1] > 1e-3,
                $"age {age}: k′ = {profile.KNext[age - 1]}, λ = {profile.Lambda[age - 1]}");
            Assert.True(age <= collateralBindsUpTo ? profile.Q[age - 1] < 1e-9 && profile.Mu[age - 1] > 1e-3 : profile.Q[age - 1] > 1e-3,
                $"age {age}: q = {profile.Q[age - 1]}, μ = {profile.Mu[age - 1]}");
        }
    }

    [Theory]
    [InlineData(0, 0.0568466655611)]
    [InlineData(1, 0.0519453801184)]
    [InlineData(2, 0.056201163368)]
    [InlineData(3, 0.0513667423184)]
    public void Every_residual_at_a_state_the_policy_keeps_is_the_hand_computed_one(int shock, double paperLoss)
    {
        // Given k = 0.1 and b = 0.02 at ages 2 … 56, and the policy k′ = 0.1, b′ = 0.02 (q = 0.1 + 0.02κ), λ = μ = 0.01,
        // p = 0.95 at every age: every next state holds what today's does
        var c = Paper;
        var model = new OlgBenchmark(c);
        double kappa = c.Kappa, q = 0.1 + kappa * 0.02;
        double[] state = [.. Enumerable.Repeat(0.1, 55), .. Enumerable.Repeat(0.02, 55), shock];
        double[] policy = [.. Enumerable.Repeat(0.1, 55), .. Enumerable.Repeat(0.01, 55), .. Enumerable.Repeat(q, 55), .. Enumerable.Repeat(0.01, 55), 0.95];
        using var scope = NewDisposeScope();
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build(model.ShockCholesky, 0), model.ChainStates, ScalarType.Float64);
        var residuals = Evaluation.Evaluate(model, torch.tensor(state, [1, state.Length], dtype: ScalarType.Float64), new ConstantPolicy(policy), quadrature);
        var r = residuals.Elements().ToDictionary(e => e.Name, e => e.Residual.item<double>());

        // Then with R(z) = αη_z K^(α−1)L^(1−α) + 1 − δ_z at K = 5.5, age 1's consumption 0.6w − 0.1 − 0.95·0.02 − 0.25·0.1²
        // and age 2's next period R′k + b + wl_2 − 0.1 − 0.95·0.02 − 0.25(0.1 − R′·0.1)², the Euler errors are
        // ((β·Σπ R′(1 + ζ·adj′)c′^(−2) + λ + μ)/(1 + ζ·0.1))^(−1/2)/c − 1 and ((β·Σπ c′^(−2) + κμ)/p)^(−1/2)/c − 1
        if (shock == 0)
        {
            Assert.Equal(2.1057942199586495, r["euler_k[1]"], 12);
            Assert.Equal(3.450316089864649, r["euler_b[1]"], 12);
            Assert.Equal(-0.3102389261, r["euler_k[2]"], 9);
            Assert.Equal(-0.3422480428, r["euler_k[28]"], 9);
            Assert.Equal(-0.3419486098, r["euler_k[54]"], 9);
            Assert.Equal(-0.1175490812, r["euler_k[55]"], 9);   // age 56 liquidates next period: adj′ = −R′·0.1
            Assert.Equal(0.05136749927, r["euler_b[2]"], 10);
            Assert.Equal(0.002299547321, r["euler_b[28]"], 11);
            Assert.Equal(0.00305416867, r["euler_b[54]"], 10);
            Assert.Equal(0.3083021692, r["euler_b[55]"], 9);
        }
        // the complementarities are Fischer–Burmeister pairs, a + b − √(a² + b²), and the bond market is 55·0.02 out of
        // 55·0.1 saved in capital
        double Fb(double a, double b) => a + b - Math.Sqrt(a * a + b * b);
        for (int age = 1; age <= 55; age++)
        {
            Assert.Equal(Fb(0.1, 0.01), r[$"short_sale[{age}]"], 14);
            Assert.Equal(Fb(q, 0.01), r[$"collateral[{age}]"], 14);
        }
        Assert.Equal(0.2, r["bonds"], 14);
        // and with the paper's loss — the Euler errors, k′λ and qμ, the five bond sums (today's and the four next
        // states', the same here) and zero penalties, 506 columns — the residuals give the paper's number
        double paper = Enumerable.Range(1, 55).Sum(a => Math.Pow(r[$"euler_k[{a}]"], 2) + Math.Pow(r[$"euler_b[{a}]"], 2))
            + 55 * (Math.Pow(0.1 * 0.01, 2) + Math.Pow(q * 0.01, 2)) + 5 * Math.Pow(55 * 0.02, 2);
        Assert.Equal(paperLoss, paper / 506, 11);
    }
}
