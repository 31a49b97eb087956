using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Losses;
using Deqn.Training.Loop;
using Deqn.Training.Logging;
using Deqn.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Ensembles;

/// <summary>What a stacked run did: one <see cref="TrainingHistory"/> per member, as K separate runs would report.</summary>
public sealed record EnsembleHistory(IReadOnlyList<TrainingHistory> Members, TimeSpan Elapsed, long Steps);

/// <summary>
/// Trains the K members of a <see cref="NetworkStack"/> together on the one engine (<see cref="Trainer"/>), each on its
/// own data, as K separate supervised runs would: member k shuffles with its own seed (<see cref="MemberSeeds"/>), has its own
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
/// <para>Callbacks see every member in <see cref="TrainingContext.Members"/> and may stop one
/// (<see cref="TrainingContext.StopMember"/>) or all; each member's metrics go to its own logger. Not supported here:
/// validation metrics other than the loss, and gradient-norm or histogram logging.</para>
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

    /// <summary>Early stopping, applied to each member on its own (null: none). The run ends when every member has stopped.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Callbacks of your own; they see every member's progress in <see cref="TrainingContext.Members"/>.</summary>
    public IList<ICallback> Callbacks { get; init; } = new List<ICallback>();

    /// <summary>One logger per member (history.csv, TensorBoard…), each receiving its member's metrics as a separate run's would.</summary>
    public IReadOnlyList<ITrainingLogger>? MemberLoggers { get; init; }

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
        var loss = Spec.Loss ?? (targets.dtype == ScalarType.Int64 ? LossKind.CrossEntropy : LossKind.Mse);
        CheckData(features, targets, loss, "training");
        if ((validationFeatures is null) != (validationTargets is null)) throw new ArgumentException("validation features and targets must be given together");
        if (validationFeatures is not null) CheckData(validationFeatures, validationTargets!, loss, "validation");
        if (features.shape[1] == 0) throw new ArgumentException("the training set is empty");
        bool hasValidation = validationFeatures is not null && validationFeatures.shape[1] > 0;

        long[] seeds = MemberSeeds?.ToArray() ?? Enumerable.Range(0, members).Select(k => Spec.Seed + k).ToArray();
        if (seeds.Length != members) throw new ArgumentException($"{seeds.Length} member seeds for {members} members");
        double[] factors = LearningRateFactors?.ToArray() ?? Enumerable.Repeat(1.0, members).ToArray();
        if (factors.Length != members) throw new ArgumentException($"{factors.Length} learning-rate factors for {members} members");
        foreach (double f in factors)
            if (!(f >= 0 && double.IsFinite(f))) throw new ArgumentException($"learning-rate factors must be finite and >= 0 (got {OptimizerSpec.Format(f)})");
        if (EarlyStopping is { } early)
        {
            var computed = hasValidation ? new[] { "loss", "lr", "val_loss" } : new[] { "loss", "lr" };
            if (!computed.Contains(early.MonitorKey))
                throw new ArgumentException($"early stopping monitors '{early.MonitorKey}', which a stacked run does not compute (available: {string.Join(", ", computed)})");
        }

        using var workload = new StackWorkload(_stack, _optimizer, Spec, loss, features, targets, validationFeatures, validationTargets, seeds, factors);
        var callbacks = new List<ICallback>();
        if (EarlyStopping is not null) callbacks.Add(EarlyStopping);
        foreach (var c in Callbacks) callbacks.Add(c);
        // L-BFGS trains full batch, one step per epoch, and evaluates after each epoch.
        var spec = _optimizer.Settings.Kind is OptimizerKind.Lbfgs or OptimizerKind.Lm ? Spec with { ValidateEverySteps = 0 } : Spec;
        var engine = new Trainer(_stack, _optimizer, spec with { LogGradientNorms = false, HistogramEvery = 0 })
        {
            Schedule = Schedule,
            Callbacks = callbacks,
            MemberLoggers = MemberLoggers,
        };
        var run = engine.Run(workload, cancel);
        return new EnsembleHistory(run.Members, run.Elapsed, run.Steps);
    }

    private void CheckData(Tensor x, Tensor y, LossKind loss, string what)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        long K = _stack.Members;
        var spec = _stack.Spec;
        if (x.dim() != 3 || x.shape[0] != K || x.shape[2] != spec.Inputs)
            throw new ArgumentException($"{what} features must be [{K}, n, {spec.Inputs}] (got [{string.Join(", ", x.shape)}])");
        if (x.dtype != _stack.DType) throw new ArgumentException($"{what} features are {x.dtype}, the stack is {_stack.DType}");
        bool classes = loss == LossKind.CrossEntropy;
        bool ok = classes
            ? y.dim() == 2 && y.dtype == ScalarType.Int64 && y.shape[0] == K && y.shape[1] == x.shape[1]
            : y.dim() == 3 && y.dtype == _stack.DType && y.shape[0] == K && y.shape[1] == x.shape[1] && y.shape[2] == spec.Outputs;
        if (!ok)
            throw new ArgumentException(classes
                ? $"{what} targets must be [{K}, {x.shape[1]}] int64 class indices (got [{string.Join(", ", y.shape)}] {y.dtype})"
                : $"{what} targets must be [{K}, {x.shape[1]}, {spec.Outputs}] {_stack.DType} (got [{string.Join(", ", y.shape)}] {y.dtype})");
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
}
