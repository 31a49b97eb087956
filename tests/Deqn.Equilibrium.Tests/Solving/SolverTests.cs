using System.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class SolverTests(ITestOutputHelper output)
{
    internal static double MaxRelativePolicyError(Model model, IPolicyFunction policy, double low, double high)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var k = torch.linspace(low, high, 200, dtype: ScalarType.Float64).unsqueeze(1);
        var exact = new ClosedFormPolicy(model).Values(k);
        return policy.Values(k).div(exact).sub(1).abs().max().item<double>();
    }

    [Fact]
    public void A_short_solve_of_the_deterministic_model_learns_the_closed_form_savings_rate()
    {
        TorchEngine.SetThreads(1);
        // Given the deterministic Brock–Mirman model and 64 fresh states per episode
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        var spec = new SolverSpec
        {
            Episodes = 300, Trajectories = 64, EpisodeLength = 1, RedrawEachEpisode = true, BatchSize = 64, Seed = 1, LogEvery = 50,
            WarmStart = WarmStartKind.None, SlopeAnchor = 0, Polish = new PolishSpec { Rounds = 0 },   // Adam alone, from random weights
        };
        // When it is solved for 300 episodes
        var watch = Stopwatch.StartNew();
        var result = Solver.Run(model, spec);
        output.WriteLine($"{result.Steps} steps in {watch.Elapsed.TotalSeconds:F2} s; final loss {result.History[^1].Value("loss"):G3}");
        using var policy = result.Policy;
        // Then the savings rate is within 2 % of αβ over the whole training range
        double error = MaxRelativePolicyError(model, policy, 0.1, 1.0);
        output.WriteLine($"max relative error {error:G3}");
        Assert.True(error < 0.02, $"max relative policy error {error:G3}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_polish_stops_at_its_plateau_only_when_asked(bool stopWhenConverged)
    {
        // Given stochastic Brock–Mirman (δ = 1) as the correction to its first-order solution, which is its closed form
        // in the raw outputs: the polish brings the loss to rounding within a round or two, then it is flat
        var model = new StochasticGrowth(GrowthCalibration.BrockMirmanStochastic);
        var spec = new SolverSpec
        {
            Network = SolverSpec.DefaultNetwork with { Hidden = [new Deqn.Training.Networks.LayerSpec(8, Deqn.Training.Networks.Activation.Tanh)] },
            Episodes = 10, Trajectories = 16, EpisodeLength = 5, BatchSize = 16, LogEvery = 5, Seed = 2,
            Polish = new PolishSpec { Rounds = 10, States = 64, Steps = 2, StopWhenConverged = stopWhenConverged },
        };
        var result = Solver.Run(model, spec);
        using var policy = result.Policy;
        // Then the plateau rule ends it before the planned 10 rounds (it needs 4 to judge), with the reason; without it all 10 run
        if (stopWhenConverged)
        {
            Assert.Equal(StopReason.Converged, result.Stop);
            Assert.InRange(result.PolishRounds.Run, 4, 9);
            Assert.Contains("the loss on a fresh sample stopped falling", result.StopMessage);
        }
        else Assert.Equal((10, 10), result.PolishRounds);
    }

    /// <summary>A model that recommends its own settings: a tiny network, a few episodes, a high learning rate.</summary>
    private sealed class Recommending : Model, IRecommendsSolver
    {
        private readonly State _k;
        private readonly Policy _s;

        public Recommending()
        {
            _k = State("K", InitialDistribution.Uniform(0.1, 1));
            _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
        }

        public SolverSpec Recommended => new()
        {
            Network = SolverSpec.DefaultNetwork with { Hidden = [new Deqn.Training.Networks.LayerSpec(4, Deqn.Training.Networks.Activation.Tanh)] },
            Episodes = 7, Trajectories = 8, EpisodeLength = 2, BatchSize = 4, LogEvery = 3, Seed = 5, Optimization = new OptimizationSpec { Optimizer = SolverSpec.Adam(0.05) },
            Polish = new PolishSpec { Rounds = 0 },
        };

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
        {
            yield return (_k, t[_s] * t[_k].pow(0.36));
        }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            yield return ("target", t[_s] - 0.3);
        }
    }

    [Fact]
    public void Run_without_a_spec_solves_with_the_models_recommended_settings()
    {
        TorchEngine.SetThreads(1);
        // Given a model that recommends 7 episodes, logged every 3, with its own network and seed
        var model = new Recommending();
        // When it is solved without a spec, and with its recommended spec given explicitly
        var implicitly = Solver.Run(model);
        var explicitly = Solver.Run(model, model.Recommended);
        using var a = implicitly.Policy;
        using var b = explicitly.Policy;
        // Then the run follows the recommendation and both runs are the same, weight for weight
        Assert.Equal(7, implicitly.Episodes);
        Assert.Equal([1, 3, 6, 7], implicitly.History.Select(h => h.Epoch));
        Assert.Equal(4, a.Network.Spec.Hidden.Single().Width);
        Assert.Equal(a.Network.parameters().SelectMany(p => p.detach().data<double>().ToArray()), b.Network.parameters().SelectMany(p => p.detach().data<double>().ToArray()));
    }

    [Fact]
    public void A_model_without_a_recommendation_is_solved_with_the_generic_defaults()
    {
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        Assert.Equal(1_000, SolverSpec.For(model).Episodes);
        Assert.Equal(4, SolverSpec.For(model).Polish.Rounds);
        Assert.Equal(new SolverSpec().Episodes, SolverSpec.For(new DeclarationOnly()).Episodes);
    }

    private sealed class DeclarationOnly : Model
    {
        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) => [];
        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t) => [];
    }
}
