using System.Diagnostics;
using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Logging;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Supervised;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Loop;

/// <summary>
/// The one training engine. It owns the step (dispose scope, loss, backward, clipping, optimizer, learning rate), the
/// epochs and evaluation points, the stop reasons, the history, callbacks and loggers; what is trained comes from an
/// <see cref="IWorkload{TBatch}"/>: supervised minibatches, a stack of K networks, or a DEQN episode.
/// </summary>
/// <remarks>
/// The learning rate has one writer: before every step the engine sets it to schedule(position) × the factor that
/// plateau callbacks accumulated (<see cref="TrainingContext.ScaleLearningRate"/>). Without a schedule the schedule is
/// the optimizer's initial rate. Callbacks run at evaluation points (<see cref="ICallback.OnEpochEnd"/>): every
/// <see cref="TrainingSpec.EvaluateEvery"/> epochs, or every <see cref="TrainingSpec.ValidateEverySteps"/> steps.
/// </remarks>
public sealed class Trainer
{
    private readonly nn.Module _model;
    private readonly Optimizer _optimizer;

    public Trainer(nn.Module model, Optimizer optimizer, TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        spec.Validate();
        _model = model;
        _optimizer = optimizer;
        Spec = spec;
    }

    public TrainingSpec Spec { get; }
    public ILearningRateSchedule? Schedule { get; init; }

    /// <summary>
    /// The processes of a data-parallel run (<see cref="Distributed.OpenMpi"/>): each computes the loss on its own
    /// batches, and after every backward pass the gradients and the loss are averaged over them, so every process takes
    /// the same step and the learning rate means what it means on one process. Stops (Ctrl-C, time budget) are agreed on
    /// after each epoch so that no process waits for another that left. One network only.
    /// </summary>
    public Distributed.IProcessGroup Group { get; init; } = Distributed.SingleProcess.Instance;
    public IList<ICallback> Callbacks { get; init; } = new List<ICallback>();

    /// <summary>The run's loggers (for a stack: member 0's, unless <see cref="MemberLoggers"/> are given).</summary>
    public IList<ITrainingLogger> Loggers { get; init; } = new List<ITrainingLogger>();

    /// <summary>For a stack: one logger per member, each receiving its member's metrics as a separate run would.</summary>
    public IReadOnlyList<ITrainingLogger>? MemberLoggers { get; init; }

    /// <summary>
    /// Extra validation metrics for <see cref="Fit"/>, computed from the model's output and the targets of the whole
    /// validation set (e.g. rmse and r2, or accuracy); keys are prefixed with "val_".
    /// </summary>
    public Func<Tensor, Tensor, IReadOnlyDictionary<string, double>>? ValidationMetrics { get; init; }

    /// <summary>A supervised fit: minibatches of <paramref name="train"/>, validation on <paramref name="validation"/>.</summary>
    public TrainingHistory Fit(Dataset train, Dataset? validation = null, CancellationToken cancel = default)
    {
        if (_model is not nn.Module<Tensor, Tensor> module) throw new ArgumentException("a supervised fit needs a module that maps a tensor to a tensor");
        return Run(new SupervisedWorkload(module, train, validation, Spec) { ValidationMetrics = ValidationMetrics }, cancel).Members[0];
    }

    /// <summary>
    /// Trains <paramref name="workload"/>; the model ends with the weights callbacks chose (e.g. the best epoch's).
    /// With <paramref name="resume"/> the run continues an earlier one (its weights, optimizer state and the workload's
    /// own state must already be restored).
    /// </summary>
    public RunHistory Run<TBatch>(IWorkload<TBatch> workload, CancellationToken cancel = default, TrainingResume? resume = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return new EngineRun<TBatch>(this, _model, _optimizer, workload, cancel, resume).Execute();
    }
}

