using System.Diagnostics;
using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Callbacks;
using Deqn.Training.Distributed;
using Deqn.Training.Engine;
using Deqn.Training.Loop;
using Deqn.Training.Logging;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// What a solve gives back: the trained policy, the logged history (one row per logged episode: loss, residual
/// statistics, lr, steps, seconds and any probe's values) and why it stopped.
/// </summary>
public sealed record SolveResult(PolicyNetwork Policy, IReadOnlyList<EpochRecord> History, StopReason Stop, string StopMessage, int Episodes, long Steps, double Seconds, string Quadrature)
{
    /// <summary>The most recent states trained on (up to 20,000 rows of [StateWidth]; since the resume for a resumed solve).</summary>
    public double[,] TrainingStates { get; init; } = new double[0, 0];

    /// <summary>Polish rounds planned and run: fewer run than planned when a time budget, Ctrl-C or a target stopped the solve first.</summary>
    public (int Planned, int Run) PolishRounds { get; init; }

    /// <summary>Where the network started, in words (null: its random weights, or a resumed solve).</summary>
    public string? WarmStart { get; init; }

    /// <summary>
    /// The first episode that found the continuing paths collapsed to a point, from which on three quarters of the
    /// trajectories restarted from fresh draws and polish rounds sampled fresh draws (null: never, or episodes redraw).
    /// </summary>
    public int? CollapsedAt { get; init; }

    /// <summary>
    /// The polish round after which the polish stopped because the network's slopes at the steady state had left the
    /// first-order solution's by more than <see cref="PolishSpec.SlopeLimit"/>, and that gap (the weights are those
    /// before the round); null: it ran as planned.
    /// </summary>
    public PolishHalt? PolishHalted { get; init; }

    /// <summary>Polish rounds the slope guard checked, and the one it undid: evidence for the verdict.</summary>
    public PolishGuard Guard => new(GuardedRounds, PolishHalted);

    public int GuardedRounds { get; init; }

    /// <summary>
    /// The polish's Levenberg–Marquardt steps taken, trial steps rejected and conjugate-gradient iterations (0 when every
    /// system was solved by Cholesky), and how the last one was solved (cholesky-rows, cholesky-normal, cg); null without a polish.
    /// </summary>
    public (long Taken, long Rejected, long Iterations, string? Solver)? PolishSteps { get; init; }

    /// <summary>Continuing trajectories restarted from fresh draws because they had left the initial range widened by its width on each side.</summary>
    public long Strays { get; init; }
}

/// <summary>Where a solve writes and how it is steered from outside.</summary>
public sealed record SolveOptions
{
    /// <summary>Receives per-episode scalars (loss, lr, per-equation residuals, penalties) and histograms.</summary>
    public ITrainingLogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Where checkpoints are written (atomically); null: none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>A checkpoint to continue from exactly.</summary>
    public SolverCheckpoint? Resume { get; init; }

    /// <summary>
    /// Where a resumed solve replays the checkpoint's history before continuing (a CSV file that is rewritten); null:
    /// <see cref="Logger"/>. Loggers that kept their earlier records (TensorBoard's event files) should not get them twice.
    /// </summary>
    public ITrainingLogger? HistoryReplay { get; init; }

    /// <summary>A name that identifies the model in checkpoints (the catalog name).</summary>
    public string ModelName { get; init; } = "";

    public CancellationToken Cancel { get; init; }

    /// <summary>
    /// The processes of a data-parallel solve (<see cref="Deqn.Training.Distributed.OpenMpi.World"/> under mpirun):
    /// process k simulates rank k's trajectories, gradients are averaged over all, and every process must be given the
    /// same spec. Only process 0 writes checkpoints (give the others no <see cref="CheckpointPath"/>) and should log.
    /// </summary>
    public IProcessGroup Group { get; init; } = SingleProcess.Instance;

    /// <summary>
    /// Extra measurements of the current policy at every logged episode (e.g. its error against a closed form), added to
    /// the episode's metrics; runs without gradients, outside the timed training.
    /// </summary>
    public Func<IPolicyFunction, IReadOnlyDictionary<string, double>>? Probe { get; init; }

