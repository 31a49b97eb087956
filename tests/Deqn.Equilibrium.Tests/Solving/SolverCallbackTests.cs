using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Callbacks;
using Deqn.Training.Loop;
using Deqn.Training.Networks;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class SolverCallbackTests
{
    private sealed class StopAtEpisode(int episode) : ICallback
    {
        public List<int> Seen { get; } = new();
        public List<double> Losses { get; } = new();

        public void OnEpochEnd(TrainingContext context)
        {
            Seen.Add(context.Epoch);
            Losses.Add(context.Metrics["euler_mean"]);
            if (context.Epoch == episode) context.RequestStop(StopReason.Callback, $"seen enough at episode {episode}");
        }
    }

    private static SolverSpec Spec => new()
    {
        Network = SolverSpec.DefaultNetwork with { Hidden = [new LayerSpec(8, Activation.Tanh)] }, Episodes = 40, Trajectories = 8, EpisodeLength = 2, BatchSize = 16, LogEvery = 1, Seed = 3,
    };

    [Fact]
    public void A_user_callback_sees_every_logged_episode_with_its_residuals_and_can_stop_the_solve()
    {
        // Given the deterministic growth model and a callback that stops after episode 12
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        var callback = new StopAtEpisode(12);

        // When it is solved for up to 40 episodes
        var result = Solver.Run(model, Spec, new SolveOptions { Callbacks = [callback] });
        using var policy = result.Policy;

        // Then the callback saw episodes 1..12 with their Euler residuals, and the solve stopped for its reason
        Assert.Equal(Enumerable.Range(1, 12), callback.Seen);
        Assert.All(callback.Losses, v => Assert.True(double.IsFinite(v) && v > 0));
        Assert.Equal(StopReason.Callback, result.Stop);
        Assert.Equal("seen enough at episode 12", result.StopMessage);
        Assert.Equal(12, result.Episodes);
        Assert.Equal(12, result.History.Count);
    }

    [Fact]
    public void Early_stopping_from_the_toolkit_stops_a_solve_whose_residuals_stopped_improving()
    {
        // Given early stopping that counts only an improvement by more than 1e9 as one, so none after the first logged episode
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        var early = new EarlyStopping("euler_max", patience: 3, minDelta: 1e9, restoreBestWeights: false);

        // When it is solved with early stopping watching the largest residual
        var result = Solver.Run(model, Spec, new SolveOptions { Callbacks = [early] });
        using var policy = result.Policy;

        // Then it stops after the patience runs out
        Assert.Equal(StopReason.EarlyStopping, result.Stop);
        Assert.Equal(4, result.Episodes);
    }

    private sealed class CancelWhenBeginning(int episode, CancellationTokenSource cancel) : ICallback
    {
        public void OnEpochBegin(TrainingContext context)
        {
            if (context.Epoch == episode) cancel.Cancel();
        }
    }

    [Fact]
    public void A_solve_interrupted_between_logged_episodes_logs_the_episode_where_it_ended()
    {
        // Given residuals logged every 10 episodes and a Ctrl-C while episode 13 runs
        var model = new StochasticGrowth(GrowthCalibration.BrockMirman);
        using var cancel = new CancellationTokenSource();

        // When it is solved
        var result = Solver.Run(model, Spec with { LogEvery = 10 }, new SolveOptions { Callbacks = [new CancelWhenBeginning(13, cancel)], Cancel = cancel.Token });
        using var policy = result.Policy;

        // Then episode 13 finishes, the solve stops there, and its last history row is that episode's
        Assert.Equal(StopReason.Interrupted, result.Stop);
        Assert.Equal(13, result.Episodes);
        Assert.Equal([1, 10, 13], result.History.Select(h => h.Epoch));
        Assert.True(double.IsFinite(result.History[^1].Value("euler_mean")));
    }
}