/// <summary>What a run did, per member (one for a single network), and in total.</summary>
public sealed record RunHistory(IReadOnlyList<TrainingHistory> Members, TimeSpan Elapsed, long Steps, int LastEpoch)
{
    /// <summary>The single network's history (member 0 of a stack).</summary>
    public TrainingHistory Single => Members[0];
}

/// <summary>One execution of the engine; holds the loop's state so that the phases read as methods.</summary>
internal sealed class EngineRun<TBatch>
{
    private readonly Trainer _trainer;
    private readonly nn.Module _model;
    private readonly Optimizer _optimizer;
    private readonly IWorkload<TBatch> _workload;
    private readonly CancellationToken _cancel;
    private readonly TrainingSpec _spec;
    private readonly ILearningRateSchedule _schedule;
    private readonly TrainingContext _context;
    private readonly ITrainingLogger[] _memberLoggers;
    private readonly int _members;
    private readonly Stopwatch _clock = new();
    private readonly double _secondsBefore;
    private readonly int _firstEpoch;
    private readonly (string Name, Tensor Weight)[] _namedWeights;
    private readonly Dictionary<string, double> _gradientNorms = new();
    private WeightSnapshot? _lastGood;
    private readonly Distributed.IProcessGroup _group;
    private bool _captureNorms;
    private long _step;
    private int _completedEpoch;

    public EngineRun(Trainer trainer, nn.Module model, Optimizer optimizer, IWorkload<TBatch> workload, CancellationToken cancel, TrainingResume? resume)
    {
        _trainer = trainer;
        _model = model;
        _optimizer = optimizer;
        _workload = workload;
        _cancel = cancel;
        _spec = trainer.Spec;
        _members = workload.Members;
        _group = trainer.Group;
        if (_group.Size > 1 && _members > 1) throw new ArgumentException("a data-parallel run trains one network, not a stack");
        _schedule = trainer.Schedule ?? new ConstantRate(optimizer.LearningRate);
        if (optimizer is LevenbergMarquardt && !workload.TakesOwnSteps)
        {
            if (workload is not ILeastSquaresWorkload<TBatch> leastSquares)
                throw new ArgumentException("optimizer lm (Levenberg–Marquardt) needs a loss that is a sum of squares (a regression's mse, a solve's equations); use adam or lbfgs here");
            if (leastSquares.LeastSquaresRefusal is { } why) throw new ArgumentException($"optimizer lm (Levenberg–Marquardt): {why}");
            if (_group.Size > 1 && workload is not IGathersLeastSquares)
                throw new ArgumentException("optimizer lm (Levenberg–Marquardt) trains on one process here; use adam for a data-parallel run");
        }
        var runLogger = trainer.Loggers.Count switch
        {
            0 => (ITrainingLogger)NullLogger.Instance,
            1 => trainer.Loggers[0],
            _ => new CompositeLogger(trainer.Loggers.ToArray()),
        };
        if (trainer.MemberLoggers is { } perMember && perMember.Count != _members)
            throw new ArgumentException($"{perMember.Count} member loggers for {_members} members");
        _memberLoggers = Enumerable.Range(0, _members)
            .Select(k => trainer.MemberLoggers?[k] ?? (k == 0 ? runLogger : NullLogger.Instance)).ToArray();
        _context = new TrainingContext(model, optimizer, _spec.Epochs, _members, _memberLoggers[0]);
        _namedWeights = model.named_parameters().Where(p => p.parameter.dim() >= 2).Select(p => (p.name, (Tensor)p.parameter)).ToArray();
        if (resume is not null)
        {
            _firstEpoch = resume.Epoch + 1;
            _step = resume.Steps;
            _secondsBefore = resume.Seconds;
            _completedEpoch = resume.Epoch;
            _context.CompletedEpoch = resume.Epoch;
            _context.LearningRateFactor = resume.LearningRateFactor;
            _context.Members[0].History.AddRange(resume.History);
            if (resume.History.Count > 0) _context.SetMetrics(0, resume.History[^1].Metrics);
        }
        else
        {
            _firstEpoch = 1;
        }
        _context.Step = _step;
        _context.Epoch = _completedEpoch;
        _context.CompletedEpoch = _completedEpoch;
        _context.SecondsClock = () => Seconds;
        _context.Unit = _spec.Unit;
    }

