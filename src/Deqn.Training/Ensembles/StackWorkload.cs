using Deqn.Training.Data;
using Deqn.Training.Losses;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Ensembles;

/// <summary>
/// K networks of a <see cref="NetworkStack"/> as one workload of the engine, each on its own data, as K separate
/// supervised runs would train: member k shuffles with its own generator, trains with its own multiple of the learning
/// rate, and stays where it is once it stopped. The loss is [K], each member's mean loss; the engine differentiates its
/// sum, so each member's gradient is its own.
/// </summary>
/// <remarks>
/// With L-BFGS an epoch is one full-batch <see cref="StackedLbfgs"/> step (up to max_iter iterations, one line search
/// per member); a member whose L-BFGS converged stops with <see cref="StopReason.Converged"/>.
/// </remarks>
internal sealed class StackWorkload : IWorkload<(long Start, long Length)>, IStackMembers, IDisposable
{
    private readonly NetworkStack _stack;
    private readonly Optimizer _optimizer;
    private readonly TrainingSpec _spec;
    private readonly Tensor _features, _targets;
    private readonly Tensor? _validationFeatures, _validationTargets;
    private readonly Generator[] _generators;
    private readonly double[] _factors;
    private readonly bool _scaled;
    private readonly LossKind _loss;
    private readonly Func<Tensor, Tensor> _forward;
    private readonly int _n;
    private readonly Tensor _factorTensor, _stoppedMask, _offsets, _flatFeatures, _flatTargets;
    private readonly Tensor[] _frozen;
    private readonly StackedLbfgs? _lbfgs;
    private readonly StackedLevenbergMarquardt? _lm;
    // Beyond StackedLevenbergMarquardt.MaxRows training rows, lm fits the first Rows(n) rows (a random subsample: the
    // points are drawn at random) with Levenberg–Marquardt, then L-BFGS continues on all rows.
    private bool _lmPhase;

    public bool TakesOwnSteps => _lm is not null;
    private bool _anyStopped;
    private Tensor _epochFeatures, _epochTargets;

    public StackWorkload(NetworkStack stack, Optimizer optimizer, TrainingSpec spec, LossKind loss, Tensor features, Tensor targets,
        Tensor? validationFeatures, Tensor? validationTargets, IReadOnlyList<long> seeds, IReadOnlyList<double> factors)
    {
        _stack = stack;
        _optimizer = optimizer;
        _spec = spec;
        _loss = loss;
        _features = features;
        _targets = targets;
        _validationFeatures = validationFeatures is not null && validationFeatures.shape[1] > 0 ? validationFeatures : null;
        _validationTargets = _validationFeatures is null ? null : validationTargets;
        _factors = factors.ToArray();
        _scaled = _factors.Any(f => f != 1.0);
        _generators = seeds.Select(s => new Generator((ulong)s)).ToArray();
        _forward = loss == LossKind.CrossEntropy ? stack.Logits : stack.forward;
        int K = stack.Members;
        _n = (int)features.shape[1];
        _factorTensor = torch.tensor(_factors, dtype: stack.DType).view(K, 1, 1).DetachFromDisposeScope();
        _stoppedMask = torch.zeros(K, 1, 1, dtype: ScalarType.Bool).DetachFromDisposeScope();
        _offsets = torch.arange(K, dtype: ScalarType.Int64).mul_(_n).view(K, 1).DetachFromDisposeScope();
        _flatFeatures = features.reshape(K * _n, features.shape[2]).DetachFromDisposeScope();
        _flatTargets = (targets.dim() == 3 ? targets.reshape(K * _n, targets.shape[2]) : targets.reshape(K * _n)).DetachFromDisposeScope();
        using (no_grad()) _frozen = optimizer.Parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
        _epochFeatures = features;
        _epochTargets = targets;
        // Levenberg–Marquardt's n × n system costs n³: beyond MaxRows training rows, lm starts on a subsample of MaxRows
        // rows and L-BFGS (its settings) finishes on all of them.
        bool lm = optimizer.Settings.Kind == OptimizerKind.Lm;
        if (optimizer.Settings.Kind == OptimizerKind.Lbfgs || (lm && _n > StackedLevenbergMarquardt.MaxRows))
        {
            var o = optimizer.Settings;
            _lbfgs = new StackedLbfgs(stack, o.LearningRate, o.HistorySize, o.MaxIterations, o.ToleranceGrad, o.ToleranceChange);
        }
        if (lm)
        {
            _lmPhase = true;
            if (loss != LossKind.Mse) throw new ArgumentException($"lm (Levenberg–Marquardt) fits the mse loss (got {loss.Name()})");
            _lm = new StackedLevenbergMarquardt(stack);
        }
    }

