using System.Diagnostics;
using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Logging;
using Deqn.Training.Losses;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Loop;

/// <summary>
/// The one training loop: minibatches, optimizer steps, validation, callbacks and loggers. It owns every tensor's
/// lifetime (a dispose scope per step and per evaluation), so callers never write <c>using</c> for tensors.
/// </summary>
public sealed class Trainer
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Optimizer _optimizer;

    public Trainer(nn.Module<Tensor, Tensor> model, Optimizer optimizer, TrainingSpec spec)
    {
        spec.Validate();
        _model = model;
        _optimizer = optimizer;
        Spec = spec;
    }

    public TrainingSpec Spec { get; }
    public ILearningRateSchedule? Schedule { get; init; }
    public IList<ICallback> Callbacks { get; init; } = new List<ICallback>();
    public IList<ITrainingLogger> Loggers { get; init; } = new List<ITrainingLogger>();

    /// <summary>
    /// Extra validation metrics, computed from the model's output and the targets of the whole validation set
    /// (e.g. rmse and r2, or accuracy); keys are prefixed with "val_".
    /// </summary>
    public Func<Tensor, Tensor, IReadOnlyDictionary<string, double>>? ValidationMetrics { get; init; }

    /// <summary>Runs training. The model ends with the weights callbacks chose (e.g. the best epoch's).</summary>
    public TrainingHistory Fit(Dataset train, Dataset? validation = null, CancellationToken cancel = default)
    {
        if (train.Count == 0) throw new ArgumentException("the training set is empty");
        var clock = Stopwatch.StartNew();
        using var generator = new Generator((ulong)Spec.Seed);
        if (_model is Network net) net.DropoutGenerator = generator;
        var context = new TrainingContext(_model, _optimizer, Spec.Epochs);
        var history = new List<EpochRecord>();
        using var lastGood = WeightSnapshot.Take(_model);
        var lossKind = Spec.Loss ?? (train.IsClassification ? LossKind.CrossEntropy : LossKind.Mse);
        Func<Tensor, Tensor> forward = lossKind == LossKind.CrossEntropy && _model is Network n ? n.Logits : _model.forward;
        var namedWeights = _model.named_parameters().Where(p => p.parameter.dim() >= 2).ToArray();
        var gradientNorms = new Dictionary<string, double>();
        bool wantNorms = Spec.LogGradientNorms && Loggers.Count > 0;
        bool captureNorms = false;

        _optimizer.AfterBackward = () =>
        {
            if (Spec.ClipValue is { } v) GradientClipping.ByValue(_optimizer.Parameters, v);
            if (Spec.ClipNorm is { } c) GradientClipping.ByGlobalNorm(_optimizer.Parameters, c);
            if (captureNorms)
            {
                // Norms before clipping would hide the explosion we want to show; after clipping they show what was applied.
                foreach (var (name, p) in namedWeights)
                    if (p.grad is { } g) gradientNorms[$"grad_norm/{name}"] = g.norm().ToDouble();
            }
        };

        int stepsPerEpoch = Spec.BatchSize <= 0 || Spec.BatchSize >= train.Count ? 1 : (train.Count + Spec.BatchSize - 1) / Spec.BatchSize;
        int periodsPlanned = Spec.ValidateEverySteps > 0 ? (int)Math.Ceiling((double)Spec.Epochs * stepsPerEpoch / Spec.ValidateEverySteps) : Spec.Epochs;
        foreach (var logger in Loggers) logger.Begin(periodsPlanned);
        foreach (var cb in Callbacks) cb.OnTrainBegin(context);

        double lossSum = 0;
        long lossCount = 0;
        int period = 0;
        long step = 0;
        StopReason? stop = null;
        string stopMessage = "";

        void EndPeriod(double epochPosition)
        {
            period++;
            context.Epoch = period;
            context.Step = step;
            var metrics = new Dictionary<string, double>
            {
                ["loss"] = lossCount > 0 ? lossSum / lossCount : double.NaN,
                ["lr"] = _optimizer.LearningRate,
            };
            // With evaluations every k steps, rows are no longer epochs: say how far into training each one is.
            if (Spec.ValidateEverySteps > 0) metrics["epochs"] = epochPosition;
            lossSum = 0;
            lossCount = 0;
            if (validation is not null && validation.Count > 0) Evaluate(validation, forward, lossKind, metrics);
            context.SetMetrics(metrics);
            foreach (var cb in Callbacks) cb.OnEpochEnd(context);

            var logged = new Dictionary<string, double>(metrics);
            foreach (var (k, v) in gradientNorms) logged[k] = v;
            foreach (var logger in Loggers) logger.LogScalars(period, logged);
            if (Spec.HistogramEvery > 0 && period % Spec.HistogramEvery == 0 && Loggers.Count > 0) LogHistograms(period);
            history.Add(new EpochRecord(period, step, clock.Elapsed.TotalSeconds, metrics));

            if (double.IsFinite(metrics["loss"])) lastGood.Refresh(_model);
        }

        for (int epoch = 1; epoch <= Spec.Epochs && stop is null; epoch++)
        {
            foreach (var cb in Callbacks) cb.OnEpochBegin(context);
            _model.train();
            var batches = MiniBatches.Plan(train.Count, Spec.BatchSize, generator, Spec.Shuffle);
            try
            {
                for (int b = 0; b < batches.Count; b++)
                {
                    captureNorms = wantNorms && b == batches.Count - 1;
                    if (Schedule is not null)
                        _optimizer.LearningRate = Schedule.At(epoch - 1 + (double)b / batches.Count) * context.LearningRateFactor;
                    double loss;
                    using (var scope = NewDisposeScope())
                    {
                        bool full = batches.Count == 1 && batches[b].shape[0] == train.Count;
                        var x = full ? train.Features : train.Features.index_select(0, batches[b]);
                        var y = full ? train.Targets : train.Targets.index_select(0, batches[b]);
                        loss = _optimizer.Step(() =>
                        {
                            var l = Losses.Losses.Compute(lossKind, forward(x), y, Spec.HuberDelta);
                            l.backward();
                            return l.ToDouble();
                        });
                    }
                    step++;
                    context.Step = step;
                    context.BatchLoss = loss;
                    long rows = batches[b].shape[0];
                    lossSum += loss * rows;
                    lossCount += rows;
                    foreach (var cb in Callbacks) cb.OnBatchEnd(context);

                    if (!double.IsFinite(loss) && Spec.StopOnNonFiniteLoss)
                    {
                        lastGood.Restore(_model);
                        stop = StopReason.NonFiniteLoss;
                        stopMessage = $"the loss became {loss} at epoch {epoch}, step {step}; the weights of the last finite epoch were kept";
                        break;
                    }
                    if (context.StopRequested is not null) break;
                    if (cancel.IsCancellationRequested)
                    {
                        stop = StopReason.Interrupted;
                        stopMessage = $"interrupted at epoch {epoch}, step {step}";
                        break;
                    }
                    if (Spec.ValidateEverySteps > 0 && step % Spec.ValidateEverySteps == 0)
                    {
                        EndPeriod(epoch - 1 + (b + 1.0) / batches.Count);
                        if (context.StopRequested is not null) break;
                    }
                }
            }
            finally
            {
                foreach (var t in batches) t.Dispose();
            }
            if (stop is null && Spec.ValidateEverySteps == 0) EndPeriod(epoch);
            if (stop is null && context.StopRequested is { } requested)
            {
                stop = requested;
                stopMessage = context.StopMessage!;
            }
            if (stop is null && Spec.MaxSeconds is { } budget && clock.Elapsed.TotalSeconds >= budget)
            {
                stop = StopReason.TimeBudget;
                stopMessage = $"time budget of {budget:0.#} s used after epoch {epoch}";
            }
        }
        if (stop is null)
        {
            stop = StopReason.MaxEpochs;
            stopMessage = $"ran all {Spec.Epochs} epochs";
        }

        foreach (var cb in Callbacks) cb.OnTrainEnd(context);
        foreach (var logger in Loggers) logger.Finish(stopMessage);
        _optimizer.AfterBackward = null;
        if (_model is Network net2) net2.DropoutGenerator = null;
        _model.eval();
        return new TrainingHistory(history, stop.Value, stopMessage, clock.Elapsed, step);
    }

    private void Evaluate(Dataset validation, Func<Tensor, Tensor> forward, LossKind loss, Dictionary<string, double> metrics)
    {
        _model.eval();
        using (no_grad())
        using (NewDisposeScope())
        {
            var output = forward(validation.Features);
            metrics["val_loss"] = Losses.Losses.Compute(loss, output, validation.Targets, Spec.HuberDelta).ToDouble();
            if (ValidationMetrics is not null)
                foreach (var (k, v) in ValidationMetrics(output, validation.Targets)) metrics[$"val_{k}"] = v;
        }
        _model.train();
    }

    private void LogHistograms(int period)
    {
        foreach (var (name, p) in _model.named_parameters())
        {
            using var scope = NewDisposeScope();
            double[] w = p.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            foreach (var logger in Loggers) logger.LogHistogram(period, $"weights/{name}", w);
            if (p.grad is { } g)
            {
                double[] gv = g.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                foreach (var logger in Loggers) logger.LogHistogram(period, $"gradients/{name}", gv);
            }
        }
    }
}