    private double Seconds => _secondsBefore + _clock.Elapsed.TotalSeconds;

    public RunHistory Execute()
    {
        _clock.Start();
        if (_spec.StopOnNonFiniteLoss) _lastGood = WeightSnapshot.Take(_model);
        var parameters = _optimizer.Parameters;
        _optimizer.AfterBackward = () =>
        {
            if (_spec.ClipValue is { } v) GradientClipping.ByValue(parameters, v);
            if (_spec.ClipNorm is { } c)
            {
                if (_members == 1) GradientClipping.ByGlobalNorm(parameters, c);
                else GradientClipping.ByGlobalNormPerMember(parameters, c);
            }
            if (_captureNorms)
            {
                // Norms before clipping would hide the explosion we want to show; after clipping they show what was applied.
                foreach (var (name, p) in _namedWeights)
                    if (p.grad is { } g) _gradientNorms[$"grad_norm/{name}"] = g.norm().ToDouble();
            }
        };
        TorchEngine.AvoidBackgroundCollections();
        try
        {
            foreach (var logger in _memberLoggers.Distinct()) logger.Begin(PlannedEvaluations());
            _workload.Begin(_context);
            foreach (var cb in _trainer.Callbacks) cb.OnTrainBegin(_context);
            for (int epoch = _firstEpoch; epoch <= _spec.Epochs && _context.AnyActive; epoch++)
            {
                if (!_workload.InterruptibleWithinEpoch && Agreed(_cancel.IsCancellationRequested))
                {
                    StopAll(StopReason.Interrupted, $"interrupted after {_spec.Unit} {epoch - 1}");
                    break;
                }
                if (!RunEpoch(epoch)) break;
            }
            foreach (var m in _context.Members.Where(m => m.Active).ToArray())
                StopMember(m, StopReason.MaxEpochs, $"ran all {_spec.Epochs} {_spec.Unit}s");
            // One network stopped between evaluation points (time budget, Ctrl-C between episodes): evaluate where it ended.
            if (_members == 1 && _completedEpoch >= _firstEpoch && _context.Members[0].LastEvaluatedEpoch != _completedEpoch && _context.Members[0].StopReason is not StopReason.NonFiniteLoss
                && _spec.ValidateEverySteps == 0)
            {
                EndPeriod(_completedEpoch, _completedEpoch, final: true);
            }
            foreach (var cb in _trainer.Callbacks) cb.OnTrainEnd(_context);
            _workload.End(_context);
            for (int k = 0; k < _members; k++)
            {
                var m = _context.Members[k];
                if (k == 0 || !ReferenceEquals(_memberLoggers[k], _memberLoggers[0])) _memberLoggers[k].Finish(m.StopMessage);
            }
        }
        finally
        {
            _optimizer.AfterBackward = null;
            _lastGood?.Dispose();
            _clock.Stop();
        }
        var histories = _context.Members
            .Select(m => new TrainingHistory(m.History.ToArray(), m.StopReason ?? StopReason.MaxEpochs, m.StopMessage, TimeSpan.FromSeconds(m.Seconds), m.Steps))
            .ToArray();
        return new RunHistory(histories, TimeSpan.FromSeconds(Seconds), _step, _completedEpoch);
    }

    /// <summary>Evaluation points a run plans (a progress display's total): epochs, or periods of k steps.</summary>
    private int PlannedEvaluations() =>
        _spec.ValidateEverySteps > 0 && _workload.StepsPerEpoch is int steps
            ? (int)((long)_spec.Epochs * steps / _spec.ValidateEverySteps)
            : _spec.Epochs;

