using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Data;
using Deqn.Training.Distributed;
using Deqn.Training.Engine;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// One rank's share of the simulation: its own random stream, where its trajectories stand, the states its current
/// episode visited, and its own Monte Carlo nodes (redrawn from its stream). A solve on one process has one rank.
/// </summary>
internal sealed class RankTrajectories(int rank, StandardNormalStream random, Tensor states, QuadratureTensors? redrawn) : IDisposable
{
    public int Rank => rank;
    public StandardNormalStream Random => random;
    public QuadratureTensors? Redrawn => redrawn;

    /// <summary>Where the trajectories stand: the start of the next episode (outside every dispose scope).</summary>
    public Tensor States { get; set; } = states;

    public Tensor? Visited { get; set; }
    public Tensor? Next { get; set; }
    public List<Tensor> Retired { get; } = new();

    /// <summary>The seed of rank k's stream; rank 0's is a one-process solve's, so that solve is unchanged.</summary>
    public static long SimulationSeed(long seed, int rank) => Seeds.Derive(seed, rank == 0 ? "simulation" : $"simulation/rank{rank}");

    public void Dispose()
    {
        foreach (var t in Retired) t.Dispose();
        Retired.Clear();
        States.Dispose();
        redrawn?.Dispose();
    }
}

/// <summary>
/// A DEQN episode as the engine's workload: simulate trajectories under the current policy without gradients, then
/// yield the visited states in shuffled minibatches (one pass per epoch of the episode); the loss is the mean squared
/// residual of the model's equations plus bound penalties. The next episode continues from where the trajectories
/// ended (or from fresh draws).
/// </summary>
/// <remarks>
/// <para>
/// All randomness — initial draws, shocks, shuffling — comes from one <see cref="StandardNormalStream"/> per rank,
/// consumed in the same order on every run, so a checkpoint of its state with the simulated states resumes exactly.
/// Epochs run whole (an interruption waits for the episode's end) for the same reason.
/// </para>
/// <para>
/// Data parallel: each rank simulates its own trajectories and a step's loss is the mean of the ranks' losses. The
/// ranks of this process are <paramref name="ranks"/> (all of them in a one-process run of several ranks; its own one
/// under MPI, where the engine averages the gradients over <paramref name="group"/>). Statistics and input scaling see
/// every rank's states, and a polish step solves one least-squares problem over every rank's sample, so each process
/// takes the same steps as one process with all the ranks.
/// </para>
/// </remarks>
internal sealed class EpisodeWorkload(Model model, SolverSpec spec, PolicyNetwork policy, QuadratureTensors quadrature,
    IReadOnlyList<RankTrajectories> ranks, IProcessGroup group, SlopeAnchor? anchor = null)
    : ILeastSquaresWorkload<Tensor[]>, IGathersLeastSquares, IPhasedWorkload, IDisposable
{
    /// <summary>The ranks this process simulates, in rank order.</summary>
    public IReadOnlyList<RankTrajectories> Ranks => ranks;

    /// <summary>The current episode's visited states of this process's first rank while it runs (for histograms); else where it stands.</summary>
    public Tensor States => ranks[0].Visited ?? ranks[0].States;

    /// <summary>Where a non-finite loss was found: the episode and the equations or penalties that were not finite.</summary>
    public (int Episode, string Where)? NonFinite { get; private set; }

    public bool InterruptibleWithinEpoch => false;

    /// <summary>
    /// In the polish phase (after the last episode) each epoch is a polish round (<see cref="PolishSpec"/>): a larger
    /// sample, simulated the way episodes are, and the phase's Levenberg–Marquardt steps on all of it.
    /// </summary>
    public bool Polishing { get; private set; }

    private LevenbergMarquardt? _lm;

    /// <summary>Phase 0 is the episodes, any later one the polish.</summary>
    public void EnterPhase(int index, TrainingPhase phase)
    {
        Polishing = index > 0;
        _lm = phase.Optimizer as LevenbergMarquardt;
    }
    private int? _rowsPerEconomy;

    /// <summary>Least-squares rows one economy gives (its equation elements), read once from one state.</summary>
    private int RowsPerEconomy
    {
        get
        {
            if (_rowsPerEconomy is int known) return known;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return (_rowsPerEconomy = Evaluation.Evaluate(model, ranks[0].States.narrow(0, 0, 1), policy, quadrature, spec.EquationWeights).LeastSquaresRows().Count).Value;
        }
    }

    /// <summary>The polish sample's loss as a step began (<see cref="TakeStep"/>), handed to the engine's first <see cref="LossAt"/> so it is not computed twice.</summary>
    private double? _stepStartLoss;

    /// <summary>Ranks over all processes.</summary>
    private int TotalRanks => ranks.Count * group.Size;

    public IReadOnlyList<(Tensor[] Batch, double Weight)> Batches(TrainingContext context)
    {
        foreach (var rank in ranks)
        {
            foreach (var t in rank.Retired) t.Dispose();
            rank.Retired.Clear();
        }
        int episode = context.Epoch;
        if (Polishing) return PolishRound(episode);
        using (no_grad())
        {
            var starts = ranks.Select(rank => Start(rank, episode)).ToArray();
            // Scaling by statistics starts from the initial draws, so the first simulation does not see unscaled inputs.
            if (policy is { ObservesStates: true, Statistics: null }) policy.Observe(Everyone(starts));
            for (int k = 0; k < ranks.Count; k++) (ranks[k].Visited, ranks[k].Next) = Simulate(ranks[k], starts[k], episode, spec.EpisodeLength);
            // Inputs scaled by the simulated states learn this episode's before its steps (checkpoints keep the statistics).
            if (policy.ObservesStates) policy.Observe(Everyone(ranks.Select(r => r.Visited!).ToArray()));
        }
        int rows = (int)ranks[0].Visited!.shape[0];
        int batch = spec.BatchSize == 0 ? rows : Math.Min(spec.BatchSize, rows);
        var batches = new List<(Tensor[], double)>();
        for (int epoch = 0; epoch < spec.EpochsPerEpisode; epoch++)
        {
            var orders = ranks.Select(rank => torch.tensor(MiniBatches.Permutation(rows, rank.Random.Uniform), dtype: ScalarType.Int64, device: rank.Visited!.device)).ToArray();
            for (int at = 0; at < rows; at += batch)
            {
                int size = Math.Min(batch, rows - at);
                batches.Add((orders.Select(o => o.narrow(0, at, size)).ToArray(), 1.0));
            }
        }
        return batches;
    }

    /// <summary>
    /// Where a rank's trajectories start an episode: fresh draws of the initial distributions when episodes redraw;
    /// otherwise where they ended, except the first <see cref="SolverSpec.Refresh"/> share of them, which restart from
    /// fresh draws (so training keeps seeing the initial region beside the ergodic set).
    /// </summary>
    private Tensor Start(RankTrajectories rank, int episode, int? rows = null)
    {
        int trajectories = rows ?? spec.Trajectories;
        if (episode <= 1 && rows is null) return rank.States;
        if (spec.RedrawEachEpisode) return Simulator.DrawInitial(model, trajectories, rank.Random, rank.States.dtype, rank.States.device);
        int fresh = (int)Math.Ceiling(RefreshShare(episode) * trajectories - 1e-9);
        if (fresh == 0) return rank.States;
        var drawn = Simulator.DrawInitial(model, fresh, rank.Random, rank.States.dtype, rank.States.device);
        return fresh == rank.States.shape[0] ? drawn : torch.cat([drawn, ReturnStrays(rank, rank.States.narrow(0, fresh, rank.States.shape[0] - fresh))], 0);
    }

    /// <summary>
    /// Continuing trajectories that have wandered beyond the initial range widened by its own width on each side
    /// restart from fresh draws: out there the network only extrapolates, and a path fed by its own extrapolation can
    /// reach states whose gradients overflow (the IRBC's did, from the first-order solution, within 27 episodes).
    /// </summary>
    private Tensor ReturnStrays(RankTrajectories rank, Tensor continuing)
    {
        var (low, high) = _strayBounds ??= StrayBounds();
        var values = continuing.to(ScalarType.Float64).cpu().data<double>().ToArray();
        int width = low.Length, rows = values.Length / Math.Max(width, 1);
        var strays = Enumerable.Range(0, rows).Where(i => Enumerable.Range(0, width).Any(j => !(values[i * width + j] >= low[j] && values[i * width + j] <= high[j]))).ToArray();
        if (strays.Length == 0) return continuing;
        Strays += strays.Length;
        var replaced = continuing.clone();
        var drawn = Simulator.DrawInitial(model, strays.Length, rank.Random, continuing.dtype, continuing.device);
        replaced.index_copy_(0, torch.tensor(strays.Select(i => (long)i).ToArray(), device: continuing.device), drawn);
        return replaced;
    }

    private (double[] Low, double[] High)? _strayBounds;

    /// <summary>Each state's initial range widened by its width on each side; unbounded for chains and fixed starts.</summary>
    private (double[] Low, double[] High) StrayBounds()
    {
        var columns = model.StateColumns;
        var low = new double[columns.Count];
        var high = new double[columns.Count];
        for (int j = 0; j < columns.Count; j++)
        {
            var initial = columns[j].Initial;
            double width = initial.High - initial.Low;
            bool bounded = columns[j].State.Chain is null && width > 0;
            (low[j], high[j]) = bounded ? (initial.Low - width, initial.High + width) : (double.NegativeInfinity, double.PositiveInfinity);
        }
        return (low, high);
    }

    /// <summary>Continuing trajectories restarted because they had left the widened initial range (<see cref="ReturnStrays"/>).</summary>
    public long Strays { get; private set; }

    /// <summary>
    /// The share of trajectories restarted from fresh draws this episode: <see cref="SolverSpec.Refresh"/>, or
    /// <see cref="CollapsedRefresh"/> once the continuing paths have collapsed (<see cref="PathsCollapsed"/>), since a
    /// path that sits at one state trains the policy on that state only.
    /// </summary>
    private double RefreshShare(int episode)
    {
        if (spec.Refresh >= CollapsedRefresh || !PathsCollapsed()) return spec.Refresh;
        CollapsedAt ??= episode;
        return CollapsedRefresh;
    }

    /// <summary>The first episode (of this process's run) that found the continuing paths collapsed; null: never.</summary>
    public int? CollapsedAt { get; private set; }

    /// <summary>Refresh share once the continuing paths have collapsed to a point: three quarters of the trajectories.</summary>
    public const double CollapsedRefresh = 0.75;

    /// <summary>
    /// Collapse: every continuous state of the trajectories that are never refreshed spreads over less than this share
    /// of its initial distribution's half-width (a deterministic economy at its steady state; never a stochastic one).
    /// </summary>
    public const double CollapsedSpread = 0.01;

    private int[]? _continuous;

    /// <summary>
    /// Whether the trajectories that continue under either refresh share (the last ones: refreshed rows come first)
    /// have collapsed on every rank of every process (<see cref="CollapsedSpread"/>), decided from where they stand,
    /// which a checkpoint keeps, so a resumed run decides alike.
    /// </summary>
    private bool PathsCollapsed()
    {
        var columns = model.StateColumns;
        var continuous = _continuous ??= Enumerable.Range(0, columns.Count).Where(j => columns[j].State.Chain is null && columns[j].Initial.HalfWidth > 0).ToArray();
        bool mine = true;
        foreach (var rank in ranks)
        {
            int rows = (int)rank.States.shape[0], first = (int)Math.Ceiling(Math.Max(spec.Refresh, CollapsedRefresh) * rows - 1e-9);
            if (first >= rows || continuous.Length == 0) { mine = false; break; }
            using var scope = NewDisposeScope();
            var kept = rank.States.narrow(0, first, rows - first).to(ScalarType.Float64).cpu();
            var spread = (kept.amax(0) - kept.amin(0)).data<double>().ToArray();
            if (continuous.Any(j => !(spread[j] < CollapsedSpread * columns[j].Initial.HalfWidth))) { mine = false; break; }
        }
        Span<double> votes = [mine ? 0 : 1];
        group.AllreduceSum(votes);
        return votes[0] == 0;
    }

    /// <summary>
    /// The polish undone: its rounds had left the network's slopes at the steady state further from the first-order
    /// solution's than <see cref="PolishSpec.SlopeLimit"/> (a Gauss–Newton step can cross to a spurious root of the
    /// same equations), with that gap and the equations on fresh states before and after the polish; the weights are
    /// those before it.
    /// </summary>
    public PolishHalt? PolishHalted { get; private set; }

    /// <summary>Polish rounds the slope guard judged (0: no guard, no polish).</summary>
    public int GuardedRounds { get; private set; }

    private Tensor[]? _beforePolish;
    private int _polishRounds;
    private bool _roundStarted;
    private readonly List<double> _roundStartLosses = new();

    /// <summary>
    /// Whether the polish has stopped paying: each of the last two rounds began (on its own fresh sample) at a loss
    /// above half the lowest any earlier round began at. Each round costs as much as the first, and a plateau in the
    /// loss on fresh samples is what the network can fit (the IRBC: from round 8 of 20, at 10 s a round).
    /// </summary>
    private bool PolishConverged()
    {
        var l = _roundStartLosses;
        int n = l.Count;
        if (!spec.Polish.StopWhenConverged || n < 4) return false;
        double best = l.Take(n - 2).Min();
        return l[n - 1] > 0.5 * best && l[n - 2] > 0.5 * best;
    }

    /// <summary>Before the first polish round: a copy of the weights, for <see cref="EndPolish"/> to judge the polish against.</summary>
    private void StartGuard()
    {
        if (anchor is null || _beforePolish is not null || !(spec.Polish.SlopeLimit > 0)) return;
        using (no_grad()) _beforePolish = ResidualJacobian.Parameters(policy).Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    /// <summary>
    /// After the polish (all its rounds, or fewer when a budget or the plateau stopped it): when it left the slopes at
    /// the steady state beyond the guard, restores the weights from before it and records the gap and the equations on
    /// fresh states with both weight sets (<see cref="PolishHalted"/>). Judged on the whole polish, not round by round:
    /// a first round on a sample smaller than the network over-fits it and moves the slopes, and the later rounds
    /// undo that (the IRBC with irreversible investment).
    /// </summary>
    public void EndPolish()
    {
        if (_beforePolish is not { } saved || anchor is null) return;
        GuardedRounds = _polishRounds;
        double gap = anchor.Gap(policy);
        if (gap > spec.Polish.SlopeLimit)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            // Fresh draws of the initial distributions from a stream of their own, so training's streams are untouched.
            var fresh = Simulator.DrawInitial(model, spec.Polish.States, new StandardNormalStream(Seeds.Derive(spec.Seed, "polish guard")),
                ranks[0].States.dtype, ranks[0].States.device);
            double after = EquationLoss(fresh);
            var parameters = ResidualJacobian.Parameters(policy);
            for (int i = 0; i < parameters.Count; i++) parameters[i].copy_(saved[i]);
            PolishHalted = new PolishHalt(_polishRounds, gap, EquationLoss(fresh), after);
        }
        foreach (var t in saved) t.Dispose();
        _beforePolish = null;
    }

    /// <summary>
    /// The loss at <paramref name="states"/> (a mean over economies, penalties included): in chunks of the
    /// linearization's size, weighted by their shares, so a polish sample of 100,000 economies never holds all their
    /// next-period states' activations at once (a sample within one chunk is evaluated whole, as before).
    /// </summary>
    private double EquationLoss(Tensor states)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = states.shape[0];
        long chunk = ResidualLinearization.ChunkEconomies(ResidualJacobian.Parameters(policy).Sum(p => p.numel()), RowsPerEconomy);
        if (n <= chunk) return Evaluation.Evaluate(model, states, policy, quadrature, spec.EquationWeights).Loss().ToDouble();
        double total = 0;
        for (long at = 0; at < n; at += chunk)
        {
            long length = Math.Min(chunk, n - at);
            using var part = NewDisposeScope();
            total += Evaluation.Evaluate(model, states.narrow(0, at, length), policy, quadrature, spec.EquationWeights).Loss().ToDouble() * length / n;
        }
        return total;
    }

    /// <summary>
    /// Every rank's trajectory states (rank after rank, as float64) and random-stream states, gathered from all
    /// processes for a checkpoint; every process must call it at the same point.
    /// </summary>
    public (double[] States, ulong[] RandomStates) Snapshot()
    {
        using var scope = NewDisposeScope();
        var states = Everyone(ranks.Select(r => r.States).ToArray()).to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        // The streams' 64-bit states travel as the bits of doubles, which a gather copies unchanged.
        var mine = ranks.Select(r => BitConverter.UInt64BitsToDouble(r.Random.State)).ToArray();
        var all = new double[mine.Length * group.Size];
        group.AllGather(mine, all);
        return (states, all.Select(BitConverter.DoubleToUInt64Bits).ToArray());
    }

    /// <summary>Every rank's tensors of one shape stacked in rank order: this process's, then gathered from the others.</summary>
    private Tensor Everyone(IReadOnlyList<Tensor> mine)
    {
        var local = mine.Count == 1 ? mine[0] : torch.cat(mine.ToArray(), 0);
        if (group.Size == 1) return local;
        var values = local.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        var all = new double[values.Length * group.Size];
        group.AllGather(values, all);
        var shape = local.shape.ToArray();
        shape[0] *= group.Size;
        return torch.tensor(all, shape, dtype: ScalarType.Float64).to(local.dtype, local.device);
    }

    /// <summary>
    /// A polish round's sample of about <see cref="PolishSpec.States"/> states over all ranks: fresh draws simulated for
    /// the episode length when episodes redraw, else the trajectories continued for as many periods as it takes. One
    /// batch of all of them per Levenberg–Marquardt step; the damping starts afresh each round (so a resumed round is the same).
    /// </summary>
    private IReadOnlyList<(Tensor[] Batch, double Weight)> PolishRound(int episode)
    {
        var polish = spec.Polish;
        StartGuard();
        _polishRounds++;
        _roundStarted = false;
        using (no_grad())
        {
            // The ranks share the round's rows, so a data-parallel polish solves a problem of the same size.
            int economies = Math.Max(1, Math.Min(polish.States, polish.MaxRows / RowsPerEconomy) / TotalRanks);
            // Collapsed paths would give a round thousands of copies of one state: sample it as redrawn episodes do,
            // and leave the continuing trajectories where they stand, so every round (and a resumed one) decides alike.
            bool redrawn = !spec.RedrawEachEpisode && spec.Refresh < 1 && PathsCollapsed();
            if (redrawn) CollapsedAt ??= episode;
            foreach (var rank in ranks)
            {
                Tensor start;
                int length;
                if (spec.RedrawEachEpisode || redrawn)
                {
                    length = Math.Min(spec.EpisodeLength, economies);
                    start = Simulator.DrawInitial(model, (economies + length - 1) / length, rank.Random, rank.States.dtype, rank.States.device);
                }
                else if (spec.Refresh > 0)
                {
                    // Half the round from fresh draws (episode-length paths), half from every trajectory continued: the
                    // steps weigh the region the verdict checks as much as the ergodic set, whose paths rarely reach its corners.
                    int fresh = economies / 2, rest = economies - fresh;
                    int freshLength = Math.Max(1, Math.Min(spec.EpisodeLength, fresh));
                    var drawn = Simulator.DrawInitial(model, (fresh + freshLength - 1) / freshLength, rank.Random, rank.States.dtype, rank.States.device);
                    var (freshVisited, _) = Simulate(rank, drawn, episode, freshLength);
                    var (continued, next) = Simulate(rank, rank.States, episode, (rest + spec.Trajectories - 1) / spec.Trajectories);
                    rank.Visited = torch.cat([freshVisited.narrow(0, 0, Math.Min(fresh, freshVisited.shape[0])), continued.narrow(0, 0, Math.Min(rest, continued.shape[0]))], 0);
                    rank.Next = next;
                    continue;
                }
                else
                {
                    length = (economies + spec.Trajectories - 1) / spec.Trajectories;
                    start = Start(rank, episode, spec.Trajectories);
                }
                (rank.Visited, rank.Next) = Simulate(rank, start, episode, length);
                if (redrawn) rank.Next = rank.States.clone();
                if (rank.Visited.shape[0] * RowsPerEconomy > polish.MaxRows / TotalRanks) rank.Visited = rank.Visited.narrow(0, 0, economies);
            }
        }
        // Each round's sample is a new problem: its steps start from the initial damping, as a fresh fit would.
        _lm?.ResetDamping();
        var all = ranks.Select(r => torch.arange(r.Visited!.shape[0], dtype: ScalarType.Int64, device: r.Visited.device)).ToArray();
        return Enumerable.Repeat((all, 1.0), polish.Steps).ToArray();
    }

    /// <summary>
    /// In the polish: notes the round's starting loss, and skips the step when the sample's equations already hold to
    /// rounding (or are not finite); otherwise, and in the episodes, the engine's optimizer steps.
    /// </summary>
    public double[]? TakeStep(Tensor[] rows, TrainingContext context)
    {
        if (!Polishing) return null;
        double loss = SampleLoss();
        if (!_roundStarted)
        {
            _roundStarted = true;
            _roundStartLosses.Add(loss);
        }
        if (!double.IsFinite(loss) || loss <= RoundOffLoss) return [loss];
        _stepStartLoss = loss;
        return null;
    }

    /// <summary>Why the episodes cannot take Levenberg–Marquardt steps as configured (the polish always can).</summary>
    public string? LeastSquaresRefusal =>
        Polishing ? null
        : anchor is not null ? "the slope anchor's penalty is not a least-squares row; set --slope-anchor 0 to train the episodes with lm"
        : ranks.Any(r => r.Redrawn is not null) ? "Monte Carlo nodes redrawn every step change the problem under each step; use a fixed quadrature with lm"
        : group.Size > 1 ? "the episodes train with lm on one process; use adam in a data-parallel run"
        : null;

    public IReadOnlyList<Tensor> Columns => ResidualJacobian.Parameters(policy);

    /// <summary>The polish sample of every rank, or an episode's batch of this process's ranks, linearized (rows weighted so their sum of squares is the loss).</summary>
    public ILinearization Linearize(Tensor[] rows)
    {
        if (Polishing) return Linearize();
        var blocks = ranks.Select((rank, k) => new ResidualLinearization.Block(rank.Visited!.index_select(0, rows[k]), 1.0 / ranks.Count)).ToArray();
        return ResidualLinearization.At(model, blocks, policy, quadrature, spec.EquationWeights, RowsPerEconomy);
    }

    public double LossAt(Tensor[] rows)
    {
        if (Polishing)
        {
            double loss = _stepStartLoss ?? SampleLoss();
            _stepStartLoss = null;
            return loss;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Loss(rows).ToDouble();
    }

    /// <summary>The mean over every rank of its polish sample's loss, penalties and all.</summary>
    private double SampleLoss()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return MeanOverRanks(ranks.Select(rank => EquationLoss(rank.Visited!)));
    }

    /// <summary>
    /// The polish sample's equations linearized for a Gauss–Newton step, the ranks' rows weighted 1/ranks so the sum of
    /// squares is the mean of their losses. Processes of a data-parallel group gather every rank's rows and Jacobian, so
    /// each solves the same system; one process stores the Jacobian or goes matrix-free as its size demands.
    /// </summary>
    private ILinearization Linearize()
    {
        if (group.Size == 1)
        {
            var blocks = ranks.Select(rank => new ResidualLinearization.Block(rank.Visited!, 1.0 / TotalRanks)).ToArray();
            return ResidualLinearization.At(model, blocks, policy, quadrature, spec.EquationWeights, RowsPerEconomy);
        }
        using var scope = NewDisposeScope();
        var parts = ranks.Select(rank => ResidualJacobian.At(model, rank.Visited!, policy, quadrature, spec.EquationWeights)).ToArray();
        Tensor r = Everyone(parts.Select(p => p.Rows).ToArray()), jacobian = Everyone(parts.Select(p => p.Jacobian).ToArray());
        using var scale = (1 / Math.Sqrt(TotalRanks)).ToScalar();
        return new ExplicitLinearization(r.mul(scale), jacobian.mul(scale)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A polish sample's mean squared residual at which the equations hold to float64's rounding (residuals about 1e-13):
    /// no step is tried, since none can lower it but by rounding, and each would be rejected a dozen times (a linear
    /// part that is the exact solution, as in the closed-form models, left the polish nothing else to do).
    /// </summary>
    public const double RoundOffLoss = 1e-26;

    /// <summary>The mean over every rank of values this process's ranks computed.</summary>
    private double MeanOverRanks(IEnumerable<double> mine)
    {
        Span<double> sum = [mine.Sum()];
        group.AllreduceSum(sum);
        return sum[0] / TotalRanks;
    }

    /// <summary>The mean of this process's ranks' losses on their batches (the engine averages it over processes).</summary>
    public Tensor Loss(Tensor[] rows)
    {
        Tensor? total = null;
        for (int k = 0; k < ranks.Count; k++)
        {
            var rank = ranks[k];
            var nodes = quadrature;
            if (rank.Redrawn is { } redrawn)
            {
                redrawn.Redraw(rank.Random, model.ShockCholesky, spec.Quadrature.AntitheticPairs);
                nodes = redrawn;
            }
            var loss = Evaluation.Evaluate(model, rank.Visited!.index_select(0, rows[k]), policy, nodes, spec.EquationWeights).Loss();
            total = total is null ? loss : total + loss;
        }
        var mean = ranks.Count == 1 ? total! : total! / ranks.Count;
        return anchor is null ? mean : mean + anchor.Penalty(policy);
    }

    /// <summary>
    /// States this process trained on (up to <see cref="SampleCapacity"/> rows of [StateWidth]): a uniform sample of
    /// every state visited in the second half of the planned episodes and the polish (of all so far when training
    /// stops earlier) — where the policy was fitted, which a verdict compares the evaluation path with.
    /// </summary>
    /// <remarks>
    /// The last 20,000 states alone, 64 trajectories over about 300 periods at N = 50, were too autocorrelated to show
    /// the tails a 10,000-period path of 100 persistent states reaches (IRBC with 50 countries: 1.8 % of its fresh
    /// path outside their range, although training had been there; docs/solve-defaults.md, section 7).
    /// </remarks>
    public double[,] TrainingSample()
    {
        int width = model.StateWidth, rows = (int)Math.Min(_sampleSeen, SampleCapacity);
        var result = new double[rows, width];
        if (rows > 0) Buffer.BlockCopy(_sample, 0, result, 0, rows * width * sizeof(double));
        return result;
    }

    /// <summary>Rows kept for <see cref="TrainingSample"/>: 20,000, enough for 0.5 % quantiles of many episodes' states.</summary>
    public const int SampleCapacity = 20_000;

    private double[] _sample = [];
    private long _sampleSeen;
    private bool _sampleRestarted;
    private StandardNormalStream? _sampleDraws;

    /// <summary>Reservoir sampling (Vitter's algorithm R) over the visited rows, with a stream of its own.</summary>
    private void Remember(Tensor visited, int episode)
    {
        int width = model.StateWidth;
        if (_sample.Length == 0) _sample = new double[SampleCapacity * width];
        _sampleDraws ??= new StandardNormalStream(Seeds.Derive(spec.Seed, "training sample"));
        // From the middle of the planned episodes on, only the states of the network's later life count.
        if (!_sampleRestarted && episode > spec.Episodes / 2)
        {
            _sampleRestarted = true;
            _sampleSeen = 0;
        }
        var block = visited.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        int rows = block.Length / width;
        for (int i = 0; i < rows; i++)
        {
            long slot = _sampleSeen < SampleCapacity ? _sampleSeen : (long)(_sampleDraws.Uniform() * (_sampleSeen + 1));
            _sampleSeen++;
            if (slot < SampleCapacity) Array.Copy(block, i * width, _sample, slot * width, width);
        }
    }

    public void EndEpoch(TrainingContext context)
    {
        if (Polishing && context.Epoch < spec.Episodes + spec.Polish.Rounds && PolishConverged()) context.RequestStop(StopReason.Converged,
            $"the polish converged after round {context.Epoch - spec.Episodes}: the loss on a fresh sample stopped falling");
        // The old start states may be part of the visited states, which this epoch's scope still reads: retire them
        // until the next episode begins.
        foreach (var rank in ranks)
        {
            if (rank.Visited is { } visited) Remember(visited, context.Epoch);
            var carried = rank.Next!.detach().MoveToOuterDisposeScope();
            rank.Retired.Add(rank.States);
            rank.States = carried;
            rank.Visited = null;
            rank.Next = null;
        }
    }

    /// <summary>Economies of a rank's sample that an evaluation point's residual statistics read at most.</summary>
    public const int MetricEconomies = 16_384;

    /// <summary>Residual statistics per equation and penalty on the episode's states (after its steps), then lr, steps and seconds.</summary>
    public void Evaluate(TrainingContext context, IReadOnlyList<Dictionary<string, double>?> metrics)
    {
        if (metrics[0] is not { } m) return;
        var stats = new Dictionary<string, double>(StringComparer.Ordinal);
        var penalties = new Dictionary<string, double>(StringComparer.Ordinal);
        double loss = m["loss"], lr = m["lr"];
        using (no_grad())
        using (NewDisposeScope())
        {
            // A large polish sample is logged by its first MetricEconomies economies: all of it at once would hold every
            // next-period state's activations (100,000 economies × 10 nodes × 224 units: 2 GB a layer).
            var here = ranks.Select(r => r.Visited ?? r.States).Select(x => x.narrow(0, 0, Math.Min(x.shape[0], MetricEconomies))).ToArray();
            var residuals = Evaluation.Evaluate(model, here.Length == 1 ? here[0] : torch.cat(here, 0), policy, quadrature, spec.EquationWeights);
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
            foreach (var (name, penalty) in residuals.Penalties) penalties[$"penalty_{name}"] = penalty.ToDouble();
            // Stopped between evaluation points with no step since the last one: the loss at the states where it ended.
            if (double.IsNaN(loss)) loss = residuals.Loss().ToDouble();
            if (group.Size > 1) loss = OverProcesses(stats, penalties, loss);
            if (spec.TargetEulerError is not null) stats[ResidualTargetMetric] = WatchedResidual(stats, blocks.Keys);
            foreach (var (k, v) in penalties) stats[k] = v;
        }
        // history.csv's columns: loss, the residual statistics, then lr, steps and seconds.
        m.Clear();
        m["loss"] = loss;
        foreach (var (k, v) in stats) m[k] = v;
        m["lr"] = lr;
        m["steps"] = context.Step;
        m["seconds"] = context.Seconds;
    }

    /// <summary>
    /// The statistics of every process's states from each process's own: maxima by their maximum, means (of equal
    /// samples) by their mean. Every process then logs and stops on the same values. Returns the agreed loss.
    /// </summary>
    private double OverProcesses(Dictionary<string, double> stats, Dictionary<string, double> penalties, double loss)
    {
        static bool IsMax(string key) => key.StartsWith("max_abs_", StringComparison.Ordinal) || key == "euler_max";
        var means = stats.Keys.Where(k => !IsMax(k)).Order(StringComparer.Ordinal).Select(k => (stats, k))
            .Concat(penalties.Keys.Order(StringComparer.Ordinal).Select(k => (stats: penalties, k))).ToArray();
        var maxima = stats.Keys.Where(IsMax).Order(StringComparer.Ordinal).ToArray();
        var sums = means.Select(e => e.stats[e.k]).Append(loss).ToArray();
        group.AllreduceSum(sums);
        for (int i = 0; i < means.Length; i++) means[i].stats[means[i].k] = sums[i] / group.Size;
        var tops = maxima.Select(k => stats[k]).ToArray();
        group.AllreduceMax(tops);
        for (int i = 0; i < maxima.Length; i++) stats[maxima[i]] = tops[i];
        return sums[^1] / group.Size;
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

    public string DescribeNonFiniteLoss(Tensor[] rows, int member)
    {
        using (no_grad())
        using (NewDisposeScope())
        {
            var states = ranks.Select((rank, k) => rank.Visited!.index_select(0, rows[k])).ToArray();
            var evaluated = states.Select(x => Evaluation.Evaluate(model, x, policy, quadrature, spec.EquationWeights)).ToArray();
            var names = evaluated
                .SelectMany(residuals => NonFiniteEquations(residuals)
                    .Concat(residuals.Penalties.Where(p => !p.Value.isfinite().item<bool>()).Select(p => $"penalty '{p.Key}'")))
                .Distinct().ToArray();
            string where = names.Length > 0 ? $"in {string.Join(", ", names)}" : "in the loss";
            if (evaluated.Select((residuals, k) => FirstNonFiniteState(residuals, states[k])).FirstOrDefault(a => a is not null) is { } at) where += $" at {at}";
            NonFinite ??= (CurrentEpisode, where);
            return where;
        }
    }

    private int CurrentEpisode { get; set; }

    /// <summary>The first state whose residuals are not finite, as "k[1] = 1.2, z[1] = 0.03" (null: none).</summary>
    private string? FirstNonFiniteState(Residuals residuals, Tensor states)
    {
        foreach (var (_, residual) in residuals.Equations)
        {
            var finite = residual.dim() == 1 ? residual.isfinite() : residual.isfinite().all(0);
            var bad = finite.logical_not().nonzero();
            if (bad.shape[0] == 0) continue;
            var row = states[bad[0, 0].item<long>()].to(ScalarType.Float64).cpu().data<double>().ToArray();
            var columns = model.StateColumns;
            return string.Join(", ", columns.Select((c, j) => $"{c.Name} = {row[j].ToString("G4", System.Globalization.CultureInfo.InvariantCulture)}"));
        }
        return null;
    }

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
        foreach (var rank in ranks) rank.Dispose();
        foreach (var t in _beforePolish ?? []) t.Dispose();
    }

    /// <summary>One rank's episode: the visited states (periods 0 … length−1 of every trajectory) and the states after the last period.</summary>
    private (Tensor Visited, Tensor Next) Simulate(RankTrajectories rank, Tensor start, int episode, int length)
    {
        var random = rank.Random;
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
