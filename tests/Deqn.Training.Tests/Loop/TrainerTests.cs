using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Loop;

public sealed class TrainerTests
{
    private static Dataset Data(int n, long seed, bool noise)
    {
        using var g = new Generator((ulong)seed);
        var x = torch.rand(n, 3, dtype: ScalarType.Float64, generator: g);
        var y = noise
            ? torch.randn(n, 1, dtype: ScalarType.Float64, generator: g)
            : (x * Math.PI).sin().sum(1, keepdim: true);
        return new Dataset(x, y);
    }

    private static Network Net(long seed, double dropout = 0, int width = 32) =>
        new(NetworkSpec.Dense(3, new[] { width, width }, 1, Activation.Tanh, dropout) with { Precision = Precision.Float64 }, new Generator((ulong)seed));

    private sealed class Recorder : ICallback, ITrainingLogger
    {
        public List<Dictionary<string, Tensor>> Weights { get; } = new();
        public List<IReadOnlyDictionary<string, double>> Scalars { get; } = new();
        public List<string> Histograms { get; } = new();
        public string? FinishReason { get; private set; }

        public void OnEpochEnd(TrainingContext context) =>
            Weights.Add(context.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope()));

        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) => Scalars.Add(new Dictionary<string, double>(scalars));
        public void LogHistogram(long step, string tag, ReadOnlySpan<double> values) => Histograms.Add(tag);
        public void Finish(string reason) => FinishReason = reason;
    }

    [Fact]
    public void Restore_best_weights_puts_back_the_weights_of_the_best_validation_epoch()
    {
        // Given a wide network fitting pure noise, so validation loss soon rises (overfitting)
        using var train = Data(20, 1, noise: true);
        using var val = Data(20, 2, noise: true);
        using var net = Net(3, width: 64);
        var early = new EarlyStopping("val_loss", patience: 5, restoreBestWeights: true);
        var recorder = new Recorder();
        var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 0.01 }, net.parameters()),
            new TrainingSpec { Epochs = 300, BatchSize = 0 })
        { Callbacks = new List<ICallback> { early, recorder } };

        // When
        var history = trainer.Fit(train, val);

        // Then training stopped early, after the best epoch, and the model holds exactly that epoch's weights
        Assert.Equal(StopReason.EarlyStopping, history.StopReason);
        Assert.True(early.BestEpoch < history.Epochs.Count);
        var best = recorder.Weights[early.BestEpoch - 1];
        foreach (var (name, t) in net.state_dict())
            Assert.True(t.eq(best[name]).all().item<bool>(), $"{name} differs from the best epoch's");
        var valLoss = history.Series("val_loss");
        Assert.Equal(valLoss.Min(), valLoss[early.BestEpoch - 1]);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_and_keeps_the_last_good_weights()
    {
        // Given plain SGD with an absurd learning rate, which diverges to infinity
        using var train = Data(50, 1, noise: false);
        using var net = Net(1);
        var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 1e6 }, net.parameters()),
            new TrainingSpec { Epochs = 200, BatchSize = 10 });

        // When
        var history = trainer.Fit(train);

        // Then
        Assert.Equal(StopReason.NonFiniteLoss, history.StopReason);
        Assert.Contains("last finite epoch", history.StopMessage);
        Assert.All(net.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_weights_and_another_seed_does_not()
    {
        double[] Run(long seed)
        {
            using var train = Data(64, 5, noise: false);
            using var net = Net(7, dropout: 0.2);
            var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters()),
                new TrainingSpec { Epochs = 5, BatchSize = 16, Seed = seed });
            trainer.Fit(train);
            return net.parameters().SelectMany(p => p.detach().flatten().data<double>().ToArray()).ToArray();
        }

        Assert.Equal(Run(11), Run(11));
        Assert.NotEqual(Run(11), Run(12));
    }

    [Fact]
    public void Loggers_receive_loss_learning_rate_gradient_norms_and_histograms()
    {
        using var train = Data(40, 1, noise: false);
        using var val = Data(10, 2, noise: false);
        using var net = Net(1);
        var recorder = new Recorder();
        var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters()),
            new TrainingSpec { Epochs = 4, BatchSize = 8, HistogramEvery = 2 })
        { Loggers = new List<ITrainingLogger> { recorder } };

        var history = trainer.Fit(train, val);

        Assert.Equal(4, recorder.Scalars.Count);
        Assert.All(recorder.Scalars, s =>
        {
            Assert.True(s["loss"] > 0);
            Assert.True(s["val_loss"] > 0);
            Assert.Equal(0.001, s["lr"], 12);
            Assert.True(s["grad_norm/dense_1.weight"] > 0);
            Assert.True(s["grad_norm/output.weight"] > 0);
        });
        Assert.Contains("weights/dense_1.weight", recorder.Histograms);
        Assert.Contains("gradients/output.weight", recorder.Histograms);
        Assert.Equal(2 * 2 * net.parameters().Count(), recorder.Histograms.Count);
        Assert.Equal(history.StopMessage, recorder.FinishReason);
        Assert.Equal(4 * 5, history.Steps);
    }

    [Fact]
    public void Validating_every_k_steps_gives_one_history_row_per_k_steps()
    {
        using var train = Data(40, 1, noise: false);
        using var val = Data(10, 2, noise: false);
        using var net = Net(1);
        var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters()),
            new TrainingSpec { Epochs = 3, BatchSize = 10, ValidateEverySteps = 3 });

        var history = trainer.Fit(train, val);

        Assert.Equal(12, history.Steps);
        Assert.Equal(new long[] { 3, 6, 9, 12 }, history.Epochs.Select(e => e.Step));
        Assert.Equal(0.75, history.Epochs[0].Metrics["epochs"], 12);
    }

    /// <summary>Records the optimizer's learning rate after every step.</summary>
    private sealed class LearningRateRecorder : ICallback
    {
        public List<double> PerStep { get; } = new();

        public void OnBatchEnd(TrainingContext context) => PerStep.Add(context.Optimizer!.LearningRate);
    }

    [Fact]
    public void A_schedule_sets_the_learning_rate_each_step_and_plateau_scales_it()
    {
        // Given 40 rows in minibatches of 10 (4 steps per epoch) for 5 epochs, SGD from 0.064 halved every 0.75 epochs
        // (a step schedule whose steps fall inside epochs: every 3 optimizer steps), and reduce-on-plateau (×0.1,
        // patience 1) watching a validation metric scripted to stall after epochs 2, 4 and 5
        using var train = Data(40, 1, noise: false);
        using var val = Data(10, 2, noise: false);
        using var net = Net(1);
        double[] script = [3, 3, 2, 2, 2];
        int evaluations = 0;
        var plateau = new ReduceLearningRateOnPlateau("val_plateau", factor: 0.1, patience: 1, minDelta: 0);
        var recorder = new LearningRateRecorder();
        var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 0.064 }, net.parameters()),
            new TrainingSpec { Epochs = 5, BatchSize = 10, HistogramEvery = 0 })
        {
            Schedule = Schedules.Create(new ScheduleSpec(ScheduleKind.Step) { StepEvery = 0.75, Gamma = 0.5 }, 0.064),
            Callbacks = new List<ICallback> { plateau, recorder },
            ValidationMetrics = (_, _) => new Dictionary<string, double> { ["plateau"] = script[evaluations++] },
        };

        // When
        var history = trainer.Fit(train, val);

        // Then step b (0..3) of epoch n ran at schedule(n − 1 + b/4) = 0.064·0.5^floor((n − 1 + b/4)/0.75) times the
        // plateau factors of the epochs before it: 1 in epochs 1–2, 0.1 in 3–4 (cut after epoch 2), 0.01 in 5 (cut after 4)
        Assert.Equal(20, history.Steps);
        Assert.Equal(new[] { 2, 4, 5 }, plateau.Reductions);
        double[] expected =
        [
            0.064, 0.064, 0.064, 0.032, //     epoch 1: e = 0, 0.25, 0.5 | 0.75
            0.032, 0.032, 0.016, 0.016, //     epoch 2: e = 1, 1.25 | 1.5, 1.75
            0.0016, 0.0008, 0.0008, 0.0008, // epoch 3: e = 2 | 2.25, 2.5, 2.75; ×0.1
            0.0004, 0.0004, 0.0004, 0.0002, // epoch 4: e = 3, 3.25, 3.5 | 3.75; ×0.1
            0.00002, 0.00002, 0.00001, 0.00001, // epoch 5: e = 4, 4.25 | 4.5, 4.75; ×0.01
        ];
        Assert.Equal(expected.Length, recorder.PerStep.Count);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(recorder.PerStep[k] / expected[k] - 1) < 1e-12,
                $"step {k + 1} (epoch {k / 4 + 1}, batch {k % 4 + 1}): lr {recorder.PerStep[k]:R}, expected {expected[k]:R}; all steps: {string.Join(", ", recorder.PerStep.Select(v => v.ToString("G6")))}");
    }

    [Fact]
    public void Cancellation_stops_with_the_interrupted_reason()
    {
        using var train = Data(40, 1, noise: false);
        using var net = Net(1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var trainer = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters()), new TrainingSpec { Epochs = 50 });
        var history = trainer.Fit(train, null, cancel.Token);
        Assert.Equal(StopReason.Interrupted, history.StopReason);
        Assert.Equal(1, history.Steps);
    }

    [Fact]
    public void A_thousand_training_steps_leak_no_tensors()
    {
        // Given a warmed-up trainer (optimizer state allocated)
        using var train = Data(64, 1, noise: false);
        using var val = Data(16, 2, noise: false);
        using var net = Net(1, dropout: 0.1);
        var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters());
        new Trainer(net, optimizer, new TrainingSpec { Epochs = 1, BatchSize = 16 }).Fit(train, val);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        // When 250 epochs × 4 steps run
        var history = new Trainer(net, optimizer, new TrainingSpec { Epochs = 250, BatchSize = 16, HistogramEvery = 0 }).Fit(train, val);

        // Then
        Assert.Equal(1000, history.Steps);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"live tensors grew from {before} to {after} over 1000 steps");
    }

    private sealed class PlanRecorder : ITrainingLogger
    {
        public int Planned { get; private set; } = -1;
        public int Rows { get; private set; }
        public void Begin(int totalEpochs) => Planned = totalEpochs;
        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) => Rows++;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(2)]
    public void Loggers_are_told_how_many_evaluation_points_the_run_plans(int everySteps)
    {
        // Given 40 rows in batches of 16 (3 steps an epoch) for 5 epochs
        using var net = Net(1);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters());
        using var train = Data(40, 2, noise: false);
        var logger = new PlanRecorder();

        // When it trains with evaluations every epoch, or every k steps
        new Trainer(net, optimizer, new TrainingSpec { Epochs = 5, BatchSize = 16, ValidateEverySteps = everySteps }) { Loggers = [logger] }.Fit(train);

        // Then the plan given to loggers is the number of rows they receive
        int expected = everySteps == 0 ? 5 : 5 * 3 / everySteps;
        Assert.Equal(expected, logger.Planned);
        Assert.Equal(expected, logger.Rows);
    }
}
