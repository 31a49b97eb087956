using System.Diagnostics;
using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Losses;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Monitor = Deqn.Training.Callbacks.Monitor;
using static TorchSharp.torch;

namespace Deqn.Training.Ensembles;

/// <summary>
/// Early stopping applied to each member on its own, with the meaning of <see cref="Callbacks.EarlyStopping"/>: a member
/// whose monitored value has not improved by more than <see cref="MinDelta"/> for <see cref="Patience"/> epochs stops,
/// and (with <see cref="RestoreBestWeights"/>) ends with the weights of its best epoch.
/// </summary>
public sealed record MemberEarlyStopping(
    string Monitor = "val_loss",
    int Patience = 10,
    double MinDelta = 0.0,
    MonitorMode Mode = MonitorMode.Auto,
    bool RestoreBestWeights = true,
    int StartFromEpoch = 0)
{
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Monitor)) throw new ArgumentException("early stopping: the monitored metric must be named");
        if (Patience < 0) throw new ArgumentException($"patience must be >= 0 (got {Patience})");
        if (!(MinDelta >= 0)) throw new ArgumentException($"min_delta must be >= 0 (got {MinDelta})");
        if (StartFromEpoch < 0) throw new ArgumentException($"start-from epoch must be >= 0 (got {StartFromEpoch})");
    }
}

/// <summary>What a stacked run did: one <see cref="TrainingHistory"/> per member, as K separate runs would report.</summary>
public sealed record EnsembleHistory(IReadOnlyList<TrainingHistory> Members, TimeSpan Elapsed, long Steps);

/// <summary>
/// Trains the K members of a <see cref="NetworkStack"/> together, each on its own data, as K separate
/// <see cref="Trainer"/> runs would: member k shuffles with its own seed (<see cref="MemberSeeds"/>), has its own
/// learning-rate factor, its own early stopping and its own stop reason. One optimizer step updates all members: the loss
/// that is differentiated is the sum of the members' mean losses, so each member's gradient is its own.
/// </summary>
/// <remarks>
/// <para>Equivalence with separate runs holds for the element-wise optimizers (SGD, momentum, Nesterov, AdaGrad, RMSProp,
/// Adam, AdamW), which update each entry from its own gradient and state. Gradient clipping by value is element-wise;
/// clipping by norm uses each member's own global norm.</para>
/// <para>L-BFGS trains full batch (the batch size is ignored) with <see cref="StackedLbfgs"/>: each member has its own
/// history and line search, so a member trains as a separate L-BFGS run would, but with a backtracking Armijo line
/// search instead of the single-network optimizer's strong-Wolfe one. An epoch is one L-BFGS step (up to max_iter
/// iterations); validation and early stopping happen after each epoch (ValidateEverySteps is ignored), and a member whose
/// L-BFGS converged stops with <see cref="StopReason.Converged"/>. The optimizer passed in only supplies the settings and
/// learning rate; its own state is not used, and each <see cref="Fit(Tensor, Tensor, Tensor?, Tensor?, CancellationToken)"/>
/// starts with an empty history.</para>
/// <para>Not supported here: callbacks and loggers (they see one model), validation metrics other than the loss, and
/// gradient-norm or histogram logging; the <see cref="TrainingSpec"/> options for those are ignored.</para>
/// </remarks>
public sealed class EnsembleTrainer
{
    private readonly NetworkStack _stack;
    private readonly Optimizer _optimizer;

    /// <param name="stack">The members; trained in place.</param>
    /// <param name="optimizer">An optimizer over exactly the stack's parameters (Optimizers.Create(spec, stack.parameters())).</param>
    /// <param name="spec">As for <see cref="Trainer"/>; <see cref="TrainingSpec.Seed"/> only supplies default member seeds.</param>
    public EnsembleTrainer(NetworkStack stack, Optimizer optimizer, TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var own = new HashSet<Parameter>(stack.parameters(), ReferenceEqualityComparer.Instance);
        if (optimizer.Parameters.Count != own.Count || !optimizer.Parameters.All(own.Contains))
            throw new ArgumentException("the optimizer must update exactly the stack's parameters (build it with stack.parameters())");
        _stack = stack;
        _optimizer = optimizer;
        Spec = spec;
    }

    public TrainingSpec Spec { get; }

