using System.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
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
        var spec = new SolverSpec { Episodes = 300, Trajectories = 64, EpisodeLength = 1, RedrawEachEpisode = true, BatchSize = 64, Seed = 1, LogEvery = 50 };
        // When it is solved for 300 episodes
        var watch = Stopwatch.StartNew();
        var result = Solver.Run(model, spec);
        output.WriteLine($"{result.Steps} steps in {watch.Elapsed.TotalSeconds:F2} s; final loss {result.History[^1].Loss:G3}");
        using var policy = result.Policy;
        // Then the savings rate is within 2 % of αβ over the whole training range
        double error = MaxRelativePolicyError(model, policy, 0.1, 1.0);
        output.WriteLine($"max relative error {error:G3}");
        Assert.True(error < 0.02, $"max relative policy error {error:G3}");
    }
}
