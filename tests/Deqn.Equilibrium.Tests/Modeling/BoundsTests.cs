using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class BoundsTests
{
    /// <summary>A toy model: state x, a linear policy p bounded in [0, 1] with weight 3, and a definition d = 2x bounded above by 1.</summary>
    private sealed class Toy : Model
    {
        public readonly State X;
        public readonly Policy P;
        public readonly Definition D;

        public Toy()
        {
            X = State("x", InitialDistribution.Uniform(-1, 2));
            P = Policy("p", PolicyOutput.Linear, new Bounds(0, 1, penalty: 3));
            D = Define("d", t => t[X] * 2, new Bounds(upper: 1));
        }

        public override string Title => "toy";
        public override IReadOnlyList<(string Name, double Value)> Parameters => [];
        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (X, t[P]); }
        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t) { yield return ("zero", t[P] - t[D]); }
    }

    private sealed class Identity : IPolicyFunction
    {
        public Tensor Values(Tensor states) => states.clone();
    }

    [Fact]
    public void Bounded_values_are_clipped_the_raw_values_stay_and_the_penalty_is_the_weighted_mean_squared_violation()
    {
        // Given the toy model and the policy p = x at x = −1, 0.5, 2
        var model = new Toy();
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build([], 0), ScalarType.Float64);
        var x = torch.tensor(new[] { -1.0, 0.5, 2.0 }, [3, 1], dtype: ScalarType.Float64);
        // When the residuals are evaluated
        var r = Evaluation.Evaluate(model, x, new Identity(), quadrature);
        // Then p reads clipped into [0, 1] and its raw value is available
        Assert.Equal(new[] { 0.0, 0.5, 1.0 }, r.Now[model.P].data<double>().ToArray());
        Assert.Equal(new[] { -1.0, 0.5, 2.0 }, r.Now.Raw(model.P).data<double>().ToArray());
        // and d = 2x reads clipped at 1
        Assert.Equal(new[] { -2.0, 1.0, 1.0 }, r.Now[model.D].data<double>().ToArray());
        // and the penalties are weight · mean((clipped − raw)²): p: 3·(1 + 0 + 1)/3 = 2, d: 1·(0 + 0 + 9)/3 = 3
        Assert.Equal(2.0, r.Penalties["p"].item<double>(), 12);
        Assert.Equal(3.0, r.Penalties["d"].item<double>(), 12);
        // and the loss adds them to the mean squared residual p − d = (2, −0.5, 0): (4 + 0.25 + 0)/3
        Assert.Equal(4.25 / 3 + 5, r.Loss().item<double>(), 12);
    }

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(2.0, -1.0)]
    public void Bounds_with_lower_not_below_upper_are_refused(double lower, double upper)
    {
        var e = Assert.Throws<ArgumentException>(() => new Bounds(lower, upper));
        Assert.Contains("is not below upper bound", e.Message);
    }

    [Fact]
    public void An_implied_policy_stays_strictly_inside_its_bounds_for_any_raw_value()
    {
        // Given a policy mapped into [0.2, 0.7] by a sigmoid
        var policy = new ProbeModel().S;
        using var scope = torch.NewDisposeScope();
        var raw = torch.linspace(-30, 30, 601, dtype: ScalarType.Float64);
        // When raw outputs over a wide range are transformed
        var values = policy.Output == PolicyOutput.Implied ? raw.sigmoid().mul(0.5).add(0.2) : raw;
        var transformed = new ProbeModel().Transform(raw).data<double>().ToArray();
        // Then all are within the bounds and match lower + (upper − lower)·sigmoid(raw)
        Assert.All(transformed, v => Assert.InRange(v, 0.2, 0.7));
        var expected = values.data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], transformed[i], 1e-15);
    }

    private sealed class ProbeModel : Model
    {
        public readonly Policy S;
        public ProbeModel()
        {
            State("x", InitialDistribution.Fixed(1));
            S = Policy("s", PolicyOutput.Implied, new Bounds(0.2, 0.7));
        }
        public Tensor Transform(Tensor raw) => S.Transform(raw);
        public override string Title => "probe";
        public override IReadOnlyList<(string Name, double Value)> Parameters => [];
        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) => [];
        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t) => [];
    }
}
