using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class VectorAndMarkovTests
{
    private static readonly double[,] Persistent = { { 0.9, 0.1 }, { 0.2, 0.8 } };
    private static readonly double[] Levels = [0.5, 2.0];
    private static readonly double[] Scale = [1.0, 0.5, 0.25];

    /// <summary>
    /// A vector state v (3 elements), a scalar x, a persistent two-state regime with level z, and a normal shock:
    /// v′ = a·v·z + ε, x′ = x/2 + z; a vector equation and a scalar one, both with expectations.
    /// </summary>
    internal sealed class Toy : Model
    {
        public readonly State V, X, Regime;
        public readonly Policy A, B;
        public readonly Definition Z, Sum;
        public readonly Shock E;

        public Toy(double sigma = 0.1)
        {
            V = State("v", 3, InitialDistribution.Uniform(0.5, 1.5));
            X = State("x", InitialDistribution.Uniform(-1, 1));
            Regime = Markov("regime", new MarkovChain(Persistent));
            E = Shock("e", sigma);
            A = Policy("a", 3, PolicyOutput.Implied, new Bounds(0, 1));
            B = Policy("b");
            Z = Values(Regime, "z", Levels);
            Sum = Define("sum", t => t[V].sum(dim: 0));
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
        {
            yield return (V, t[A] * t[V] * t[Z] + shocks[E]);
            yield return (X, t[X] / 2 + t[Z]);
        }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            yield return ("vec", t[A] * t.PerElement(Scale) - t.Expect(n => n[V] * n[B]));
            yield return ("scalar", t[B] - t.Expect(n => n[Sum] * n[X]));
        }
    }

    internal static (Toy Model, PolicyNetwork Policy, double[,] States) Setup(long seed, int rows)
    {
        var model = new Toy();
        using var generator = TorchEngine.Generator(seed);
        var spec = PolicyNetwork.SpecFor(model, new NetworkBodySpec { Hidden = [new LayerSpec(8, Activation.Tanh)], Precision = Precision.Float64 });
        var policy = new PolicyNetwork(model, new Network(spec, generator));
        var random = new StandardNormalStream(seed);
        var states = new double[rows, model.StateWidth];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < 3; j++) states[i, j] = 0.5 + random.Uniform();
            states[i, 3] = 2 * random.Uniform() - 1;
            states[i, 4] = random.Uniform() < 0.5 ? 0 : 1;
        }
        return (model, policy, states);
    }

    [Fact]
    public void Columns_are_laid_out_by_element_and_named_from_one()
    {
        var model = new Toy();
        Assert.Equal(5, model.StateWidth);
        Assert.Equal(4, model.PolicyWidth);
        Assert.Equal(["v[1]", "v[2]", "v[3]", "x", "regime"], model.StateColumns.Select(c => c.Name));
        Assert.Equal(["a[1]", "a[2]", "a[3]", "b"], model.PolicyColumns.Select(c => c.Name));
        // 4 continuous inputs and the regime one-hot
        Assert.Equal(6, PolicyNetwork.InputWidth(model));
    }

    [Theory]
    [InlineData(1L, 3)]
    [InlineData(2L, 5)]
    public void Vector_equations_and_a_state_dependent_chain_equal_an_explicit_loop(long seed, int nodes)
    {
        // Given the toy model, a random network and random states in both regimes
        var (model, policy, states) = Setup(seed, 30);
        using var _ = policy;
        var rule = Quadratures.GaussHermite(nodes, 0.1);
        using var quadrature = new QuadratureTensors(rule, model.ChainStates, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        // When the residuals come from the batched operator
        var residuals = Evaluation.Evaluate(model, Tensors.FromArray(states, ScalarType.Float64), policy, quadrature);
        var vec = Tensors.ToArray(residuals.Equations[0].Residual);     // [3, 30]
        var scalar = residuals.Equations[1].Residual.data<double>().ToArray();

        // Then they equal the expectations written out over next regimes j (probability P[i, j]) and nodes q
        double[] Policy(double[] x) { var p = Tensors.ToArray(policy.Values(torch.tensor(x, [1, 5], dtype: ScalarType.Float64))); return Enumerable.Range(0, 4).Select(k => p[0, k]).ToArray(); }
        for (int i = 0; i < 30; i++)
        {
            var x = Enumerable.Range(0, 5).Select(j => states[i, j]).ToArray();
            var p = Policy(x);
            int regime = (int)x[4];
            var ev = new double[3];
            double es = 0;
            for (int j = 0; j < 2; j++)
                for (int q = 0; q < rule.Count; q++)
                {
                    double w = Persistent[regime, j] * rule.Weights[q];
                    var next = new double[5];
                    for (int e = 0; e < 3; e++) next[e] = p[e] * x[e] * Levels[regime] + rule.Nodes[q, 0];
                    next[3] = x[3] / 2 + Levels[regime];
                    next[4] = j;
                    var pn = Policy(next);
                    for (int e = 0; e < 3; e++) ev[e] += w * next[e] * pn[3];
                    es += w * (next[0] + next[1] + next[2]) * next[3];
                }
            for (int e = 0; e < 3; e++) Assert.Equal(p[e] * Scale[e] - ev[e], vec[e, i], 12);
            Assert.Equal(p[3] - es, scalar[i], 12);
        }
        Assert.Equal(["vec[1]", "vec[2]", "vec[3]", "scalar"], residuals.Elements().Select(e => e.Name));
    }

    [Fact]
    public void The_loss_weighs_every_element_and_the_given_weights()
    {
        var (model, policy, states) = Setup(3, 20);
        using var _ = policy;
        using var quadrature = new QuadratureTensors(Quadratures.GaussHermite(3, 0.1), model.ChainStates, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Tensors.FromArray(states, ScalarType.Float64);
        var plain = Evaluation.Evaluate(model, x, policy, quadrature);
        var weighted = Evaluation.Evaluate(model, x, policy, quadrature, new Dictionary<string, double> { ["scalar"] = 5 });
        double Mse(Tensor r) => r.square().mean().ToDouble();
        var vec = plain.Equations[0].Residual;
        double elements = Enumerable.Range(0, 3).Sum(e => Mse(vec[e]));
        double s = Mse(plain.Equations[1].Residual);
        Assert.Equal((elements + s) / 4, plain.Loss().ToDouble(), 14);
        Assert.Equal((elements + 5 * s) / 8, weighted.Loss().ToDouble(), 14);
        var e = Assert.Throws<InvalidOperationException>(() => Evaluation.Evaluate(model, x, policy, quadrature, new Dictionary<string, double> { ["euler"] = 1 }));
        Assert.Contains("'euler'", e.Message);
    }

    [Fact]
    public void Simulated_regimes_move_with_the_transition_matrix()
    {
        // Given 20,000 economies in regime 0 and 20,000 in regime 1
        var (model, policy, _) = Setup(4, 1);
        using var __ = policy;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var start = new double[40_000, 5];
        for (int i = 0; i < 40_000; i++) { start[i, 0] = start[i, 1] = start[i, 2] = 1; start[i, 4] = i < 20_000 ? 0 : 1; }
        // When they step once
        var next = Tensors.ToArray(Simulator.Step(model, Tensors.FromArray(start, ScalarType.Float64), policy, new StandardNormalStream(9)));
        // Then the share that switches is each row's off-diagonal probability (standard error ≈ 0.003)
        double leave0 = Enumerable.Range(0, 20_000).Average(i => next[i, 4]);
        double leave1 = Enumerable.Range(20_000, 20_000).Average(i => 1 - next[i, 4]);
        Assert.Equal(0.1, leave0, 0.015);
        Assert.Equal(0.2, leave1, 0.015);
        Assert.All(Enumerable.Range(0, 40_000), i => Assert.True(next[i, 4] is 0 or 1));
        // And x moves by the current regime's level
        Assert.Equal(0.5, next[0, 3], 14);
        Assert.Equal(2.0, next[39_999, 3], 14);
    }
}

public sealed class MarkovDrawPrecisionTests
{
    /// <summary>Two absorbing regimes: an economy never leaves the one it starts in.</summary>
    private sealed class Absorbing : Model
    {
        private readonly State _x, _regime;
        private readonly Policy _p;

        public Absorbing()
        {
            _x = State("x", InitialDistribution.Uniform(0, 1));
            _regime = Markov("regime", new MarkovChain(new double[,] { { 1, 0 }, { 0, 1 } }), InitialDistribution.Fixed(0));
            _p = Policy("p");
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) => [(_x, t[_x] + 0 * t[_p])];

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t) => [("e", t[_p])];
    }

    private sealed class Zero : IPolicyFunction
    {
        public Tensor Values(Tensor states) => zeros(states.shape[0], 1, dtype: states.dtype);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void A_draw_that_rounds_to_one_does_not_reach_an_impossible_state(ScalarType dtype)
    {
        // Given an economy in regime 0 of an absorbing chain, and a uniform draw that float32 rounds up to exactly 1
        var model = new Absorbing();
        using var scope = NewDisposeScope();
        var state = tensor(new[] { 0.5, 0.0 }, [1, 2], dtype: ScalarType.Float64).to_type(dtype);
        var draw = tensor(new[] { 1 - Math.Pow(2, -25) + 1e-12 }, [1, 1], dtype: ScalarType.Float64).to_type(dtype);
        Assert.Equal(0, new MarkovChain(new double[,] { { 1, 0 }, { 0, 1 } }).Next(0, 1 - Math.Pow(2, -25) + 1e-12));
        // When it steps
        var next = Evaluation.Step(model, state, new Zero(), draw).to_type(ScalarType.Float64);
        // Then it stays in regime 0, as the chain says
        Assert.Equal(0.0, next[0, 1].ToDouble());
    }
}
