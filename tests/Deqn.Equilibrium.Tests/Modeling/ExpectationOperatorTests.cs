using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class ExpectationOperatorTests
{
    [Theory]
    [InlineData(1L, 5)]
    [InlineData(2L, 3)]
    [InlineData(3L, 8)]
    public void The_batched_expectation_equals_an_explicit_loop_over_the_nodes(long seed, int nodes)
    {
        // Given the stochastic growth model (δ = 0.1, no closed form) and a randomly initialized policy network
        var c = new GrowthCalibration();
        var model = new StochasticGrowth(c);
        using var generator = TorchEngine.Generator(seed);
        var spec = PolicyNetwork.SpecFor(model, new NetworkBodySpec { Hidden = [new LayerSpec(16, Activation.Tanh)], Precision = Precision.Float64 });
        using var policy = new PolicyNetwork(model, new Network(spec, generator));
        var rule = Quadratures.GaussHermite(nodes, c.Sigma);
        using var quadrature = new QuadratureTensors(rule, ScalarType.Float64);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var random = new StandardNormalStream(seed);
        var states = new double[40, 2];
        for (int i = 0; i < 40; i++)
        {
            states[i, 0] = 0.9 + 11.1 * random.Uniform();
            states[i, 1] = 0.7 + 0.6 * random.Uniform();
        }
        var x = Tensors.FromArray(states, ScalarType.Float64);

        // When the residual comes from the batched operator (all nodes in one forward pass)
        var batched = Evaluation.Evaluate(model, x, policy, quadrature).Equations.Single().Residual.data<double>().ToArray();

        // Then it equals the Euler residual written out state by state and node by node
        var s = Tensors.ToArray(policy.Values(x));
        for (int i = 0; i < 40; i++)
        {
            double k = states[i, 0], z = states[i, 1];
            double wealth = z * Math.Pow(k, c.Alpha) + (1 - c.Delta) * k;
            double consumption = (1 - s[i, 0]) * wealth, kNext = s[i, 0] * wealth;
            double expectation = 0;
            for (int q = 0; q < rule.Count; q++)
            {
                double zNext = Math.Exp(c.Rho * Math.Log(z) + rule.Nodes[q, 0]);
                double sNext = Tensors.ToArray(policy.Values(torch.tensor(new[] { kNext, zNext }, [1, 2], dtype: ScalarType.Float64)))[0, 0];
                double wealthNext = zNext * Math.Pow(kNext, c.Alpha) + (1 - c.Delta) * kNext;
                double gross = c.Alpha * zNext * Math.Pow(kNext, c.Alpha - 1) + 1 - c.Delta;
                expectation += rule.Weights[q] * gross / ((1 - sNext) * wealthNext);
            }
            double expected = 1 - 1 / (c.Beta * consumption * expectation);
            Assert.True(Math.Abs(batched[i] - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"state {i}: {batched[i]} vs {expected}");
        }
    }
}