    // The loss in use: the spec's, or chosen by the targets (cross-entropy for class indices) as the single-network trainer does.
    private LossKind _loss;

    /// <summary>
    /// Seed of member k's generator for shuffling and dropout, as <see cref="TrainingSpec.Seed"/> of a separate run.
    /// Null: member k uses <c>Spec.Seed + k</c>.
    /// </summary>
    public IReadOnlyList<long>? MemberSeeds { get; init; }

    /// <summary>
    /// Member k trains with learning rate factor_k × (the optimizer's rate or the schedule's). Null: all 1. Exact for the
    /// supported optimizers because their increments are linear in the learning rate.
    /// </summary>
    public IReadOnlyList<double>? LearningRateFactors { get; init; }

    /// <summary>Per-member early stopping (null: none). The run ends when every member has stopped.</summary>
    public MemberEarlyStopping? EarlyStopping { get; init; }

    /// <summary>A schedule shared by all members (each scaled by its factor).</summary>
    public ILearningRateSchedule? Schedule { get; init; }

    /// <summary>Trains on K datasets of equal size (and, optionally, K validation sets of equal size).</summary>
    public EnsembleHistory Fit(IReadOnlyList<Dataset> train, IReadOnlyList<Dataset>? validation = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        using var scope = NewDisposeScope();
        var (x, y) = Stack(train, "training");
        Tensor? vx = null, vy = null;
        if (validation is not null) (vx, vy) = Stack(validation, "validation");
        return Fit(x, y, vx, vy, cancel);
    }

    /// <summary>
    /// Trains member k on features[k] and targets[k]: features [K, n, inputs]; targets [K, n, outputs] (regression) or
    /// [K, n] int64 class indices (cross-entropy). Validation tensors likewise, with their own row count.
    /// </summary>
    public EnsembleHistory Fit(Tensor features, Tensor targets, Tensor? validationFeatures = null, Tensor? validationTargets = null, CancellationToken cancel = default)
    {
        int members = _stack.Members;
        _loss = Spec.Loss ?? (targets.dtype == ScalarType.Int64 ? LossKind.CrossEntropy : LossKind.Mse);
        CheckData(features, targets, "training");
        if ((validationFeatures is null) != (validationTargets is null)) throw new ArgumentException("validation features and targets must be given together");
        if (validationFeatures is not null) CheckData(validationFeatures, validationTargets!, "validation");
        int n = (int)features.shape[1];
        if (n == 0) throw new ArgumentException("the training set is empty");
        bool hasValidation = validationFeatures is not null && validationFeatures.shape[1] > 0;

        long[] seeds = MemberSeeds?.ToArray() ?? Enumerable.Range(0, members).Select(k => Spec.Seed + k).ToArray();
        if (seeds.Length != members) throw new ArgumentException($"{seeds.Length} member seeds for {members} members");
        double[] factors = LearningRateFactors?.ToArray() ?? Enumerable.Repeat(1.0, members).ToArray();
        if (factors.Length != members) throw new ArgumentException($"{factors.Length} learning-rate factors for {members} members");
        foreach (double f in factors)
            if (!(f >= 0 && double.IsFinite(f))) throw new ArgumentException($"learning-rate factors must be finite and >= 0 (got {OptimizerSpec.Format(f)})");
        EarlyStopping?.Validate();
        if (EarlyStopping is { } early)
        {
            var computed = hasValidation ? new[] { "loss", "lr", "epoch", "val_loss" } : new[] { "loss", "lr", "epoch" };
            if (!computed.Contains(early.Monitor))
                throw new ArgumentException($"early stopping monitors '{early.Monitor}', which a stacked run does not compute (available: {string.Join(", ", computed)})");
        }

        var clock = Stopwatch.StartNew();
        var generators = seeds.Select(s => new Generator((ulong)s)).ToArray();
        using var fitScope = NewDisposeScope();
        try
        {
            _stack.DropoutGenerators = generators;
            return Run(features, targets, validationFeatures, validationTargets, hasValidation, factors, generators, clock, cancel);
        }
        finally
        {
            _optimizer.AfterBackward = null;
            _stack.DropoutGenerators = null;
            _stack.eval();
            foreach (var g in generators) g.Dispose();
        }
    }