    /// <summary>One epoch: its batches, then an evaluation when one is due. False when the run stops.</summary>
    private bool RunEpoch(int epoch)
    {
        // With evaluations every k steps, context.Epoch counts evaluation periods (set in EndPeriod), as history rows do.
        if (_spec.ValidateEverySteps == 0) _context.Epoch = epoch;
        foreach (var cb in _trainer.Callbacks) cb.OnEpochBegin(_context);
        bool due = EvaluationDue(epoch);
        bool interrupted = false;
        // "loss" is the mean over the evaluated epoch's batches (with evaluations every k steps, over the period's).
        if (_spec.ValidateEverySteps == 0)
            foreach (var m in _context.Members) (m.LossSum, m.LossWeight) = (0, 0);
        using (var epochScope = NewDisposeScope())
        {
            var batches = _workload.Batches(_context);
            for (int b = 0; b < batches.Count; b++)
            {
                _captureNorms = _spec.LogGradientNorms && _members == 1 && b == batches.Count - 1 && (due || _spec.ValidateEverySteps > 0);
                _optimizer.LearningRate = _schedule.At(_spec.SchedulePerStep ? epoch - 1 + (double)b / batches.Count : epoch - 1) * _context.LearningRateFactor;
                var (batch, weight) = batches[b];
                double[] losses = Step(batch);
                _step++;
                _context.Step = _step;
                double total = 0;
                foreach (var m in _context.Members)
                {
                    if (!m.Active) continue;
                    m.Steps++;
                    m.LossSum += losses[m.Index] * weight;
                    m.LossWeight += weight;
                    total += losses[m.Index];
                }
                _context.BatchLoss = total;
                foreach (var cb in _trainer.Callbacks) cb.OnBatchEnd(_context);

                if (_spec.StopOnNonFiniteLoss && !losses.All(double.IsFinite))
                {
                    foreach (var m in _context.Members.Where(m => m.Active && !double.IsFinite(losses[m.Index])).ToArray())
                    {
                        string why = _workload.DescribeNonFiniteLoss(batch, m.Index);
                        _lastGood!.Restore(_model, _members == 1 ? null : m.Index);
                        StopMember(m, StopReason.NonFiniteLoss,
                            $"the loss became {losses[m.Index]} at {_spec.Unit} {epoch}, step {m.Steps}{(why.Length > 0 ? " " + why : "")}; the weights of the last finite {_spec.Unit} were kept");
                    }
                }
                if (!_context.AnyActive) return false;
                if (_context.StopRequested is not null) break;
                if (_workload.InterruptibleWithinEpoch && _cancel.IsCancellationRequested)
                {
                    StopAll(StopReason.Interrupted, $"interrupted at {_spec.Unit} {epoch}, step {_step}");
                    interrupted = true;
                    break;
                }
                if (_spec.ValidateEverySteps > 0 && _step % _spec.ValidateEverySteps == 0)
                {
                    EndPeriod(epoch, epoch - 1 + (b + 1.0) / batches.Count, final: false);
                    ApplyMemberStops();
                    if (_context.StopRequested is not null || !_context.AnyActive) break;
                }
            }
            if (interrupted) return false;
            _completedEpoch = epoch;
            _context.CompletedEpoch = epoch;
            if (_spec.ValidateEverySteps == 0 && due) EndPeriod(epoch, epoch, final: false);
            _workload.EndEpoch(_context);
        }
        ApplyMemberStops();
        if (_context.StopRequested is { } requested)
        {
            StopAll(requested, _context.StopMessage!);
            return false;
        }
        if (_spec.MaxSeconds is { } budget && AgreedSeconds() >= budget)
        {
            StopAll(StopReason.TimeBudget, $"time budget of {budget:0.#} s used after {_spec.Unit} {epoch}");
            return false;
        }
        return _context.AnyActive;
    }

    private bool EvaluationDue(int epoch) =>
        _spec.EvaluateEvery <= 1 || epoch % _spec.EvaluateEvery == 0 || epoch == _spec.Epochs || epoch == 1;

