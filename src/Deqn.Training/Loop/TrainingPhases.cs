using Deqn.Training.Callbacks;
using Deqn.Training.Logging;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Loop;

/// <summary>
/// One stretch of a run with its own optimizer: Adam's episodes, then Levenberg–Marquardt's polish rounds. Epochs count
/// on across phases; <see cref="Spec"/>'s <see cref="TrainingSpec.Epochs"/> is this phase's own number.
/// </summary>
public sealed record TrainingPhase(string Name, Optimizer Optimizer, TrainingSpec Spec)
{
    /// <summary>The phase's schedule (null: the optimizer's rate throughout).</summary>
    public ILearningRateSchedule? Schedule { get; init; }

    /// <summary>Callbacks of this phase only (e.g. a checkpoint writer holding this phase's optimizer).</summary>
    public IList<ICallback> Callbacks { get; init; } = new List<ICallback>();
}

/// <summary>A workload that behaves differently per phase (a solve's episodes simulate paths, its polish rounds draw a larger sample).</summary>
public interface IPhasedWorkload
{
    /// <summary>Before the first epoch of phase <paramref name="index"/> (also when a resumed run starts inside it).</summary>
    void EnterPhase(int index, TrainingPhase phase);
}

/// <summary>
/// Runs phases one after another as one run: one epoch count, clock and history, loggers begun once with every phase's
/// epochs and finished once. The next phase starts only when the one before ran all its epochs; a stop for any other
/// reason (time budget, Ctrl-C, a target, a non-finite loss) ends the run there. A resumed run starts in the phase
/// its epoch falls in, with that phase's optimizer (whose state the caller restored).
/// </summary>
public sealed class TrainingPhases(nn.Module model, IReadOnlyList<TrainingPhase> phases)
{
    public Distributed.IProcessGroup Group { get; init; } = Distributed.SingleProcess.Instance;

    /// <summary>Callbacks of every phase.</summary>
    public IList<ICallback> Callbacks { get; init; } = new List<ICallback>();

    public IList<ITrainingLogger> Loggers { get; init; } = new List<ITrainingLogger>();

    /// <summary>The last epoch of each phase, counted over the whole run.</summary>
    public int[] Ends
    {
        get
        {
            var ends = new int[phases.Count];
            int at = 0;
            for (int i = 0; i < phases.Count; i++) ends[i] = at += phases[i].Spec.Epochs;
            return ends;
        }
    }

    /// <summary>The phase an epoch (1-based, over the whole run) belongs to.</summary>
    public int PhaseOf(int epoch)
    {
        var ends = Ends;
        for (int i = 0; i < ends.Length; i++) if (epoch <= ends[i]) return i;
        return ends.Length - 1;
    }

    /// <summary>The run; <see cref="PhasedRun.Phase"/> says where it ended.</summary>
    public PhasedRun Run<TBatch>(IWorkload<TBatch> workload, CancellationToken cancel = default, TrainingResume? resume = null)
    {
        if (phases.Count == 0) throw new ArgumentException("a run needs at least one phase");
        var ends = Ends;
        var logger = new RunLogger(Loggers.Count == 1 ? Loggers[0] : new CompositeLogger(Loggers.ToArray()), ends[^1]);
        RunHistory? run = null;
        int first = resume is null ? 0 : PhaseOf(resume.Epoch + 1);
        int phase = first;
        for (; phase < phases.Count; phase++)
        {
            var p = phases[phase];
            if (workload is IPhasedWorkload phased) phased.EnterPhase(phase, p);
            var trainer = new Trainer(model, p.Optimizer, p.Spec with { Epochs = ends[phase] })
            {
                Group = Group,
                Schedule = p.Schedule,
                Callbacks = Callbacks.Concat(p.Callbacks).ToList(),
                Loggers = [logger],
            };
            var from = run is null ? resume : new TrainingResume(run.LastEpoch, run.Steps, run.Elapsed.TotalSeconds, run.Single.Epochs);
            run = trainer.Run(workload, cancel, from);
            if (run.Single.StopReason != StopReason.MaxEpochs || phase == phases.Count - 1) break;
        }
        logger.End(run!.Single.StopMessage);
        return new PhasedRun(run, Math.Min(phase, phases.Count - 1));
    }

    /// <summary>The run's loggers as the phases' trainers see them: begun once with the whole run's epochs, finished once by <see cref="End"/>.</summary>
    private sealed class RunLogger(ITrainingLogger inner, int totalEpochs) : ITrainingLogger
    {
        private bool _begun;

        public void Begin(int epochs)
        {
            if (_begun) return;
            _begun = true;
            inner.Begin(totalEpochs);
        }

        public void LogHyperparameters(IReadOnlyDictionary<string, string> hyperparameters) => inner.LogHyperparameters(hyperparameters);
        public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) => inner.LogScalars(step, scalars);
        public void LogHistogram(long step, string tag, ReadOnlySpan<double> values) => inner.LogHistogram(step, tag, values);
        public void Finish(string reason) { }
        public void End(string reason) => inner.Finish(reason);
    }
}

/// <summary>A phased run's history (epochs over all phases) and the phase it ended in.</summary>
public sealed record PhasedRun(RunHistory History, int Phase);
