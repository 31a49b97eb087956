using System.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Growth;

public sealed class BrockMirmanLaborTests(ITestOutputHelper output)
{
    /// <summary>Random (K, z) in the initial box, [n, 2] in float64.</summary>
    private static Tensor RandomStates(LaborCalibration c, int n, long seed)
    {
        var random = new StandardNormalStream(seed);
        var values = new double[n * 2];
        for (int i = 0; i < n; i++)
        {
            values[2 * i] = c.CapitalLow + (c.CapitalHigh - c.CapitalLow) * random.Uniform();
            values[2 * i + 1] = c.ProductivityLow + (c.ProductivityHigh - c.ProductivityLow) * random.Uniform();
        }
        return torch.tensor(values, [n, 2], dtype: ScalarType.Float64);
    }

    private static Residuals Evaluate(Model model, Tensor states, IPolicyFunction policy, int nodes = 5)
    {
        var quadrature = new QuadratureTensors(new QuadratureSpec(QuadratureKind.GaussHermite, nodes).Build(model.Shocks.Select(s => s.Sigma).ToArray(), 0), ScalarType.Float64);
        return Evaluation.Evaluate(model, states, policy, quadrature);
    }

    private static double MaxAbs(Residuals r, string equation) => r.Equations.Single(e => e.Name == equation).Residual.abs().max().item<double>();

    private static Tensor Column(Residuals r, Model model, string definition) => r.Now[model.Definitions.Single(d => d.Name == definition)];

    [Fact]
    public void The_closed_form_hours_at_the_workshop_values_are_0_99720()
    {
        // Given α = 0.36, β = 0.99, ψ = θ = 1: L* = [(1 − α)/(ψ(1 − αβ))]^{1/(1+θ)} = √(0.64/0.6436)
        var c = new LaborCalibration();
        Assert.Equal(0.997199, c.UnconstrainedHours, 6);
        Assert.Equal(Math.Sqrt(0.64 / (1 - 0.36 * 0.99)), c.UnconstrainedHours, 15);
        Assert.Equal(c.UnconstrainedHours, new BrockMirmanLabor(c).ClosedFormHours);
        // With the ceiling 0.95 below it, the ceiling's model works L̄ hours; with a ceiling above it, L* hours
        Assert.Equal(0.95, new BrockMirmanLabor(c, hoursCeiling: true).ClosedFormHours);
        Assert.Equal(c.UnconstrainedHours, new BrockMirmanLabor(c with { HoursCeiling = 1.2 }, hoursCeiling: true).ClosedFormHours);
    }

    [Theory]
    [InlineData(1.0, 1.0, 0.04, 1L)]
    [InlineData(2.0, 0.5, 0.04, 2L)]
    [InlineData(0.7, 3.0, 0.1, 3L)]
    [InlineData(1.0, 0.0, 0.0, 4L)]
    public void The_closed_form_makes_the_Euler_and_intratemporal_residuals_vanish_at_random_states(double psi, double theta, double sigma, long seed)
    {
        // Given the model with δ = 1 and its closed form s = αβ, L = L*, at 500 random states of the box
        using var scope = torch.NewDisposeScope();
        var c = new LaborCalibration(Psi: psi, Theta: theta, Sigma: sigma);
        var model = new BrockMirmanLabor(c);
        // (σ = 0 with z drawn in [0.7, 1.3]: z is a state without a shock, ln z′ = ρ ln z)
        var states = RandomStates(c, 500, seed);
        // When the residuals are evaluated in float64 (Gauss–Hermite, 5 nodes)
        var residuals = Evaluate(model, states, new ClosedFormPolicy(model));
        // Then both are zero to rounding (1e-12)
        Assert.Equal(["euler", "intratemporal"], residuals.Equations.Select(e => e.Name));
        Assert.True(MaxAbs(residuals, "euler") < 1e-12, $"euler {MaxAbs(residuals, "euler"):G3}");
        Assert.True(MaxAbs(residuals, "intratemporal") < 1e-12, $"intratemporal {MaxAbs(residuals, "intratemporal"):G3}");
    }

    [Fact]
    public void Hours_off_the_closed_form_leave_the_intratemporal_condition_off_by_the_hours_error_to_the_power_one_plus_theta()
    {
        // Given the closed form with hours 1 % too high (the savings rate right)
        using var scope = torch.NewDisposeScope();
        var c = new LaborCalibration();
        var model = new BrockMirmanLabor(c);
        var states = RandomStates(c, 200, 7);
        var policy = new FixedPolicy(c.Alpha * c.Beta, 1.01 * c.UnconstrainedHours);
        // When evaluated
        var residuals = Evaluate(model, states, policy);
        // Then ψL^θ·C/w − 1 = 1.01^{1+θ} − 1 in every state, and the Euler equation still holds (it does not depend on hours at δ = 1)
        var intratemporal = residuals.Equations.Single(e => e.Name == "intratemporal").Residual.data<double>().ToArray();
        Assert.All(intratemporal, r => Assert.Equal(Math.Pow(1.01, 1 + c.Theta) - 1, r, 12));
        Assert.True(MaxAbs(residuals, "euler") < 1e-12);
    }