    /// <summary>Forward, backward (clipping inside the optimizer's hook) and the update, in the step's own dispose scope.</summary>
    private double[] Step(TBatch batch)
    {
        var losses = new double[_members];
        using (NewDisposeScope())
        {
            if (_workload.TakeStep(batch, _context) is { } own) return own;
            if (_optimizer is LevenbergMarquardt lm) return [LeastSquaresStep(lm, (ILeastSquaresWorkload<TBatch>)_workload, batch)];
            double first = _optimizer.Step(() =>
            {
                var loss = _workload.Loss(batch);
                if (_members == 1)
                {
                    loss.backward();
                    return _group.Size > 1 ? AverageOverProcesses(loss.ToDouble()) : loss.ToDouble();
                }
                loss.sum().backward();
                using var values = loss.detach().to(ScalarType.Float64).cpu();
                values.data<double>().CopyTo(losses);
                return losses.Sum();
            });
            if (_members == 1) losses[0] = first;
        }
        return losses;
    }

    /// <summary>
    /// A Levenberg–Marquardt step on the batch's residuals; the loss before it, as a gradient step reports. A batch whose
    /// loss is not finite is left for the non-finite check; one already at zero has nothing to fit.
    /// </summary>
    private static double LeastSquaresStep(LevenbergMarquardt lm, ILeastSquaresWorkload<TBatch> workload, TBatch batch)
    {
        double loss = workload.LossAt(batch);
        if (!double.IsFinite(loss) || loss == 0) return loss;
        using var system = workload.Linearize(batch);
        lm.Step(system, workload.Columns, loss, () => workload.LossAt(batch), workload.LossPerSquare(batch));
        return loss;
    }

    /// <summary>
    /// Replaces each parameter's gradient by its mean over the processes and returns the mean loss: one allreduce of
    /// all gradients and the loss packed into one float64 buffer.
    /// </summary>
    private double AverageOverProcesses(double loss)
    {
        var grads = _optimizer.Parameters.Where(p => p.grad is not null).Select(p => p.grad!).ToArray();
        var values = new double[grads.Sum(g => g.numel()) + 1];
        if (grads.Length > 0)
        {
            using var flat = torch.cat(grads.Select(g => g.detach().reshape(-1).to(ScalarType.Float64).cpu()).ToArray()).contiguous();
            flat.data<double>().CopyTo(values, 0);
        }
        values[^1] = loss;
        _group.AllreduceSum(values);
        double scale = 1.0 / _group.Size;
        for (int i = 0; i < values.Length; i++) values[i] *= scale;
        using var means = torch.tensor(values, dtype: ScalarType.Float64);
        long at = 0;
        foreach (var g in grads)
        {
            g.copy_(means.narrow(0, at, g.numel()).view(g.shape));
            at += g.numel();
        }
        return values[^1];
    }

    /// <summary>True when any process says so (each process's Ctrl-C reaches it at its own time).</summary>
    private bool Agreed(bool mine)
    {
        if (_group.Size == 1) return mine;
        Span<double> flag = [mine ? 1 : 0];
        _group.AllreduceMax(flag);
        return flag[0] > 0;
    }

    /// <summary>The run's seconds as the slowest process counts them, so that a time budget stops all processes at once.</summary>
    private double AgreedSeconds()
    {
        if (_group.Size == 1) return Seconds;
        Span<double> seconds = [Seconds];
        _group.AllreduceMax(seconds);
        return seconds[0];
    }

