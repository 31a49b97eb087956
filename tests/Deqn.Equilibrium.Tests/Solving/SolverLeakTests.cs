using System.Diagnostics;
using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

/// <summary>The solver owns every tensor of its steps: what a solve leaves alive does not grow with the number of steps.</summary>
public sealed class SolverLeakTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("brock-mirman")]
    [InlineData("brock-mirman-stochastic")]
    public void A_thousand_solve_steps_leave_no_more_live_tensors_than_two_hundred(string name)
    {
        TorchEngine.SetThreads(1);
        // Given a shipped model, a small network, and episodes of one simulated period and one optimizer step, with the
        // residual records, histograms and a policy probe that a real solve also runs every few episodes
        var model = BuiltinModels.Catalog().Find(name).Create(new Dictionary<string, double>());
        var box = model.States.Select(s => (s.Name, s.Initial.Low, s.Initial.High)).ToArray();
        var probe = SolutionDiagnostics.ReferenceProbe(model, SolutionDiagnostics.DefaultReference(model)!, box, 5, ScalarType.Float64);
        SolverSpec Spec(int episodes) => new()
        {
            Network = SolverSpec.DefaultNetwork with { Hidden = [new LayerSpec(8, Activation.Tanh)] }, Episodes = episodes, Trajectories = 16, EpisodeLength = 1, BatchSize = 0,
            LogEvery = 50, HistogramEvery = 100, CheckpointEvery = 0, Seed = 3, Polish = new PolishSpec { Rounds = 0 },
        };
        long LiveAfter(int episodes)
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var result = Solver.Run(model, Spec(episodes), new SolveOptions { Probe = probe });
            Assert.Equal(episodes, result.Steps);
            result.Policy.Dispose();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        }
        LiveAfter(10); // anything allocated once per process (libtorch's own caches) is allocated here

        // When 200 and then 1,000 steps run
        var watch = Stopwatch.StartNew();
        long after200 = LiveAfter(200);
        long after1000 = LiveAfter(1000);
        output.WriteLine($"{name}: {watch.Elapsed.TotalSeconds:F1} s; live tensors left: {after200} after 200 steps, {after1000} after 1,000");

        // Then 800 more steps (and 16 more residual records, 8 more histograms) left no more tensors alive than 200 did.
        // The count is per thread and counts creation minus disposal, so a tensor left to the garbage collector stays
        // counted. (Today a run of the deterministic model leaves none; one with a shock leaves one intermediate of its
        // one-time setup to the finalizer, whatever the number of steps.)
        Assert.True(after1000 == after200, $"live tensors left after the policy was disposed: {after200} after 200 steps, {after1000} after 1,000");
    }
}