    [Theory]
    [InlineData(0.95, 1L)]
    [InlineData(0.5, 2L)]
    public void With_a_binding_ceiling_the_closed_form_works_the_ceiling_and_the_multiplier_is_positive(double ceiling, long seed)
    {
        // Given the ceiling model with L̄ below L* and its closed form s = αβ, L = L̄
        using var scope = torch.NewDisposeScope();
        var c = new LaborCalibration(HoursCeiling: ceiling);
        var model = new BrockMirmanLabor(c, hoursCeiling: true);
        Assert.True(ceiling < c.UnconstrainedHours);
        var residuals = Evaluate(model, RandomStates(c, 500, seed), new ClosedFormPolicy(model));
        // Then the Euler and complementarity residuals vanish
        Assert.Equal(["euler", "hours_ceiling"], residuals.Equations.Select(e => e.Name));
        Assert.True(MaxAbs(residuals, "euler") < 1e-12, $"euler {MaxAbs(residuals, "euler"):G3}");
        Assert.True(MaxAbs(residuals, "hours_ceiling") < 1e-12, $"hours_ceiling {MaxAbs(residuals, "hours_ceiling"):G3}");
        // and μ = w/C − ψL̄^θ = (1 − α)/((1 − αβ)L̄) − ψL̄^θ > 0 everywhere
        double mu = (1 - c.Alpha) / ((1 - c.Alpha * c.Beta) * ceiling) - c.Psi * Math.Pow(ceiling, c.Theta);
        Assert.True(mu > 0);
        Assert.All(Column(residuals, model, "mu").data<double>().ToArray(), m => Assert.Equal(mu, m, 12));
    }

    [Fact]
    public void With_a_ceiling_above_the_unconstrained_hours_the_closed_form_is_the_unconstrained_one_with_a_zero_multiplier()
    {
        // Given L̄ = 1.2 > L* = 0.9972
        using var scope = torch.NewDisposeScope();
        var c = new LaborCalibration(HoursCeiling: 1.2);
        var model = new BrockMirmanLabor(c, hoursCeiling: true);
        var residuals = Evaluate(model, RandomStates(c, 300, 3), new ClosedFormPolicy(model));
        // Then the closed form (L = L*) solves it with μ = 0: the ceiling is slack
        Assert.True(MaxAbs(residuals, "euler") < 1e-12);
        Assert.True(MaxAbs(residuals, "hours_ceiling") < 1e-12, $"hours_ceiling {MaxAbs(residuals, "hours_ceiling"):G3}");
        Assert.True(Column(residuals, model, "mu").abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void Working_more_than_the_ceiling_or_less_than_the_first_order_condition_asks_leaves_a_complementarity_residual()
    {
        using var scope = torch.NewDisposeScope();
        var c = new LaborCalibration();   // L̄ = 0.95 < L* = 0.9972
        var model = new BrockMirmanLabor(c, hoursCeiling: true);
        var states = RandomStates(c, 100, 5);
        // Hours at L* break the ceiling: FB(a, b) with a = 0 (the first-order condition holds), b = L̄ − L* < 0 gives 2b
        double b = c.HoursCeiling - c.UnconstrainedHours;
        var over = Evaluate(model, states, new FixedPolicy(c.Alpha * c.Beta, c.UnconstrainedHours));
        Assert.All(over.Equations.Single(e => e.Name == "hours_ceiling").Residual.data<double>().ToArray(), r => Assert.Equal(2 * b, r, 12));
        // Hours below the ceiling with a positive multiplier (a > 0, b > 0) are not a solution either
        var under = Evaluate(model, states, new FixedPolicy(c.Alpha * c.Beta, 0.9));
        Assert.True(under.Equations.Single(e => e.Name == "hours_ceiling").Residual.min().item<double>() > 1e-3);
    }

    [Fact]
    public void Without_full_depreciation_there_is_no_closed_form()
    {
        var model = new BrockMirmanLabor(new LaborCalibration(Delta: 0.1, CapitalLow: 3, CapitalHigh: 9));
        Assert.False(model.HasClosedForm);
        Assert.Null(model.Reference());
        Assert.Null(model.ReferenceSummary);
        Assert.Throws<ArgumentException>(() => new ClosedFormPolicy(model));
    }

    [Fact]
    public void A_short_solve_learns_the_closed_form_savings_rate_and_hours()
    {
        TorchEngine.SetThreads(1);
        // Given the model and 200 episodes of its recommended settings (of 1,000) and two of its five polish rounds
        var model = new BrockMirmanLabor(new LaborCalibration());
        var spec = model.Recommended.WithEpisodes(200) with { LogEvery = 100, Seed = 1, Polish = model.Recommended.Polish with { Rounds = 2 } };
        var watch = Stopwatch.StartNew();
        var result = Solver.Run(model, spec);
        output.WriteLine($"{result.Steps} steps in {watch.Elapsed.TotalSeconds:F2} s");
        using var policy = result.Policy;
        // Then on a grid over the box s and L are within 5e-5 of the closed form (1.1e-5 and 2.8e-6 measured; the full run
        // reaches 6e-7 on the ergodic set)
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var c = model.Calibration;
        var states = RandomStates(c, 400, 11);
        var mine = policy.Values(states);
        var exact = new ClosedFormPolicy(model).Values(states);
        var errors = mine.div(exact).sub(1).abs().amax([0]).data<double>().ToArray();
        output.WriteLine($"max relative error: s {errors[0]:G3}, L {errors[1]:G3}");
        Assert.True(errors[0] < 5e-5, $"s: max relative error {errors[0]:G3}");
        Assert.True(errors[1] < 5e-5, $"L: max relative error {errors[1]:G3}");
    }

    /// <summary>A savings rate and hours the same in every state.</summary>
    private sealed class FixedPolicy(double s, double l) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => torch.stack([torch.full(states.shape[0], s, dtype: states.dtype), torch.full(states.shape[0], l, dtype: states.dtype)], 1);
    }
}
