using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Growth;

public sealed class StochasticGrowthTests
{
    [Fact]
    public void With_sigma_zero_and_TFP_starting_at_one_the_model_has_no_TFP_state_and_no_shock()
    {
        // Given the growth model with σ = 0 and z₀ = 1 (Brock and Mirman's deterministic model)
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        // Then capital is its only state (the network's only input), nothing is random, and an expectation is one node
        Assert.Equal(["K"], model.States.Select(s => s.Name));
        Assert.Empty(model.Shocks);
        Assert.Equal(1, new QuadratureSpec().Build(model.Shocks.Select(s => s.Sigma).ToArray(), 0).Count);
        Assert.Equal("Brock–Mirman (deterministic, δ = 1)", model.Title);
    }

    [Fact]
    public void With_shocks_TFP_is_a_state_with_its_innovation()
    {
        var model = new StochasticGrowth(GrowthCalibration.BrockMirmanStochastic);
        Assert.Equal(["K", "z"], model.States.Select(s => s.Name));
        Assert.Equal([("eps_z", 0.04)], model.Shocks.Select(s => (s.Name, s.Sigma)));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    public void The_closed_form_makes_the_sigma_zero_models_residual_vanish_and_reads_TFP_as_one(long seed)
    {
        // Given the deterministic model and its closed form s = αβ at 300 random capital stocks
        var c = GrowthCalibration.BrockMirman;
        var model = new StochasticGrowth(c);
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build([], 0), ScalarType.Float64);
        var random = new StandardNormalStream(seed);
        var k = Enumerable.Range(0, 300).Select(_ => 0.1 + 0.9 * random.Uniform()).ToArray();
        var states = torch.tensor(k, [300, 1], dtype: ScalarType.Float64);
        // When the residuals are evaluated
        var residuals = Evaluation.Evaluate(model, states, new ClosedFormPolicy(model), quadrature);
        // Then the Euler residual is zero to rounding, and output is K^α (TFP is the constant 1)
        double max = residuals.Equations.Single().Residual.abs().max().item<double>();
        Assert.True(max < 1e-12, $"max |residual| {max:G3} ≥ 1e-12");
        var output = residuals.Now[model.Definitions.Single(d => d.Name == "Y")].data<double>().ToArray();
        Assert.All(k.Zip(output), p => Assert.True(Math.Abs(p.Second / Math.Pow(p.First, c.Alpha) - 1) < 1e-14, $"Y({p.First}) = {p.Second}"));
    }

    [Fact]
    public void Without_full_depreciation_the_deterministic_model_is_checked_against_time_iteration_on_capital_alone()
    {
        // Given the deterministic model with δ = 0.5 (no closed form)
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman with { Delta = 0.5 });
        Assert.False(model.HasClosedForm);
        // When its reference is computed (one TFP point, one quadrature node) and its policy put into the Euler equation
        var reference = model.Reference()!;
        Assert.StartsWith("time iteration (80 × 1 grid, Gauss–Hermite 1,", reference.Name);
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build([], 0), ScalarType.Float64);
        var states = torch.linspace(0.15, 0.95, 50, dtype: ScalarType.Float64).unsqueeze(1);
        var residuals = Evaluation.Evaluate(model, states, new ReferencePolicy(reference), quadrature);
        // Then the residuals are those of an interpolated exact solution
        double max = residuals.Equations.Single().Residual.abs().max().item<double>();
        Assert.True(max < 1e-4, $"max |residual| {max:G3}");
    }

    private sealed class ReferencePolicy(IPolicyReference reference) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => Tensors.FromArray(reference.PolicyAt(Tensors.ToArray(states)), states.dtype);
    }
}