    /// <summary>An evaluation point: metrics, callbacks, loggers and the history row of every active member.</summary>
    private void EndPeriod(int epoch, double position, bool final)
    {
        bool pause = _spec.ClockExcludesEvaluation;
        double seconds = Seconds;
        if (pause) _clock.Stop();
        try
        {
            var metrics = new Dictionary<string, double>?[_members];
            foreach (var m in _context.Members)
            {
                // The closing evaluation of a run that stopped between evaluation points is of the one network, stopped by then.
                if (!m.Active && !(final && m.Index == 0)) continue;
                metrics[m.Index] = new Dictionary<string, double>
                {
                    ["loss"] = m.LossWeight > 0 ? m.LossSum / m.LossWeight : double.NaN,
                    ["lr"] = _optimizer.LearningRate * MemberFactor(m.Index),
                };
                if (_spec.ValidateEverySteps > 0) metrics[m.Index]!["epochs"] = position;
                m.LossSum = 0;
                m.LossWeight = 0;
            }
            _workload.Evaluate(_context, metrics);
            foreach (var m in _context.Members)
                if (metrics[m.Index] is { } mm) _context.SetMetrics(m.Index, mm);
            int period = _spec.ValidateEverySteps > 0 ? _context.Members[0].History.Count + 1 : epoch;
            _context.Epoch = period;
            foreach (var cb in _trainer.Callbacks) cb.OnEpochEnd(_context);
            foreach (var m in _context.Members)
            {
                if (metrics[m.Index] is null) continue;
                // Callbacks may have added values (a probe of the policy); the member's metrics are the record.
                var record = new Dictionary<string, double>(m.Metrics);
                if (m.Index == 0)
                    foreach (var (k, v) in _gradientNorms) record[k] = v;
                _memberLoggers[m.Index].LogScalars(period, record);
                m.History.Add(new EpochRecord(period, _members == 1 ? _step : m.Steps, seconds, record));
            }
            if (_spec.HistogramEvery > 0 && period % _spec.HistogramEvery == 0 && _trainer.Loggers.Count > 0 && _members == 1) LogHistograms(period);
            if (_lastGood is not null && !final)
            {
                foreach (var m in _context.Members)
                    if (metrics[m.Index] is { } mm && double.IsFinite(mm["loss"])) _lastGood.Refresh(_model, _members == 1 ? null : m.Index);
            }
        }
        finally
        {
            if (pause) _clock.Start();
        }
    }

    private double MemberFactor(int member) => _workload is IStackMembers rates ? rates.Factor(member) : 1.0;

    /// <summary>Members that callbacks asked to stop (early stopping of one member of a stack) stop now.</summary>
    private void ApplyMemberStops()
    {
        foreach (var m in _context.Members)
            if (m.Active && m.StopReason is { } reason) StopMember(m, reason, m.StopMessage);
    }

    private void StopAll(StopReason reason, string message)
    {
        foreach (var m in _context.Members.Where(m => m.Active).ToArray()) StopMember(m, reason, message);
    }

    private void StopMember(MemberProgress m, StopReason reason, string message)
    {
        m.Active = false;
        m.StopReason = reason;
        m.StopMessage = message;
        m.Seconds = Seconds;
        if (_workload is IStackMembers rates) rates.Freeze(m.Index);
    }

    private void LogHistograms(int period)
    {
        foreach (var (name, p) in _model.named_parameters())
        {
            using var scope = NewDisposeScope();
            double[] w = p.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            foreach (var logger in _trainer.Loggers) logger.LogHistogram(period, $"weights/{name}", w);
            if (p.grad is { } g)
            {
                double[] gv = g.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                foreach (var logger in _trainer.Loggers) logger.LogHistogram(period, $"gradients/{name}", gv);
            }
        }
    }

    private sealed class ConstantRate(double rate) : ILearningRateSchedule
    {
        public double At(double epoch) => rate;
    }
}

/// <summary>
/// A workload whose members train with their own multiple of the learning rate, and whose stopped members must stay
/// where they stopped (a stack of K networks under one optimizer).
/// </summary>
public interface IStackMembers
{
    double Factor(int member);

    /// <summary>Member <paramref name="member"/> stopped: its weights must not change from here on.</summary>
    void Freeze(int member);
}