    /// <summary>Stop when this metric (a residual statistic or a probe's value) is at or below the value at a logged episode.</summary>
    public (string Metric, double Value)? Target { get; init; }

    /// <summary>
    /// Callbacks of your own (early stopping, reduce-on-plateau, anything with the engine's hooks), run after the
    /// probe and targets at every logged episode.
    /// </summary>
    public IReadOnlyList<ICallback> Callbacks { get; init; } = [];

    /// <summary>The model's first-order solution, when the caller has it already (the warm start computes it otherwise).</summary>
    public Perturbation.LinearSolution? Linear { get; init; }
}

/// <summary>
/// Deep Equilibrium Nets: trains a network until the model's equilibrium conditions hold on the states the economy
/// visits. Each episode simulates trajectories under the current policy (no gradients), gathers the visited states and
/// takes epochs of shuffled minibatch steps on the mean squared residuals plus penalties; the next episode continues
/// from the last simulated states (or redraws them).
/// </summary>
/// <remarks>
/// All randomness (initial states, shocks, shuffling) comes from one seeded stream whose state is checkpointed with the
/// network, optimizer and simulated states, so a resumed solve ends exactly where an uninterrupted one does. Each
/// episode runs in its own dispose scope.
/// </remarks>
public static class Solver
{
    /// <summary>Solves <paramref name="model"/> with the settings it recommends (<see cref="SolverSpec.For"/>), as <c>deqn solve</c> does.</summary>
    public static SolveResult Run(Model model, SolveOptions? options = null) => Run(model, SolverSpec.For(model), options);

