using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Data;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// A DEQN episode as the engine's workload: simulate trajectories under the current policy without gradients, then
/// yield the visited states in shuffled minibatches (one pass per epoch of the episode); the loss is the mean squared
/// residual of the model's equations plus bound penalties. The next episode continues from where the trajectories
/// ended (or from fresh draws).
/// </summary>
/// <remarks>
/// All randomness — initial draws, shocks, shuffling — comes from one <see cref="StandardNormalStream"/>, consumed in
/// the same order on every run, so a checkpoint of its state with the simulated states resumes exactly. Epochs run
/// whole (an interruption waits for the episode's end) for the same reason.
/// </remarks>
internal sealed class EpisodeWorkload(Model model, SolverSpec spec, PolicyNetwork policy, QuadratureTensors quadrature, QuadratureTensors? redrawn,
    StandardNormalStream random, Tensor states)
    : IWorkload<Tensor>, IDisposable
{
    private readonly List<Tensor> _retired = new();
    private Tensor? _next;

    /// <summary>Where the trajectories stand: the start of the next episode (outside every dispose scope).</summary>
    public Tensor States { get; private set; } = states;

    /// <summary>The current episode's visited states while it runs (for evaluation and histograms); null between episodes.</summary>
    public Tensor? Visited { get; private set; }

    /// <summary>Where a non-finite loss was found: the episode and the equations or penalties that were not finite.</summary>
    public (int Episode, string Where)? NonFinite { get; private set; }

    public bool InterruptibleWithinEpoch => false;

    /// <summary>
    /// Set after the last episode: each epoch is then a polish round (<see cref="PolishSpec"/>) — a larger sample,
    /// simulated the way episodes are, and Levenberg–Marquardt steps on it instead of the optimizer's.
    /// </summary>
    public bool Polishing { get; set; }

    private LevenbergMarquardt? _polisher;
    private int? _rowsPerEconomy;

    public IReadOnlyList<(Tensor Batch, double Weight)> Batches(TrainingContext context)
    {
        foreach (var t in _retired) t.Dispose();
        _retired.Clear();
        int episode = context.Epoch;
        if (Polishing) return PolishRound(episode);
        using (no_grad())
        {
            var start = spec.RedrawEachEpisode && episode > 1 ? Simulator.DrawInitial(model, spec.Trajectories, random, States.dtype, States.device) : States;
            // Scaling by statistics starts from the initial draws, so the first simulation does not see unscaled inputs.
            if (policy is { ObservesStates: true, Statistics: null }) policy.Observe(start);
            (Visited, _next) = Simulate(start, episode);
            // Inputs scaled by the simulated states learn this episode's before its steps (checkpoints keep the statistics).
            if (policy.ObservesStates) policy.Observe(Visited);
        }
        int rows = (int)Visited.shape[0];
        int batch = spec.BatchSize == 0 ? rows : Math.Min(spec.BatchSize, rows);
        var batches = new List<(Tensor, double)>();
        for (int epoch = 0; epoch < spec.EpochsPerEpisode; epoch++)
        {
            var order = torch.tensor(MiniBatches.Permutation(rows, random.Uniform), dtype: ScalarType.Int64, device: Visited.device);
            for (int at = 0; at < rows; at += batch)
                batches.Add((order.narrow(0, at, Math.Min(batch, rows - at)), 1.0));
        }
        return batches;
    }

    /// <summary>
    /// A polish round's sample of about <see cref="PolishSpec.States"/> states: fresh draws simulated for the episode
    /// length when episodes redraw, else the trajectories continued for as many periods as it takes. One batch of all
    /// of them per Levenberg–Marquardt step; the damping starts afresh each round (so a resumed round is the same).
    /// </summary>
    private IReadOnlyList<(Tensor Batch, double Weight)> PolishRound(int episode)
    {
        var polish = spec.Polish;
        using (no_grad())
        {
            _rowsPerEconomy ??= Evaluation.Evaluate(model, States.narrow(0, 0, 1), policy, quadrature, spec.EquationWeights).LeastSquaresRows().Count;
            int economies = Math.Max(1, Math.Min(polish.States, polish.MaxRows / _rowsPerEconomy.Value));
            Tensor start;
            int length;
            if (spec.RedrawEachEpisode)
            {
                length = Math.Min(spec.EpisodeLength, economies);
                start = Simulator.DrawInitial(model, (economies + length - 1) / length, random, States.dtype, States.device);
            }
            else
            {
                length = (economies + spec.Trajectories - 1) / spec.Trajectories;
                start = States;
            }
            (Visited, _next) = Simulate(start, episode, length);
            if (Visited.shape[0] * _rowsPerEconomy.Value > polish.MaxRows) Visited = Visited.narrow(0, 0, economies);
        }
        _polisher = new LevenbergMarquardt(ResidualJacobian.Parameters(policy));
        var all = torch.arange(Visited.shape[0], dtype: ScalarType.Int64, device: Visited.device);
        return Enumerable.Repeat((all, 1.0), polish.Steps).ToArray();
    }

    /// <summary>A Levenberg–Marquardt step on the whole polish sample; null outside the polish (the optimizer steps).</summary>
    public double[]? TakeStep(Tensor rows, TrainingContext context)
    {
        if (!Polishing) return null;
        var (r, jacobian, residuals) = ResidualJacobian.At(model, Visited!, policy, quadrature, spec.EquationWeights);
        double loss = residuals.Loss().ToDouble();
        if (!double.IsFinite(loss)) return [loss];
        _polisher!.Step(r, jacobian, loss, () =>
        {
            using var scope = NewDisposeScope();
            return Evaluation.Evaluate(model, Visited!, policy, quadrature, spec.EquationWeights).Loss().ToDouble();
        });
        return [loss];
    }

    public Tensor Loss(Tensor rows)
    {
        if (redrawn is null) return Evaluation.Evaluate(model, Visited!.index_select(0, rows), policy, quadrature, spec.EquationWeights).Loss();
        redrawn.Redraw(random, model.ShockCholesky, spec.Quadrature.AntitheticPairs);
        return Evaluation.Evaluate(model, Visited!.index_select(0, rows), policy, redrawn, spec.EquationWeights).Loss();
    }

    public void EndEpoch(TrainingContext context)
    {
        // The old start states may be part of the visited states, which this epoch's scope still reads: retire them
        // until the next episode begins.
        var carried = _next!.detach().MoveToOuterDisposeScope();
        _retired.Add(States);
        States = carried;
        Visited = null;
        _next = null;
    }

    /// <summary>Residual statistics per equation and penalty on the episode's states (after its steps), then lr, steps and seconds.</summary>
    public void Evaluate(TrainingContext context, IReadOnlyList<Dictionary<string, double>?> metrics)
    {
        if (metrics[0] is not { } m) return;
        var stats = new Dictionary<string, double>(StringComparer.Ordinal);
        double loss = m["loss"], lr = m["lr"];
        using (no_grad())
        using (NewDisposeScope())
        {
            var residuals = Evaluation.Evaluate(model, Visited ?? States, policy, quadrature, spec.EquationWeights);
            double meanSum = 0, max = 0;
            int count = 0;
            var blocks = new Dictionary<string, (double Sum, double Max, int Count)>(StringComparer.Ordinal);
            foreach (var (name, block, residual) in residuals.Elements())
            {
                var abs = residual.abs();
                double mean = abs.mean().ToDouble();
                double top = abs.max().ToDouble();
                stats[$"mse_{name}"] = residual.square().mean().ToDouble();
                stats[$"mean_abs_{name}"] = mean;
                stats[$"max_abs_{name}"] = top;
                meanSum += mean;
                max = Math.Max(max, top);
                count++;
                var b = blocks.GetValueOrDefault(block);
                blocks[block] = (b.Sum + mean, Math.Max(b.Max, top), b.Count + 1);
            }
            // A vector equation's summary: the mean over its elements of their mean |residual|, and the largest |residual|.
            foreach (var (block, b) in blocks)
                if (!stats.ContainsKey($"mean_abs_{block}"))
                {
                    stats[$"mean_abs_{block}"] = b.Sum / b.Count;
                    stats[$"max_abs_{block}"] = b.Max;
                }
            stats["euler_mean"] = meanSum / count;
            stats["euler_max"] = max;
            if (spec.TargetEulerError is not null) stats[ResidualTargetMetric] = WatchedResidual(stats, blocks.Keys);
            foreach (var (name, penalty) in residuals.Penalties) stats[$"penalty_{name}"] = penalty.ToDouble();
            // Stopped between evaluation points with no step since the last one: the loss at the states where it ended.
            if (double.IsNaN(loss)) loss = residuals.Loss().ToDouble();
        }
        // history.csv's columns: loss, the residual statistics, then lr, steps and seconds.
        m.Clear();
        m["loss"] = loss;
        foreach (var (k, v) in stats) m[k] = v;
        m["lr"] = lr;
        m["steps"] = context.Step;
        m["seconds"] = context.Seconds;
    }

    /// <summary>The metric <c>--target-euler</c> stops on: the largest mean |residual| among the equations it watches.</summary>
    public const string ResidualTargetMetric = "target_residual";

    private double WatchedResidual(Dictionary<string, double> stats, IEnumerable<string> blocks)
    {
        var watched = spec.TargetEquations.Count > 0 ? spec.TargetEquations : blocks.ToArray();
        double worst = 0;
        foreach (var name in watched)
        {
            if (!stats.TryGetValue($"mean_abs_{name}", out var value))
                throw new SolverException($"--target-equations names '{name}', which {model.Title} does not return (its equations: {string.Join(", ", blocks)})");
            worst = Math.Max(worst, value);
        }
        return worst;
    }

    public string DescribeNonFiniteLoss(Tensor rows, int member)
    {
        using (no_grad())
        using (NewDisposeScope())
        {
            var residuals = Evaluation.Evaluate(model, Visited!.index_select(0, rows), policy, quadrature, spec.EquationWeights);
            var names = NonFiniteEquations(residuals)
                .Concat(residuals.Penalties.Where(p => !p.Value.isfinite().item<bool>()).Select(p => $"penalty '{p.Key}'")).ToArray();
            string where = names.Length > 0 ? $"in {string.Join(", ", names)}" : "in the loss";
            NonFinite ??= (CurrentEpisode, where);
            return where;
        }
    }

    private int CurrentEpisode { get; set; }

    // A vector equation whose every element failed is named once ("'euler' (all 55 elements)"); a few elements by name.
    private static IEnumerable<string> NonFiniteEquations(Residuals residuals)
    {
        foreach (var (name, residual) in residuals.Equations)
        {
            if (residual.dim() == 1)
            {
                if (!residual.isfinite().all().item<bool>()) yield return $"'{name}'";
                continue;
            }
            var bad = Enumerable.Range(0, (int)residual.shape[0]).Where(e => !residual[e].isfinite().all().item<bool>()).ToArray();
            if (bad.Length == residual.shape[0]) yield return $"'{name}' (all {bad.Length} elements)";
            else if (bad.Length > 0)
                yield return string.Join(", ", bad.Take(5).Select(e => $"'{name}[{e + 1}]'")) + (bad.Length > 5 ? $" and {bad.Length - 5} more" : "");
        }
    }

    public void Dispose()
    {
        foreach (var t in _retired) t.Dispose();
        _retired.Clear();
        States.Dispose();
    }

    /// <summary>The episode's visited states (periods 0 … length−1 of every trajectory) and the states after the last period.</summary>
    private (Tensor Visited, Tensor Next) Simulate(Tensor start, int episode) => Simulate(start, episode, spec.EpisodeLength);

    private (Tensor Visited, Tensor Next) Simulate(Tensor start, int episode, int length)
    {
        CurrentEpisode = episode;
        var periods = new Tensor[length];
        var current = start;
        for (int t = 0; t < length; t++)
        {
            periods[t] = current;
            if (t == length - 1 && spec.RedrawEachEpisode) break;  // the end state is not used
            current = Simulator.Step(model, current, policy, random);
            if (!current.isfinite().all().item<bool>())
                throw new SolverException($"episode {episode}, period {t + 1}: the simulation left the feasible set ({DescribeNonFiniteStates(current)}); lower the learning rate or add bounds");
        }
        var visited = periods.Length == 1 ? periods[0] : torch.cat(periods, 0);
        return (visited, current);
    }

    private string DescribeNonFiniteStates(Tensor states)
    {
        var columns = model.StateColumns;
        var bad = Enumerable.Range(0, columns.Count).Where(j => !states.select(1, j).isfinite().all().item<bool>()).Select(j => columns[j].Name);
        return "non-finite " + string.Join(", ", bad);
    }
}