    private sealed class Member(int index, MemberEarlyStopping? early)
    {
        public int Index { get; } = index;
        public Monitor? Monitor { get; } = early is null ? null : new Monitor(early.Monitor, early.Mode, early.MinDelta);
        public bool Active { get; set; } = true;
        public bool HasBest { get; set; }
        public StopReason Reason { get; set; }
        public string Message { get; set; } = "";
        public List<EpochRecord> Records { get; } = new();
        public long Steps { get; set; }
        public double LossSum { get; set; }
        public TimeSpan Elapsed { get; set; }
    }

    private EnsembleHistory Run(Tensor features, Tensor targets, Tensor? vx, Tensor? vy, bool hasValidation, double[] factors,
        Generator[] generators, Stopwatch clock, CancellationToken cancel)
    {
        int K = _stack.Members;
        int n = (int)features.shape[1];
        var members = Enumerable.Range(0, K).Select(k => new Member(k, EarlyStopping)).ToArray();
        var ps = _optimizer.Parameters;
        bool restoreBest = EarlyStopping is { RestoreBestWeights: true };
        bool scaled = factors.Any(f => f != 1.0);
        Tensor factorTensor = torch.tensor(factors, dtype: _stack.DType).view(K, 1, 1);
        Func<Tensor, Tensor> forward = _loss == LossKind.CrossEntropy ? _stack.Logits : _stack.forward;

        Tensor[] Copy() { using var _ = no_grad(); return ps.Select(p => p.detach().clone()).ToArray(); }
        // Weights a stopped member is held at, the best epoch's weights, and the last epoch's with a finite loss.
        var frozen = Copy();
        var best = restoreBest ? Copy() : null;
        var lastGood = Copy();
        // Made here, in the run's dispose scope, and updated in place: it must outlive the epochs' scopes.
        var stoppedMask = torch.zeros(K, 1, 1, dtype: ScalarType.Bool);
        bool anyStopped = false;

        _optimizer.AfterBackward = () =>
        {
            if (Spec.ClipValue is { } v) GradientClipping.ByValue(ps, v);
            if (Spec.ClipNorm is { } c) ClipNormPerMember(ps, c);
        };

        double lossCount = 0;
        int period = 0;
        long step = 0;

        IEnumerable<Member> Active() => members.Where(m => m.Active);

        void Stop(Member m, StopReason reason, string message, bool restoreLastGood = false)
        {
            using var noGrad = no_grad();
            if (restoreLastGood) CopyMember(lastGood, ps, m.Index);
            // As EarlyStopping.OnTrainEnd: whatever ended the run, the best epoch's weights are put back.
            if (restoreBest && m.HasBest && m.Monitor!.BestEpoch != period) CopyMember(best!, ps, m.Index);
            CopyMember(ps, frozen, m.Index);
            m.Active = false;
            m.Reason = reason;
            m.Message = message;
            m.Elapsed = clock.Elapsed;
            using (NewDisposeScope()) stoppedMask[m.Index].fill_(true);
            anyStopped = true;
        }

        void EndPeriod(double epochPosition)
        {
            period++;
            var active = Active().ToArray();
            double[]? valLoss = null;
            if (hasValidation)
            {
                _stack.eval();
                using (no_grad())
                using (NewDisposeScope())
                    valLoss = ToDoubles(MemberLosses(forward(vx!), vy!));
                _stack.train();
            }
            var finite = new bool[K];
            var improved = new bool[K];
            var toStop = new List<(Member, string)>();
            foreach (var m in active)
            {
                var metrics = new Dictionary<string, double>
                {
                    ["loss"] = lossCount > 0 ? m.LossSum / lossCount : double.NaN,
                    ["lr"] = _optimizer.LearningRate * factors[m.Index],
                    ["epoch"] = epochPosition,
                };
                m.LossSum = 0;
                if (valLoss is not null) metrics["val_loss"] = valLoss[m.Index];
                finite[m.Index] = double.IsFinite(metrics["loss"]);
                if (m.Monitor is { } monitor && period > EarlyStopping!.StartFromEpoch)
                {
                    if (monitor.Update(monitor.Read(metrics), period))
                    {
                        improved[m.Index] = restoreBest;
                        m.HasBest |= restoreBest;
                    }
                    else if (monitor.EpochsWithoutImprovement >= Math.Max(1, EarlyStopping.Patience))
                        toStop.Add((m, $"{monitor.Key} did not improve for {monitor.EpochsWithoutImprovement} epochs (best {monitor.Best:G6} at epoch {monitor.BestEpoch})"));
                }
                m.Records.Add(new EpochRecord(period, m.Steps, clock.Elapsed.TotalSeconds, metrics));
            }
            lossCount = 0;
            using (no_grad())
            using (NewDisposeScope())
            {
                if (improved.Any(b => b)) CopyWhere(Mask(improved, K), ps, best!);
                if (finite.Any(b => b)) CopyWhere(Mask(finite, K), ps, lastGood);
            }
            foreach (var (m, message) in toStop) Stop(m, StopReason.EarlyStopping, message);
        }

        using var offsets = torch.arange(K, dtype: ScalarType.Int64).mul_(n).view(K, 1);
        using var flatFeatures = features.reshape(K * n, features.shape[2]);
        using var flatTargets = targets.dim() == 3 ? targets.reshape(K * n, targets.shape[2]) : targets.reshape(K * n);
        var targetShape = targets.shape;

        if (_optimizer.Settings.Kind == OptimizerKind.Lbfgs)
        {
            RunLbfgs();
        }
        else
        {
            for (int epoch = 1; epoch <= Spec.Epochs && members.Any(m => m.Active); epoch++)
            {
                _stack.train();
                using var epochScope = NewDisposeScope();
                var plans = generators.Select(g => MiniBatches.Plan(n, Spec.BatchSize, g, Spec.Shuffle)).ToArray();
                int batchCount = plans[0].Count;
                long[] lengths = plans[0].Select(b => b.shape[0]).ToArray();
                Tensor xe = features, ye = targets;
                if (!(batchCount == 1 && lengths[0] == n))
                {
                    // One gather per epoch puts each member's rows in its own shuffled order; a batch is then a view.
                    var order = torch.stack(plans.Select(p => torch.cat(p.ToArray())).ToArray()).add_(offsets).view(-1);
                    xe = flatFeatures.index_select(0, order).view(features.shape);
                    ye = flatTargets.index_select(0, order).view(targetShape);
                }
                foreach (var plan in plans)
                    foreach (var t in plan) t.Dispose();

                long start = 0;
                bool interrupted = false;
                for (int b = 0; b < batchCount; b++)
                {
                    if (Schedule is not null) _optimizer.LearningRate = Schedule.At(epoch - 1 + (double)b / batchCount);
                    double[] losses = Array.Empty<double>();
                    using (var stepScope = NewDisposeScope())
                    {
                        var xb = batchCount == 1 ? xe : xe.narrow(1, start, lengths[b]);
                        var yb = batchCount == 1 ? ye : ye.narrow(1, start, lengths[b]);
                        Tensor[]? before = scaled ? Copy() : null;
                        _optimizer.Step(() =>
                        {
                            var perMember = MemberLosses(forward(xb), yb);
                            var total = perMember.sum();
                            total.backward();
                            losses = ToDoubles(perMember.detach());
                            return total.ToDouble();
                        });
                        using (no_grad())
                        {
                            // w_old + f·(w_new − w_old): the increment of a run with learning rate f·lr.
                            if (before is not null)
                                for (int i = 0; i < ps.Count; i++) ps[i].sub_(before[i]).mul_(factorTensor).add_(before[i]);
                            if (anyStopped) CopyWhere(stoppedMask, frozen, ps);
                        }
                    }
                    start += lengths[b];
                    step++;
                    foreach (var m in Active())
                    {
                        m.Steps++;
                        m.LossSum += losses[m.Index] * lengths[b];
                    }
                    lossCount += lengths[b];

                    if (Spec.StopOnNonFiniteLoss)
                        foreach (var m in Active().Where(m => !double.IsFinite(losses[m.Index])).ToArray())
                            Stop(m, StopReason.NonFiniteLoss, $"the loss became {losses[m.Index]} at epoch {epoch}, step {m.Steps}; the weights of the last finite epoch were kept", restoreLastGood: true);
                    if (cancel.IsCancellationRequested)
                    {
                        foreach (var m in Active().ToArray()) Stop(m, StopReason.Interrupted, $"interrupted at epoch {epoch}, step {m.Steps}");
                        interrupted = true;
                        break;
                    }
                    if (!members.Any(m => m.Active)) break;
                    if (Spec.ValidateEverySteps > 0 && step % Spec.ValidateEverySteps == 0) EndPeriod(epoch - 1 + (b + 1.0) / batchCount);
                    if (!members.Any(m => m.Active)) break;
                }
                if (interrupted || !members.Any(m => m.Active)) break;
                if (Spec.ValidateEverySteps == 0) EndPeriod(epoch);
                if (Spec.MaxSeconds is { } budget && clock.Elapsed.TotalSeconds >= budget)
                    foreach (var m in Active().ToArray()) Stop(m, StopReason.TimeBudget, $"time budget of {budget:0.#} s used after epoch {epoch}");
            }
        }
        foreach (var m in Active().ToArray()) Stop(m, StopReason.MaxEpochs, $"ran all {Spec.Epochs} epochs");

        var histories = members.Select(m => new TrainingHistory(m.Records, m.Reason, m.Message, m.Elapsed, m.Steps)).ToArray();
        return new EnsembleHistory(histories, clock.Elapsed, step);

        // Full batch: an epoch is one stacked L-BFGS step (up to max_iter iterations) over each member's whole training set.
        void RunLbfgs()
        {
            var o = _optimizer.Settings;
            using var lbfgs = new StackedLbfgs(_stack, o.LearningRate, o.HistorySize, o.MaxIterations, o.ToleranceGrad, o.ToleranceChange);
            for (int epoch = 1; epoch <= Spec.Epochs && members.Any(m => m.Active); epoch++)
            {
                _stack.train();
                if (Schedule is not null) _optimizer.LearningRate = Schedule.At(epoch - 1);
                for (int k = 0; k < K; k++) lbfgs.SetLearningRate(k, _optimizer.LearningRate * factors[k]);
                double[] losses;
                using (NewDisposeScope())
                {
                    var first = lbfgs.Step(() =>
                    {
                        var perMember = MemberLosses(forward(features), targets);
                        perMember.sum().backward();
                        _optimizer.AfterBackward?.Invoke();
                        return perMember;
                    });
                    losses = ToDoubles(first);
                    if (anyStopped)
                        using (no_grad()) CopyWhere(stoppedMask, frozen, ps);
                }
                step++;
                foreach (var m in Active())
                {
                    m.Steps++;
                    m.LossSum += losses[m.Index] * n;
                }
                lossCount += n;

                if (Spec.StopOnNonFiniteLoss)
                    foreach (var m in Active().Where(m => !double.IsFinite(losses[m.Index])).ToArray())
                        Stop(m, StopReason.NonFiniteLoss, $"the loss became {losses[m.Index]} at epoch {epoch}; the weights of the last finite epoch were kept", restoreLastGood: true);
                if (cancel.IsCancellationRequested)
                {
                    foreach (var m in Active().ToArray()) Stop(m, StopReason.Interrupted, $"interrupted at epoch {epoch}");
                    break;
                }
                // Recorded before a converged member stops, so its last epoch appears in its history.
                if (members.Any(m => m.Active)) EndPeriod(epoch);
                bool[] converged = lbfgs.Converged;
                foreach (var m in Active().Where(m => converged[m.Index]).ToArray())
                    Stop(m, StopReason.Converged, $"L-BFGS converged at epoch {epoch} (gradient, loss change or step below tolerance)");
                if (Spec.MaxSeconds is { } budget && clock.Elapsed.TotalSeconds >= budget)
                    foreach (var m in Active().ToArray()) Stop(m, StopReason.TimeBudget, $"time budget of {budget:0.#} s used after epoch {epoch}");
                // A stopped member may have had its best weights put back: L-BFGS must not continue from there.
                foreach (var m in members.Where(m => !m.Active)) lbfgs.Exclude(m.Index);
            }
        }
    }