    public int Members => _stack.Members;

    public bool HasValidation => _validationFeatures is not null;

    public double Factor(int member) => _factors[member];

    public void Begin(TrainingContext context) => _stack.DropoutGenerators = _generators;

    public IReadOnlyList<((long Start, long Length) Batch, double Weight)> Batches(TrainingContext context)
    {
        _stack.train();
        if (_lbfgs is not null || _lm is not null) return [((0, _n), _n)];
        var plans = _generators.Select(g => MiniBatches.Plan(_n, _spec.BatchSize, g, _spec.Shuffle)).ToArray();
        long[] lengths = plans[0].Select(b => b.shape[0]).ToArray();
        _epochFeatures = _features;
        _epochTargets = _targets;
        if (!(lengths.Length == 1 && lengths[0] == _n))
        {
            // One gather per epoch puts each member's rows in its own shuffled order; a batch is then a view.
            var order = torch.stack(plans.Select(p => torch.cat(p.ToArray())).ToArray()).add_(_offsets).view(-1);
            _epochFeatures = _flatFeatures.index_select(0, order).view(_features.shape);
            _epochTargets = _flatTargets.index_select(0, order).view(_targets.shape);
        }
        foreach (var plan in plans)
            foreach (var t in plan) t.Dispose();
        var batches = new List<((long, long), double)>(lengths.Length);
        long start = 0;
        foreach (var length in lengths)
        {
            batches.Add(((start, length), length));
            start += length;
        }
        return batches;
    }

    public Tensor Loss((long Start, long Length) rows)
    {
        bool whole = rows.Start == 0 && rows.Length == _n;
        var x = whole ? _epochFeatures : _epochFeatures.narrow(1, rows.Start, rows.Length);
        var y = whole ? _epochTargets : _epochTargets.narrow(1, rows.Start, rows.Length);
        return MemberLosses(_forward(x), y);
    }

    public double[]? TakeStep((long Start, long Length) rows, TrainingContext context)
    {
        var ps = _optimizer.Parameters;
        double[] losses;
        if (_lm is not null && _lmPhase && _lbfgs is not null)
        {
            // The epoch's loss is on all rows, as the L-BFGS epochs that follow report it.
            using (no_grad()) losses = ToDoubles(MemberLosses(_forward(_features), _targets));
            int m = StackedLevenbergMarquardt.Rows(_n);
            _lm.Step(_features.narrow(1, 0, m), _targets.narrow(1, 0, m));
        }
        else if (_lm is not null && _lmPhase)
        {
            losses = _lm.Step(_features, _targets);
        }
        else if (_lbfgs is not null)
        {
            for (int k = 0; k < _factors.Length; k++) _lbfgs.SetLearningRate(k, _optimizer.LearningRate * _factors[k]);
            var first = _lbfgs.Step(() =>
            {
                var perMember = Loss(rows);
                perMember.sum().backward();
                _optimizer.AfterBackward?.Invoke();
                return perMember;
            });
            losses = ToDoubles(first);
        }
        else
        {
            Tensor[]? before = _scaled ? Copy() : null;
            losses = [];
            _optimizer.Step(() =>
            {
                var perMember = Loss(rows);
                var total = perMember.sum();
                total.backward();
                losses = ToDoubles(perMember.detach());
                return total.ToDouble();
            });
            // w_old + f·(w_new − w_old): the increment of a run with learning rate f·lr.
            if (before is not null)
                using (no_grad())
                    for (int i = 0; i < ps.Count; i++) ps[i].sub_(before[i]).mul_(_factorTensor).add_(before[i]);
        }
        if (_anyStopped)
            using (no_grad()) CopyWhere(_stoppedMask, _frozen, ps);
        return losses;
    }

