using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using TorchSharp;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class ResumeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "deqn-resume-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private sealed class CancelAt(int episode, CancellationTokenSource cancel) : ITrainingLogger
    {
        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
        {
            if (step >= episode) cancel.Cancel();
        }
    }

    private static SolverSpec Spec => new()
    {
        Network = SolverSpec.DefaultNetwork with { Hidden = [new LayerSpec(16, Activation.Tanh), new LayerSpec(16, Activation.Tanh)] },
        Episodes = 40, Trajectories = 16, EpisodeLength = 5, EpochsPerEpisode = 2, BatchSize = 24, LogEvery = 5, CheckpointEvery = 10, Seed = 7,
    };

    private static double[] Weights(SolveResult r) =>
        r.Policy.Network.parameters().SelectMany(p => p.detach().data<double>().ToArray()).ToArray();

    [Theory]
    [InlineData(InputScaling.InitialBox, QuadratureKind.GaussHermite, WarmStartKind.Linear)]
    [InlineData(InputScaling.Simulated, QuadratureKind.PseudoRandom, WarmStartKind.Correction)]
    public void A_solve_interrupted_and_resumed_ends_exactly_where_an_uninterrupted_one_does(InputScaling scaling, QuadratureKind quadrature, WarmStartKind start)
    {
        // Given the stochastic growth model (shocks, shuffling, two epochs per episode; inputs scaled by the initial box
        // or by running statistics, expectations by fixed nodes or by Monte Carlo nodes redrawn every step)
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        // (the network fitted to the first-order solution, or learning the correction to it)
        var spec = Spec with { InputScaling = scaling, Quadrature = new QuadratureSpec(quadrature, 4), WarmStart = start };
        var uninterruptedPath = Path.Combine(_dir, "a.ckpt");
        var resumedPath = Path.Combine(_dir, "b.ckpt");

        // When one solve runs 40 episodes, and another is interrupted after episode 20 and resumed from its checkpoint
        var whole = Solver.Run(model, spec, new SolveOptions { CheckpointPath = uninterruptedPath, ModelName = "growth" });
        using var cancel = new CancellationTokenSource();
        var first = Solver.Run(model, spec, new SolveOptions { CheckpointPath = resumedPath, ModelName = "growth", Logger = new CancelAt(20, cancel), Cancel = cancel.Token });
        Assert.Equal(StopReason.Interrupted, first.Stop);
        Assert.Equal(20, first.Episodes);
        first.Policy.Dispose();
        var checkpoint = SolverCheckpoint.Load(resumedPath);
        var resumed = Solver.Run(model, spec, new SolveOptions { CheckpointPath = resumedPath, ModelName = "growth", Resume = checkpoint });

        // Then the weights are bit-identical and so is the logged history (apart from wall time)
        Assert.Equal(Weights(whole), Weights(resumed));
        Assert.Equal(whole.Steps, resumed.Steps);
        Assert.Equal(whole.History.Select(h => (h.Epoch, h.Value("loss"), h.Metrics["euler_mean"])), resumed.History.Select(h => (h.Epoch, h.Value("loss"), h.Metrics["euler_mean"])));
        whole.Policy.Dispose();
        resumed.Policy.Dispose();
    }

    [Theory]
    [InlineData(10)]   // during the episodes
    [InlineData(22)]   // during the polish rounds
    public void A_solve_with_a_polish_resumed_from_either_phase_ends_exactly_where_an_uninterrupted_one_does(int stopAt)
    {
        // Given 20 episodes followed by 4 Levenberg–Marquardt rounds on continuing trajectories
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        var spec = Spec with { Episodes = 20, Polish = new PolishSpec { Rounds = 4, States = 40, Steps = 3 } };
        var whole = Solver.Run(model, spec, new SolveOptions { CheckpointPath = Path.Combine(_dir, "a.ckpt"), ModelName = "growth" });
        Assert.Equal(24, whole.Episodes);
        // When another is interrupted and resumed from its checkpoint
        var resumedPath = Path.Combine(_dir, "b.ckpt");
        using var cancel = new CancellationTokenSource();
        var first = Solver.Run(model, spec, new SolveOptions { CheckpointPath = resumedPath, ModelName = "growth", Logger = new CancelAt(stopAt, cancel), Cancel = cancel.Token });
        Assert.Equal(StopReason.Interrupted, first.Stop);
        first.Policy.Dispose();
        var checkpoint = SolverCheckpoint.Load(resumedPath);
        Assert.Equal(stopAt, checkpoint.Episode);
        var resumed = Solver.Run(model, spec, new SolveOptions { CheckpointPath = resumedPath, ModelName = "growth", Resume = checkpoint });

        // Then weights, steps and history are the same, and the rounds lowered the loss below the episodes' last
        Assert.Equal(Weights(whole), Weights(resumed));
        Assert.Equal(whole.Steps, resumed.Steps);
        Assert.Equal(whole.History.Select(h => (h.Epoch, h.Value("loss"), h.Metrics["euler_mean"])), resumed.History.Select(h => (h.Epoch, h.Value("loss"), h.Metrics["euler_mean"])));
        Assert.Equal(24, SolverCheckpoint.Load(resumedPath).Episode);
        double adam = whole.History.Single(h => h.Epoch == 20).Metrics["euler_mean"];
        double polished = whole.History.Single(h => h.Epoch == 24).Metrics["euler_mean"];
        Assert.True(polished < adam / 10, $"mean |Euler| {adam:E2} after the episodes, {polished:E2} after the polish");
        whole.Policy.Dispose();
        resumed.Policy.Dispose();
    }

    [Fact]
    public void A_solve_of_two_ranks_resumed_from_either_phase_ends_exactly_where_an_uninterrupted_one_does()
    {
        // Given two ranks simulated in one process, with Monte Carlo nodes redrawn from each rank's stream, inputs scaled
        // by the statistics of both ranks' states, and 2 polish rounds over both ranks' samples
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        var spec = Spec with
        {
            Episodes = 20, Ranks = 2, InputScaling = InputScaling.Simulated, Quadrature = new QuadratureSpec(QuadratureKind.PseudoRandom, 4),
            Polish = new PolishSpec { Rounds = 2, States = 40, Steps = 3 },
        };
        var whole = Solver.Run(model, spec, new SolveOptions { CheckpointPath = Path.Combine(_dir, "a.ckpt"), ModelName = "growth" });
        // Then its checkpoint holds both ranks: two stream states, 2 × 16 trajectories
        var final = SolverCheckpoint.Load(Path.Combine(_dir, "a.ckpt"));
        Assert.Equal(2, final.Ranks);
        Assert.NotEqual(final.RandomStates![0], final.RandomStates[1]);
        foreach (int stopAt in new[] { 10, 21 })
        {
            // When another is interrupted during the episodes or the polish and resumed from its checkpoint
            var resumedPath = Path.Combine(_dir, $"b{stopAt}.ckpt");
            using var cancel = new CancellationTokenSource();
            Solver.Run(model, spec, new SolveOptions { CheckpointPath = resumedPath, ModelName = "growth", Logger = new CancelAt(stopAt, cancel), Cancel = cancel.Token }).Policy.Dispose();
            using var resumed = Solver.Run(model, spec, new SolveOptions { CheckpointPath = resumedPath, ModelName = "growth", Resume = SolverCheckpoint.Load(resumedPath) }).Policy;
            // Then the weights are bit-identical
            Assert.Equal(Weights(whole), resumed.Network.parameters().SelectMany(p => p.detach().data<double>().ToArray()).ToArray());
        }
        whole.Policy.Dispose();
    }

    [Fact]
    public void Two_ranks_train_on_twice_the_states_and_differ_from_one_rank()
    {
        // Given the same solve with one rank and with two (rank 0's stream is the one-rank solve's)
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        using var one = Solver.Run(model, Spec with { Episodes = 3 }, new SolveOptions { ModelName = "growth" }).Policy;
        using var two = Solver.Run(model, Spec with { Episodes = 3, Ranks = 2 }, new SolveOptions { ModelName = "growth" }).Policy;
        // Then both start from the same weights but step on different gradients (the mean over ranks)
        var a = one.Network.parameters().SelectMany(p => p.detach().data<double>().ToArray()).ToArray();
        var b = two.Network.parameters().SelectMany(p => p.detach().data<double>().ToArray()).ToArray();
        Assert.NotEqual(a, b);
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 0.05, "three episodes at the same learning rate stay close");
    }

    [Fact]
    public void A_checkpoint_of_two_ranks_is_refused_by_a_solve_of_one()
    {
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        var path = Path.Combine(_dir, "r.ckpt");
        Solver.Run(model, Spec with { Episodes = 2, Ranks = 2 }, new SolveOptions { CheckpointPath = path, ModelName = "growth" }).Policy.Dispose();
        var e = Assert.Throws<SolverException>(() => Solver.Run(model, Spec, new SolveOptions { ModelName = "growth", Resume = SolverCheckpoint.Load(path) }));
        Assert.Contains("written by a solve of 2 rank(s), this one has 1", e.Message);
    }

    [Fact]
    public void A_checkpoint_of_another_model_is_refused_with_a_message()
    {
        // Given a checkpoint written by a solve of the model named "growth"
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        var path = Path.Combine(_dir, "c.ckpt");
        Solver.Run(model, Spec with { Episodes = 2 }, new SolveOptions { CheckpointPath = path, ModelName = "growth" }).Policy.Dispose();
        // When a solve of a differently calibrated model resumes from it
        var other = new StochasticGrowth(new GrowthCalibration(Delta: 0.5, CapitalLow: 0.1, CapitalHigh: 0.4));
        var e = Assert.Throws<SolverException>(() => Solver.Run(other, Spec, new SolveOptions { ModelName = "growth", Resume = SolverCheckpoint.Load(path) }));
        // Then it is refused
        Assert.Contains("belongs to model 'growth' with other parameters", e.Message);
    }

    [Fact]
    public void A_diverging_solve_stops_with_a_message_naming_the_equation_and_keeps_its_last_checkpoint()
    {
        // Given a solve that ran 5 good episodes and checkpointed them
        var model = new StochasticGrowth(new GrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        var path = Path.Combine(_dir, "d.ckpt");
        var good = Spec with { Episodes = 5, Optimization = new() { Optimizer = new(Deqn.Training.Optimization.OptimizerKind.Sgd) { LearningRate = 1e-3 } } };
        Solver.Run(model, good, new SolveOptions { CheckpointPath = path, ModelName = "growth" }).Policy.Dispose();
        var before = File.ReadAllBytes(path);
        // When it is resumed with a learning rate far too large
        var bad = good with { Episodes = 400, CheckpointEvery = 1, Optimization = new() { Optimizer = new(Deqn.Training.Optimization.OptimizerKind.Sgd) { LearningRate = 1e12 } } };
        var e = Assert.Throws<SolverException>(() => Solver.Run(model, bad, new SolveOptions { CheckpointPath = path, ModelName = "growth", Resume = SolverCheckpoint.Load(path) }));
        // Then the message says what went wrong, and the last checkpoint is a good one (the 5th episode's or a later finite one)
        Assert.Matches("non-finite|left the feasible set", e.Message);
        var kept = SolverCheckpoint.Load(path);
        Assert.True(kept.Episode >= 5, e.Message);
        if (kept.Episode == 5) Assert.Equal(before, File.ReadAllBytes(path));
        Assert.All(kept.History, h => Assert.True(double.IsFinite(h.Value("loss"))));
    }
}
