using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class ProcessTests
{
    /// <summary>Capital K' = s·z·K^0.3 with TFP declared as a log-AR(1) process.</summary>
    private sealed class Toy : Model
    {
        private readonly State _k;
        private readonly Policy _s;
        private readonly bool _givesZ;

        public Toy(InitialDistribution z0, double rho, double sigma, bool givesZ = false)
        {
            _k = State("K", InitialDistribution.Uniform(0.5, 1.5));
            Z = LogAR1("z", z0, rho, sigma);
            _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
            _givesZ = givesZ;
        }

        public State Z { get; }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
        {
            yield return (_k, t[_s] * t[Z] * t[_k].pow(0.3));
            if (_givesZ) yield return (Z, t[Z]);
        }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            yield return ("e", t.Expect(next => next[_k] * next[Z]) - t[_k]);
        }
    }

    private sealed class Half : IPolicyFunction
    {
        public Tensor Values(Tensor states) => torch.full([states.shape[0], 1], 0.5, dtype: states.dtype);
    }

    [Fact]
    public void A_process_without_shocks_that_starts_at_one_is_a_constant_not_a_state()
    {
        // Given ln z' = 0.9 ln z with σ = 0 and z₀ = 1
        var model = new Toy(InitialDistribution.Fixed(1), 0.9, 0);
        // Then z is neither a state nor a shock, and a period reads it as 1
        Assert.Equal(["K"], model.States.Select(s => s.Name));
        Assert.Empty(model.Shocks);
        Assert.Equal(1.0, model.Z.Constant);
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build([], 0), ScalarType.Float64);
        var k = torch.tensor(new[] { 0.5, 1.0, 1.5 }, [3, 1], dtype: ScalarType.Float64);
        var residual = Evaluation.Evaluate(model, k, new Half(), quadrature).Equations.Single().Residual.data<double>().ToArray();
        // (next K = 0.5·K^0.3, next z = 1)
        Assert.All(new[] { 0.5, 1.0, 1.5 }.Zip(residual), p => Assert.Equal(0.5 * Math.Pow(p.First, 0.3) - p.First, p.Second, 14));
    }

    [Fact]
    public void A_process_moves_by_its_law_with_the_simulators_draws()
    {
        // Given ln z' = 0.8 ln z + ε, σ = 0.1, and a process without shocks that starts away from 1
        var stochastic = new Toy(InitialDistribution.Uniform(0.9, 1.1), 0.8, 0.1);
        var deterministic = new Toy(InitialDistribution.Uniform(0.9, 1.1), 0.8, 0);
        Assert.Equal([("eps_z", 0.1)], stochastic.Shocks.Select(s => (s.Name, s.Sigma)));
        Assert.Empty(deterministic.Shocks);
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, 0.9, 0.5, 1.1 }, [2, 2], dtype: ScalarType.Float64);
        // When each is simulated one period
        var next = Tensors.ToArray(Simulator.Step(stochastic, x, new Half(), new StandardNormalStream(3)));
        var still = Tensors.ToArray(Simulator.Step(deterministic, x, new Half(), new StandardNormalStream(3)));
        // Then z' = exp(ρ ln z + σ·ε) with the stream's draws (row by row), and exp(ρ ln z) without shocks
        var draws = new StandardNormalStream(3);
        double e0 = 0.1 * draws.Next(), e1 = 0.1 * draws.Next();
        Assert.Equal(Math.Exp(0.8 * Math.Log(0.9) + e0), next[0, 1], 14);
        Assert.Equal(Math.Exp(0.8 * Math.Log(1.1) + e1), next[1, 1], 14);
        Assert.Equal(Math.Exp(0.8 * Math.Log(0.9)), still[0, 1], 14);
        Assert.Equal(0.5 * 0.9 * Math.Pow(1.0, 0.3), still[0, 0], 14);
    }

    [Fact]
    public void A_transition_that_also_gives_a_process_state_is_refused()
    {
        var model = new Toy(InitialDistribution.Uniform(0.9, 1.1), 0.8, 0.1, givesZ: true);
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new[] { 1.0, 1.0 }, [1, 2], dtype: ScalarType.Float64);
        var e = Assert.Throws<InvalidOperationException>(() => Simulator.Step(model, x, new Half(), new StandardNormalStream(1)));
        Assert.Equal("state z follows its declared process; the transition does not give it", e.Message);
    }
}