    public void EndEpoch(TrainingContext context)
    {
        if (_lm is not null && _lmPhase)
        {
            bool[] done = _lm.Converged;
            if (_lbfgs is null)
            {
                foreach (var m in context.Members)
                    if (m.Active && done[m.Index])
                        context.StopMember(m.Index, StopReason.Converged, $"Levenberg–Marquardt converged at epoch {context.CompletedEpoch} (loss stalled, at its floor, or no damping lowers it)");
                return;
            }
            // On a subsample: L-BFGS on all rows takes over once every member's fit has converged, or when the subsample's
            // share of the epochs is used (StackedLevenbergMarquardt.SubsampleEpochFactor).
            if (context.Members.Where(m => m.Active).All(m => done[m.Index]) || StackedLevenbergMarquardt.SubsampleEpochsUsed(context.CompletedEpoch, context.TotalEpochs))
                _lmPhase = false;
            return;
        }
        if (_lbfgs is null) return;
        bool[] converged = _lbfgs.Converged;
        foreach (var m in context.Members)
            if (m.Active && converged[m.Index])
                context.StopMember(m.Index, StopReason.Converged, $"L-BFGS converged at epoch {context.CompletedEpoch} (gradient, loss change or step below tolerance)");
    }

    public void Evaluate(TrainingContext context, IReadOnlyList<Dictionary<string, double>?> metrics)
    {
        if (_validationFeatures is null) return;
        _stack.eval();
        double[] valLoss;
        using (no_grad())
        using (NewDisposeScope())
            valLoss = ToDoubles(MemberLosses(_forward(_validationFeatures), _validationTargets!));
        _stack.train();
        for (int k = 0; k < metrics.Count; k++)
            if (metrics[k] is { } m) m["val_loss"] = valLoss[k];
    }

    /// <summary>Holds a stopped member where it is: later steps are undone on its slice, and L-BFGS leaves it out.</summary>
    public void Freeze(int member)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ps = _optimizer.Parameters;
        for (int i = 0; i < ps.Count; i++) _frozen[i][member].copy_(ps[i][member]);
        _stoppedMask[member].fill_(true);
        _anyStopped = true;
        _lbfgs?.Exclude(member);
        _lm?.Exclude(member);
    }

    public void End(TrainingContext context)
    {
        _stack.DropoutGenerators = null;
        _stack.eval();
    }

    public void Dispose()
    {
        foreach (var g in _generators) g.Dispose();
        foreach (var t in _frozen) t.Dispose();
        foreach (var t in new[] { _factorTensor, _stoppedMask, _offsets, _flatFeatures, _flatTargets }) t.Dispose();
        _lbfgs?.Dispose();
        _lm?.Dispose();
    }

    private Tensor[] Copy()
    {
        using var _ = no_grad();
        return _optimizer.Parameters.Select(p => p.detach().clone()).ToArray();
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
            LossKind.Huber => nn.functional.huber_loss(output, target, _spec.HuberDelta, nn.Reduction.None),
            _ => throw new ArgumentOutOfRangeException(nameof(_loss), _loss, null),
        };
        return perElement.mean([1L, 2L]);
    }

    private static double[] ToDoubles(Tensor t)
    {
        using var d = t.to(ScalarType.Float64);
        return d.data<double>().ToArray();
    }

    /// <summary>to[i] ← from[i] on the members where <paramref name="mask"/> ([K, 1, 1]) is true.</summary>
    private static void CopyWhere(Tensor mask, IReadOnlyList<Tensor> from, IReadOnlyList<Tensor> to)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < to.Count; i++) to[i].copy_(torch.where(mask, from[i], to[i]));
    }
}
