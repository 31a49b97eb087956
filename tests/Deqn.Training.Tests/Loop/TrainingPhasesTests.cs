using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Supervised;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Loop;

/// <summary>Phases with their own optimizers run as one training run (a solve's Adam episodes, then its Levenberg–Marquardt polish).</summary>
public sealed class TrainingPhasesTests
{
    private static Dataset Data()
    {
        using var g = new Generator(3);
        var x = torch.rand(30, 2, dtype: ScalarType.Float64, generator: g);
        return new Dataset(x, x.sum(1, keepdim: true).sin());
    }

    private static Network Net() => new(NetworkSpec.Dense(2, new[] { 5 }, 1, Activation.Tanh) with { Precision = Precision.Float64 }, new Generator(4));

    private sealed class Log : ITrainingLogger, IPhasedWorkload
    {
        public List<int> Begun { get; } = new();
        public List<long> Steps { get; } = new();
        public List<string> Finished { get; } = new();
        public List<string> Entered { get; } = new();
        public void Begin(int totalEpochs) => Begun.Add(totalEpochs);
        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) => Steps.Add(step);
        public void Finish(string reason) => Finished.Add(reason);
        public void EnterPhase(int index, TrainingPhase phase) => Entered.Add(phase.Name);
    }

    private sealed class PhasedFit(SupervisedWorkload inner, Log log) : ILeastSquaresWorkload<Tensor>, IPhasedWorkload
    {
        public IReadOnlyList<(Tensor Batch, double Weight)> Batches(TrainingContext context) => inner.Batches(context);
        public Tensor Loss(Tensor batch) => inner.Loss(batch);
        public IReadOnlyList<Tensor> Columns => inner.Columns;
        public ILinearization Linearize(Tensor batch) => inner.Linearize(batch);
        public double LossAt(Tensor batch) => inner.LossAt(batch);
        public double LossPerSquare(Tensor batch) => inner.LossPerSquare(batch);
        public void EnterPhase(int index, TrainingPhase phase) => log.EnterPhase(index, phase);
    }

    private static (TrainingPhases Phases, Optimizer Adam, LevenbergMarquardt Lm) Build(Network net, Log log, ICallback? firstPhaseCallback = null)
    {
        var adam = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters());
        var lm = (LevenbergMarquardt)Optimizers.Create(new OptimizerSpec(OptimizerKind.Lm), net.parameters());
        var spec = new TrainingSpec { BatchSize = 0 };
        var phases = new TrainingPhases(net,
        [
            new TrainingPhase("adam", adam, spec with { Epochs = 3 }) { Callbacks = firstPhaseCallback is null ? [] : [firstPhaseCallback] },
            new TrainingPhase("lm", lm, spec with { Epochs = 2 }),
        ])
        { Loggers = [log] };
        return (phases, adam, lm);
    }

    [Fact]
    public void Phases_run_in_turn_as_one_run_with_one_count_and_one_logger_session()
    {
        // Given 3 epochs of Adam, then 2 of lm
        using var data = Data();
        using var net = Net();
        var log = new Log();
        var (phases, adam, lm) = Build(net, log);

        // When they run
        var run = phases.Run(new PhasedFit(new SupervisedWorkload(net, data, null, new TrainingSpec { BatchSize = 0 }), log));

        // Then the epochs count on over both, each optimizer took its phase's steps, and the loggers began and finished once
        Assert.Equal([1, 2, 3, 4, 5], run.History.Single.Epochs.Select(e => e.Epoch));
        Assert.Equal(1, run.Phase);
        Assert.Equal((3L, 2L), (adam.StepCount, lm.StepCount));
        Assert.Equal(["adam", "lm"], log.Entered);
        Assert.Equal([5], log.Begun);
        Assert.Single(log.Finished);
        Assert.Equal(5, run.History.LastEpoch);
        Assert.Equal([3, 5], phases.Ends);
    }

    [Fact]
    public void A_phase_that_stops_early_ends_the_run_there()
    {
        // Given a first phase that a target stops after its first epoch
        using var data = Data();
        using var net = Net();
        var log = new Log();
        var (phases, adam, lm) = Build(net, log, new StopAtTarget("loss", double.MaxValue));

        // When it runs
        var run = phases.Run(new PhasedFit(new SupervisedWorkload(net, data, null, new TrainingSpec { BatchSize = 0 }), log));

        // Then the second phase never started
        Assert.Equal(0, run.Phase);
        Assert.Equal(0, lm.StepCount);
        Assert.Equal(["adam"], log.Entered);
        Assert.Equal(StopReason.TargetReached, run.History.Single.StopReason);
        Assert.Single(log.Finished);
    }

    [Fact]
    public void A_resumed_run_starts_in_the_phase_its_epoch_falls_in()
    {
        // Given a run resumed after epoch 3, the end of the first phase
        using var data = Data();
        using var net = Net();
        var log = new Log();
        var (phases, adam, lm) = Build(net, log);

        // When it runs
        var run = phases.Run(new PhasedFit(new SupervisedWorkload(net, data, null, new TrainingSpec { BatchSize = 0 }), log), resume: new TrainingResume(3, 3, 0, []));

        // Then only the second phase ran, and the count continued from 4
        Assert.Equal(["lm"], log.Entered);
        Assert.Equal((0L, 2L), (adam.StepCount, lm.StepCount));
        Assert.Equal([4, 5], run.History.Single.Epochs.Select(e => e.Epoch));
        Assert.Equal(3, phases.PhaseOf(3) + 3);
        Assert.Equal(1, phases.PhaseOf(4));
    }
}