    public static SolveResult Run(Model model, SolverSpec spec, SolveOptions? options = null)
    {
        options ??= new SolveOptions();
        spec.Validate();
        model.Validate();
        var device = TorchEngine.Device(spec.Device);
        var networkSpec = PolicyNetwork.SpecFor(model, spec.Network);
        Network network;
        using (var generator = TorchEngine.Generator(Seeds.Derive(spec.Seed, "weights")))
            network = new Network(networkSpec, generator, device);
        var policy = new PolicyNetwork(model, network, spec.InputScaling);
        try
        {
            bool fresh = options.Resume is null;
            var linear = spec.WarmStart != WarmStartKind.None || spec.SlopeAnchor > 0 ? options.Linear ?? Perturbation.LinearSolution.Of(model) : null;
            // A resumed solve has its weights in the checkpoint; a fresh one starts on the saddle path.
            string? warm = spec.WarmStart switch
            {
                WarmStartKind.Linear when fresh => WarmStart.Fit(model, policy, linear!, spec.Seed),
                WarmStartKind.Correction => WarmStart.Correct(model, policy, linear!, fresh),
                _ => null,
            };
            using var anchor = linear is null ? null : SlopeAnchor.For(model, linear, spec.SlopeAnchor);
            return Train(model, spec, options, policy, device, anchor) with { WarmStart = warm };
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    /// <summary>Loss weights and --target-equations name equations the model returns (checked on one state before training).</summary>
    private static void CheckEquationNames(Model model, SolverSpec spec, IPolicyFunction policy, QuadratureTensors quadrature, Tensor states)
    {
        if (spec.EquationWeights.Count == 0 && model.EquationWeights.Count == 0 && spec.TargetEquations.Count == 0) return;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Residuals residuals;
        try { residuals = Evaluation.Evaluate(model, states.narrow(0, 0, 1), policy, quadrature, spec.EquationWeights); }
        catch (InvalidOperationException e) when (e.Message.Contains("loss weight", StringComparison.Ordinal)) { throw new ArgumentException(e.Message); }
        var known = residuals.Equations.Select(q => q.Name).Concat(residuals.Elements().Select(q => q.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in spec.TargetEquations)
            if (!known.Contains(name))
                throw new ArgumentException($"--target-equations names '{name}', which {model.Title} does not return (its equations: {string.Join(", ", residuals.Equations.Select(q => q.Name))})");
    }

    private static SolveResult Train(Model model, SolverSpec spec, SolveOptions options, PolicyNetwork policy, Device device, SlopeAnchor? anchor)
    {
        var dtype = policy.Network.DType;
        var built = spec.Optimization.Build(policy.Network.parameters());
        using var optimizer = built.Optimizer;
        var schedule = built.Schedule;
        // The polish is a phase of its own with Levenberg–Marquardt as its optimizer.
        using var polisher = spec.Polish.Rounds > 0 ? Optimizers.Create(new OptimizerSpec(OptimizerKind.Lm), policy.Network.parameters()) : null;
        var rule = spec.Quadrature.Build(model.ShockCholesky, Seeds.Derive(spec.Seed, "quadrature"));
        using var quadrature = new QuadratureTensors(rule, model.ChainStates, dtype, device);
        var group = options.Group;
        if (group.Size > 1 && spec.Ranks != group.Size)
            throw new ArgumentException($"the solve is set for {spec.Ranks} rank(s) but runs on {group.Size} MPI processes; set ranks to {group.Size} or leave it out");
        var mine = group.Size > 1 ? [group.Rank] : Enumerable.Range(0, spec.Ranks).ToArray();
        // Monte Carlo nodes are redrawn for every step (from each rank's stream, so resume stays exact); evaluations keep the fixed draw.
        bool redraws = spec.Quadrature.Kind == QuadratureKind.PseudoRandom && model.Shocks.Count > 0;
        var randoms = mine.Select(k => new StandardNormalStream(RankTrajectories.SimulationSeed(spec.Seed, k))).ToArray();
        var parameterValues = model.Parameters.Select(p => p.Value).ToArray();

        TrainingResume? resume = null;
        Tensor[] states;
        if (options.Resume is { } checkpoint)
        {
            if (checkpoint.Model != options.ModelName || !checkpoint.Parameters.SequenceEqual(parameterValues))
                throw new SolverException($"the checkpoint belongs to model '{checkpoint.Model}' with other parameters, not to '{options.ModelName}' as configured");
            if (checkpoint.Ranks != spec.Ranks)
                throw new SolverException($"the checkpoint was written by a solve of {checkpoint.Ranks} rank(s), this one has {spec.Ranks}; resume with the same number");
            if (checkpoint.StateRows != spec.Trajectories || checkpoint.States.Length != spec.Ranks * spec.Trajectories * model.StateWidth)
                throw new SolverException($"the checkpoint simulates {checkpoint.StateRows} trajectories, this solve {spec.Trajectories}");
            try
            {
                using (var reader = new BinaryReader(new MemoryStream(checkpoint.Network))) policy.Network.load(reader);
                // A checkpoint of the polish holds the polish's optimizer (one written before the polish had its own, the episodes').
                var saved = polisher is not null && Optimizer.SavedKind(checkpoint.Optimizer) == OptimizerKind.Lm ? polisher : optimizer;
                using (var s = new MemoryStream(checkpoint.Optimizer)) saved.LoadState(s);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException or System.Runtime.InteropServices.ExternalException)
            {
                throw new SolverException($"the checkpoint does not fit this network and optimizer ({e.Message.Split('\n')[0]})");
            }
            var streams = checkpoint.RandomStates ?? [checkpoint.RandomState];
            int block = spec.Trajectories * model.StateWidth;
            for (int i = 0; i < mine.Length; i++) randoms[i].State = streams[mine[i]];
            if (checkpoint.InputStatistics is { } statistics) policy.Restore(statistics);
            states = mine.Select(k => torch.tensor(checkpoint.States.AsSpan(k * block, block).ToArray(), [spec.Trajectories, model.StateWidth], dtype: ScalarType.Float64)
                .to(dtype, device).DetachFromDisposeScope()).ToArray();
            resume = new TrainingResume(checkpoint.Episode, checkpoint.Steps, checkpoint.Seconds, checkpoint.History);
            foreach (var r in checkpoint.History) (options.HistoryReplay ?? options.Logger).LogScalars(r.Epoch, r.Metrics);
        }
        else
        {
            states = randoms.Select(random => Simulator.DrawInitial(model, spec.Trajectories, random, dtype, device).DetachFromDisposeScope()).ToArray();
        }

        CheckEquationNames(model, spec, policy, quadrature, states[0]);
        using var workload = new EpisodeWorkload(model, spec, policy, quadrature,
            mine.Select((k, i) => new RankTrajectories(k, randoms[i], states[i], redraws ? new QuadratureTensors(rule, model.ChainStates, dtype, device) : null)).ToArray(), group, anchor);
        List<ICallback> Callbacks(int checkpointEvery, Optimizer phaseOptimizer)
        {
            var callbacks = new List<ICallback>();
            if (options.Probe is { } probe) callbacks.Add(new MetricProbe(_ => probe(policy)));
            if (spec.TargetLoss is double targetLoss) callbacks.Add(new StopAtTarget("loss", targetLoss));
            if (spec.TargetEulerError is double targetEuler) callbacks.Add(new StopAtTarget(EpisodeWorkload.ResidualTargetMetric, targetEuler));
            if (options.Target is var (metric, value)) callbacks.Add(new StopAtTarget(metric, value));
            callbacks.AddRange(options.Callbacks);
            if (spec.HistogramEvery > 0) callbacks.Add(new StateHistograms(model, policy, workload, spec.HistogramEvery));
            // Every process gathers a checkpoint's states; process 0 writes it.
            if (options.CheckpointPath is not null || group.Size > 1)
                callbacks.Add(new SolverCheckpointing(group.Rank == 0 ? options.CheckpointPath : null, checkpointEvery, options.ModelName, model, policy, phaseOptimizer, workload));
            return callbacks;
        }
        TrainingSpec Phase(int epochs, int evaluateEvery) => spec.Optimization.Clipping(new TrainingSpec
        {
            Epochs = epochs,
            Unit = "episode",
            EvaluateEvery = evaluateEvery,
            SchedulePerStep = false,
            ClockExcludesEvaluation = true,
            MaxSeconds = spec.MaxSeconds,
            HistogramEvery = 0,
            LogGradientNorms = false,
        });

        // Two phases, one run: Adam's episodes, then the polish rounds, each a Levenberg–Marquardt fit of a fresh sample
        // (a checkpoint after every round); the rounds continue the episodes' count, clock and history.
        var phases = new List<TrainingPhase>
        {
            new("episodes", optimizer, Phase(spec.Episodes, spec.LogEvery)) { Schedule = schedule, Callbacks = Callbacks(spec.CheckpointEvery, optimizer) },
        };
        if (polisher is not null)
            phases.Add(new TrainingPhase("polish", polisher, Phase(spec.Polish.Rounds, 1))
            {
                Schedule = Schedules.Create(new ScheduleSpec(ScheduleKind.Constant), 0),
                Callbacks = Callbacks(1, polisher),
            });
        var phased = new TrainingPhases(policy.Network, phases) { Group = group, Loggers = [options.Logger] }.Run(workload, options.Cancel, resume);
        var run = phased.History;
        var result = run.Single;
        // An interrupted polish resumes later; any other end of it is the polish's end.
        if (phased.Phase == 1 && result.StopReason != StopReason.Interrupted) workload.EndPolish();
        if (result.StopReason == StopReason.NonFiniteLoss)
        {
            string where = workload.NonFinite is var (episode, what) ? $"episode {episode}: non-finite residual {what}" : result.StopMessage;
            string kept = options.CheckpointPath is not null && File.Exists(options.CheckpointPath) ? $"; the last good checkpoint is {options.CheckpointPath}" : "";
            throw new SolverException($"{where}; stopped{kept}. Try a smaller learning rate, --clip-norm, or bounds on the offending variables");
        }
        return new SolveResult(policy, result.Epochs, result.StopReason, result.StopMessage, run.LastEpoch, run.Steps, run.Elapsed.TotalSeconds, quadrature.Description + (redraws ? ", redrawn every step" : ""))
        {
            TrainingStates = workload.TrainingSample(),
            CollapsedAt = workload.CollapsedAt,
            PolishHalted = workload.PolishHalted,
            GuardedRounds = workload.GuardedRounds,
            PolishSteps = polisher is LevenbergMarquardt { Counts: var (taken, rejected, iterations) } lm ? (taken, rejected, iterations, lm.LastSolver) : null,
            Strays = workload.Strays,
            PolishRounds = (spec.Polish.Rounds, Math.Clamp(run.LastEpoch - spec.Episodes, 0, spec.Polish.Rounds)),
        };
    }
}
