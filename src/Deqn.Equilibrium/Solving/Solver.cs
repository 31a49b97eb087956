using System.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Engine;
using Deqn.Training.Logging;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

public enum SolveStop
{
    /// <summary>All planned episodes ran.</summary>
    MaxEpisodes,
    /// <summary>The loss or Euler-error target was reached.</summary>
    TargetReached,
    /// <summary>The wall-time budget ran out.</summary>
    TimeBudget,
    /// <summary>The caller cancelled (Ctrl-C); the checkpoint holds the last finished episode.</summary>
    Interrupted,
}

/// <summary>What a solve gives back: the trained policy, the logged history and why it stopped.</summary>
public sealed record SolveResult(PolicyNetwork Policy, IReadOnlyList<EpisodeRecord> History, SolveStop Stop, int Episodes, long Steps, double Seconds, string Quadrature);

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
    /// Extra measurements of the current policy at every logged episode (e.g. its error against a closed form), added to
    /// the episode's metrics; runs without gradients, outside the timed training.
    /// </summary>
    public Func<IPolicyFunction, IReadOnlyDictionary<string, double>>? Probe { get; init; }

    /// <summary>Stop when this metric (a residual statistic or a probe's value) is at or below the value at a logged episode.</summary>
    public (string Metric, double Value)? Target { get; init; }
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
        var networkSpec = PolicyNetwork.SpecFor(model, spec.Hidden, spec.WeightInitializer, spec.BiasInitializer, spec.Precision);
        Network network;
        using (var generator = TorchEngine.Generator(Seeds.Derive(spec.Seed, "weights")))
            network = new Network(networkSpec, generator, device);
        var policy = new PolicyNetwork(model, network);
        try
        {
            return Train(model, spec, options, policy, device);
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    private static SolveResult Train(Model model, SolverSpec spec, SolveOptions options, PolicyNetwork policy, Device device)
    {
        var dtype = policy.Network.DType;
        var parameters = policy.Network.parameters().ToArray();
        using var optimizer = Optimizers.Create(spec.Optimizer, parameters);
        optimizer.AfterBackward = () =>
        {
            if (spec.ClipValue is double v) GradientClipping.ByValue(parameters, v);
            if (spec.ClipNorm is double n) GradientClipping.ByGlobalNorm(parameters, n);
        };
        var schedule = Schedules.Create(spec.Schedule, optimizer.LearningRate);
        var sigmas = model.Shocks.Select(s => s.Sigma).ToArray();
        using var quadrature = new QuadratureTensors(spec.Quadrature.Build(sigmas, Seeds.Derive(spec.Seed, "quadrature")), dtype, device);
        var random = new StandardNormalStream(Seeds.Derive(spec.Seed, "simulation"));
        var parameterValues = model.Parameters.Select(p => p.Value).ToArray();

        int firstEpisode = 1;
        long steps = 0;
        double secondsBefore = 0;
        var history = new List<EpisodeRecord>();
        Tensor states;
        if (options.Resume is { } checkpoint)
        {
            if (checkpoint.Model != options.ModelName || !checkpoint.Parameters.SequenceEqual(parameterValues))
                throw new SolverException($"the checkpoint belongs to model '{checkpoint.Model}' with other parameters, not to '{options.ModelName}' as configured");
            if (checkpoint.StateRows != spec.Trajectories || checkpoint.States.Length != spec.Trajectories * model.States.Count)
                throw new SolverException($"the checkpoint simulates {checkpoint.StateRows} trajectories, this solve {spec.Trajectories}");
            try
            {
                using (var reader = new BinaryReader(new MemoryStream(checkpoint.Network))) policy.Network.load(reader);
                using (var s = new MemoryStream(checkpoint.Optimizer)) optimizer.LoadState(s);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException or System.Runtime.InteropServices.ExternalException)
            {
                throw new SolverException($"the checkpoint does not fit this network and optimizer ({e.Message.Split('\n')[0]})");
            }
            random.State = checkpoint.RandomState;
            states = torch.tensor(checkpoint.States, [spec.Trajectories, model.States.Count], dtype: ScalarType.Float64).to(dtype, device);
            firstEpisode = checkpoint.Episode + 1;
            steps = checkpoint.Steps;
            secondsBefore = checkpoint.Seconds;
            history.AddRange(checkpoint.History);
            foreach (var r in history) (options.HistoryReplay ?? options.Logger).LogScalars(r.Episode, Scalars(r));
        }
        else
        {
            states = DrawInitial(model, spec.Trajectories, random, dtype, device);
        }

        var clock = Stopwatch.StartNew();
        double Seconds() => secondsBefore + clock.Elapsed.TotalSeconds;
        var stop = SolveStop.MaxEpisodes;
        int episode = firstEpisode - 1;
        options.Logger.Begin(spec.Episodes);
        try
        {
            for (int e = firstEpisode; e <= spec.Episodes; e++)
            {
                if (options.Cancel.IsCancellationRequested) { stop = SolveStop.Interrupted; break; }
                optimizer.LearningRate = schedule.At(e - 1);
                double lossSum = 0;
                int lossCount = 0;
                using (var scope = torch.NewDisposeScope())
                {
                    Tensor visited, next;
                    using (torch.no_grad())
                    {
                        var start = spec.RedrawEachEpisode && e > 1 ? DrawInitial(model, spec.Trajectories, random, dtype, device) : states;
                        (visited, next) = Simulate(model, policy, start, spec, random, e);
                    }
                    int rows = (int)visited.shape[0];
                    int batch = spec.BatchSize == 0 ? rows : Math.Min(spec.BatchSize, rows);
                    for (int epoch = 0; epoch < spec.EpochsPerEpisode; epoch++)
                    {
                        using var order = torch.tensor(Permutation(rows, random), dtype: ScalarType.Int64, device: device);
                        for (int at = 0; at < rows; at += batch)
                        {
                            var rowsOf = order.narrow(0, at, Math.Min(batch, rows - at));
                            var x = visited.index_select(0, rowsOf);
                            double loss = optimizer.Step(() =>
                            {
                                var value = Evaluation.Evaluate(model, x, policy, quadrature).Loss();
                                value.backward();
                                return value.ToDouble();
                            });
                            steps++;
                            if (!double.IsFinite(loss)) throw NonFinite(model, policy, quadrature, x, e, options);
                            lossSum += loss;
                            lossCount++;
                        }
                    }
                    var carried = next.detach().MoveToOuterDisposeScope();
                    bool last = e == spec.Episodes;
                    if (e % spec.LogEvery == 0 || last || e == 1)
                    {
                        clock.Stop();
                        var record = Record(model, policy, quadrature, visited, e, steps, Seconds(), optimizer.LearningRate, lossSum / lossCount, options.Probe);
                        clock.Start();
                        history.Add(record);
                        options.Logger.LogScalars(e, Scalars(record));
                        if (spec.TargetLoss is double tl && record.Loss <= tl) stop = SolveStop.TargetReached;
                        if (spec.TargetEulerError is double te && record.Metrics["euler_mean"] <= te) stop = SolveStop.TargetReached;
                        if (options.Target is var (metric, value) && record.Metrics.TryGetValue(metric, out var current) && current <= value) stop = SolveStop.TargetReached;
                    }
                    if (spec.HistogramEvery > 0 && (e % spec.HistogramEvery == 0 || last)) LogHistograms(model, policy, visited, e, options.Logger);
                    // The old start states may be part of the visited states: replace them only when those are no longer read.
                    states.Dispose();
                    states = carried;
                }
                episode = e;
                if (stop == SolveStop.TargetReached) break;
                if (spec.MaxSeconds is double budget && Seconds() >= budget) { stop = SolveStop.TimeBudget; break; }
                if (options.CheckpointPath is not null && spec.CheckpointEvery > 0 && e % spec.CheckpointEvery == 0 && e < spec.Episodes)
                    Checkpoint(options, model, policy, optimizer, random, states, episode, steps, Seconds(), history);
            }
            if (history.Count == 0 || history[^1].Episode != episode)
            {
                // Stopped between log points (time budget, Ctrl-C): log where it ended.
                if (episode >= firstEpisode)
                {
                    using var scope = torch.NewDisposeScope();
                    var record = Record(model, policy, quadrature, states, episode, steps, Seconds(), optimizer.LearningRate, double.NaN, options.Probe);
                    history.Add(record);
                    options.Logger.LogScalars(episode, Scalars(record));
                }
            }
            if (options.CheckpointPath is not null)
                Checkpoint(options, model, policy, optimizer, random, states, episode, steps, Seconds(), history);
            options.Logger.Finish(stop switch
            {
                SolveStop.MaxEpisodes => $"all {spec.Episodes} episodes",
                SolveStop.TargetReached => $"target reached at episode {episode}",
                SolveStop.TimeBudget => $"time budget of {spec.MaxSeconds} s used at episode {episode}",
                _ => $"interrupted after episode {episode}",
            });
        }
        finally
        {
            states.Dispose();
        }
        return new SolveResult(policy, history, stop, episode, steps, Seconds(), quadrature.Rule.Rule);
    }

    // Training simulates with the one simulator diagnostics use; these names keep the loop's calls short.
    private static Tensor DrawInitial(Model model, int rows, StandardNormalStream random, ScalarType dtype, Device device) =>
        Simulator.DrawInitial(model, rows, random, dtype, device);

    private static Tensor? DrawShocks(Model model, int rows, StandardNormalStream random, ScalarType dtype, Device device) =>
        Simulator.DrawShocks(model, rows, random, dtype, device);

    /// <summary>The episode's visited states (periods 0 … length−1 of every trajectory) and the states after the last period.</summary>
    private static (Tensor Visited, Tensor Next) Simulate(Model model, IPolicyFunction policy, Tensor start, SolverSpec spec, StandardNormalStream random, int episode)
    {
        var periods = new Tensor[spec.EpisodeLength];
        var current = start;
        for (int t = 0; t < spec.EpisodeLength; t++)
        {
            periods[t] = current;
            if (t == spec.EpisodeLength - 1 && spec.RedrawEachEpisode) break;  // the end state is not used
            var innovations = DrawShocks(model, spec.Trajectories, random, current.dtype, current.device);
            current = Evaluation.Step(model, current, policy, innovations);
            if (!current.isfinite().all().item<bool>())
                throw new SolverException($"episode {episode}, period {t + 1}: the simulation left the feasible set ({DescribeNonFinite(model, current)}); lower the learning rate or add bounds");
        }
        var visited = periods.Length == 1 ? periods[0] : torch.cat(periods, 0);
        return (visited, current);
    }

    private static string DescribeNonFinite(Model model, Tensor states)
    {
        var bad = Enumerable.Range(0, model.States.Count).Where(j => !states.select(1, j).isfinite().all().item<bool>()).Select(j => model.States[j].Name);
        return "non-finite " + string.Join(", ", bad);
    }

    private static SolverException NonFinite(Model model, IPolicyFunction policy, QuadratureTensors quadrature, Tensor x, int episode, SolveOptions options)
    {
        string which;
        using (torch.no_grad())
        {
            var residuals = Evaluation.Evaluate(model, x, policy, quadrature);
            var names = residuals.Equations.Where(q => !q.Residual.isfinite().all().item<bool>()).Select(q => $"'{q.Name}'")
                .Concat(residuals.Penalties.Where(p => !p.Value.isfinite().item<bool>()).Select(p => $"penalty '{p.Key}'")).ToArray();
            which = names.Length > 0 ? $"in {string.Join(", ", names)}" : "in the loss";
        }
        string kept = options.CheckpointPath is not null && File.Exists(options.CheckpointPath) ? $"; the last good checkpoint is {options.CheckpointPath}" : "";
        return new SolverException($"episode {episode}: non-finite residual {which}; stopped{kept}. Try a smaller learning rate, --clip-norm, or bounds on the offending variables");
    }

    private static EpisodeRecord Record(Model model, IPolicyFunction policy, QuadratureTensors quadrature, Tensor states, int episode, long steps, double seconds, double lr, double loss,
        Func<IPolicyFunction, IReadOnlyDictionary<string, double>>? probe)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        using (torch.no_grad())
        {
            var residuals = Evaluation.Evaluate(model, states, policy, quadrature);
            double meanSum = 0, max = 0;
            foreach (var (name, residual) in residuals.Equations)
            {
                var abs = residual.abs();
                double mean = abs.mean().ToDouble();
                double top = abs.max().ToDouble();
                metrics[$"mse_{name}"] = residual.square().mean().ToDouble();
                metrics[$"mean_abs_{name}"] = mean;
                metrics[$"max_abs_{name}"] = top;
                meanSum += mean;
                max = Math.Max(max, top);
            }
            metrics["euler_mean"] = meanSum / residuals.Equations.Count;
            metrics["euler_max"] = max;
            foreach (var (name, penalty) in residuals.Penalties) metrics[$"penalty_{name}"] = penalty.ToDouble();
            if (double.IsNaN(loss)) loss = residuals.Loss().ToDouble();
            if (probe is not null)
                foreach (var (k, v) in probe(policy)) metrics[k] = v;
        }
        return new EpisodeRecord(episode, steps, seconds, lr, loss, metrics);
    }

    private static Dictionary<string, double> Scalars(EpisodeRecord r)
    {
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = r.Loss };
        foreach (var (k, v) in r.Metrics) scalars[k] = v;
        scalars["lr"] = r.LearningRate;
        scalars["steps"] = r.Steps;
        scalars["seconds"] = r.Seconds;
        return scalars;
    }

    private static void LogHistograms(Model model, IPolicyFunction policy, Tensor states, int episode, ITrainingLogger logger)
    {
        using var _ = torch.no_grad();
        var values = Tensors.ToArray(states);
        var policies = Tensors.ToArray(policy.Values(states));
        for (int j = 0; j < model.States.Count; j++) logger.LogHistogram(episode, $"states/{model.States[j].Name}", Column(values, j));
        for (int j = 0; j < model.Policies.Count; j++) logger.LogHistogram(episode, $"policies/{model.Policies[j].Name}", Column(policies, j));
    }

    private static double[] Column(double[,] m, int j) => Enumerable.Range(0, m.GetLength(0)).Select(i => m[i, j]).ToArray();

    /// <summary>Fisher–Yates from the solver's own stream, so shuffling is part of the checkpointed state.</summary>
    private static long[] Permutation(int n, StandardNormalStream random)
    {
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(random.Uniform() * (i + 1));
            if (j > i) j = i;
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private static void Checkpoint(SolveOptions options, Model model, PolicyNetwork policy, Optimizer optimizer, StandardNormalStream random, Tensor states,
        int episode, long steps, double seconds, List<EpisodeRecord> history)
    {
        using var network = new MemoryStream();
        using (var writer = new BinaryWriter(network, System.Text.Encoding.UTF8, leaveOpen: true)) policy.Network.save(writer);
        using var optimizerState = new MemoryStream();
        optimizer.SaveState(optimizerState);
        var flat = states.detach().to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        new SolverCheckpoint
        {
            Model = options.ModelName,
            Parameters = model.Parameters.Select(p => p.Value).ToArray(),
            Episode = episode,
            Steps = steps,
            Seconds = seconds,
            RandomState = random.State,
            StateRows = (int)states.shape[0],
            History = history.ToArray(),
            Network = network.ToArray(),
            Optimizer = optimizerState.ToArray(),
            States = flat,
        }.Save(options.CheckpointPath!);
    }
}