    /// <summary>Each member's mean loss, [K]; the same reductions as <see cref="Losses.Losses.Compute"/> per member.</summary>
    private Tensor MemberLosses(Tensor output, Tensor target)
    {
        long K = output.shape[0];
        if (_loss == LossKind.CrossEntropy)
        {
            long b = output.shape[1], classes = output.shape[2];
            return nn.functional.cross_entropy(output.reshape(b * K, classes), target.reshape(b * K), reduction: nn.Reduction.None).view(K, b).mean([1L]);
        }
        if (!output.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"{_loss.Name()}: prediction [{string.Join(", ", output.shape)}] and target [{string.Join(", ", target.shape)}] must have the same shape");
        var perElement = _loss switch
        {
            LossKind.Mse => output.sub(target).square(),
            LossKind.Mae => output.sub(target).abs(),
            LossKind.Huber => nn.functional.huber_loss(output, target, Spec.HuberDelta, nn.Reduction.None),
            _ => throw new ArgumentOutOfRangeException(nameof(Spec.Loss), _loss, null),
        };
        return perElement.mean([1L, 2L]);
    }

    private static double[] ToDoubles(Tensor t)
    {
        using var d = t.to(ScalarType.Float64);
        return d.data<double>().ToArray();
    }

    /// <summary>Scales member k's gradients by maxNorm/norm_k where its own global norm exceeds maxNorm (as GradientClipping.ByGlobalNorm per member).</summary>
    private static void ClipNormPerMember(IReadOnlyList<Parameter> ps, double maxNorm)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor? squares = null;
        foreach (var p in ps)
        {
            if (p.grad is not { } g) continue;
            var s = g.to(ScalarType.Float64).square().sum([1L, 2L]);
            squares = squares is null ? s : squares.add_(s);
        }
        if (squares is null) return;
        var norm = squares.sqrt();
        // A non-finite norm leaves that member's gradients alone, as the single-network clipping does.
        var clip = norm.isfinite().logical_and_(norm.gt(maxNorm));
        var factor = torch.where(clip, norm.reciprocal().mul_(maxNorm), torch.ones_like(norm));
        foreach (var p in ps)
        {
            if (p.grad is not { } g) continue;
            g.mul_(factor.to(g.dtype).view(-1, 1, 1));
        }
    }

    private static Tensor Mask(bool[] members, int K) => torch.tensor(members).view(K, 1, 1);

    /// <summary>to[i] ← from[i] on the members where <paramref name="mask"/> ([K, 1, 1]) is true.</summary>
    private static void CopyWhere(Tensor mask, IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < to.Count; i++) to[i].copy_(torch.where(mask, from[i], to[i]));
    }

    private static void CopyMember(IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to, int k)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < to.Count; i++) to[i][k].copy_(from[i][k]);
    }

    private (Tensor Features, Tensor Targets) Stack(IReadOnlyList<Dataset> sets, string what)
    {
        if (sets.Count != _stack.Members) throw new ArgumentException($"{sets.Count} {what} sets for {_stack.Members} members");
        for (int k = 0; k < sets.Count; k++)
        {
            ArgumentNullException.ThrowIfNull(sets[k], nameof(sets));
            if (sets[k].Count != sets[0].Count) throw new ArgumentException($"{what} sets must have equal sizes (member 0 has {sets[0].Count} rows, member {k} {sets[k].Count})");
        }
        return (torch.stack(sets.Select(s => s.Features).ToArray()), torch.stack(sets.Select(s => s.Targets).ToArray()));
    }

    private void CheckData(Tensor x, Tensor y, string what)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        long K = _stack.Members;
        var spec = _stack.Spec;
        if (x.dim() != 3 || x.shape[0] != K || x.shape[2] != spec.Inputs)
            throw new ArgumentException($"{what} features must be [{K}, n, {spec.Inputs}] (got [{string.Join(", ", x.shape)}])");
        if (x.dtype != _stack.DType) throw new ArgumentException($"{what} features are {x.dtype}, the stack is {_stack.DType}");
        bool classes = _loss == LossKind.CrossEntropy;
        bool ok = classes
            ? y.dim() == 2 && y.dtype == ScalarType.Int64 && y.shape[0] == K && y.shape[1] == x.shape[1]
            : y.dim() == 3 && y.dtype == _stack.DType && y.shape[0] == K && y.shape[1] == x.shape[1] && y.shape[2] == spec.Outputs;
        if (!ok)
            throw new ArgumentException(classes
                ? $"{what} targets must be [{K}, {x.shape[1]}] int64 class indices (got [{string.Join(", ", y.shape)}] {y.dtype})"
                : $"{what} targets must be [{K}, {x.shape[1]}, {spec.Outputs}] {_stack.DType} (got [{string.Join(", ", y.shape)}] {y.dtype})");
    }
}
