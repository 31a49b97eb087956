using Deqn.Training.Data;
using Deqn.Training.Losses;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Supervised;

/// <summary>
/// Supervised minibatches for the engine: each epoch a fresh shuffle of the training rows (from the run's seeded
/// generator, which also drives dropout), the loss between the model's output and the targets, and the validation
/// loss (plus any validation metrics) at each evaluation point.
/// </summary>
public sealed class SupervisedWorkload : ILeastSquaresWorkload<Tensor>, IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Dataset _train;
    private readonly Dataset? _validation;
    private readonly TrainingSpec _spec;
    private readonly Generator _generator;
    private readonly LossKind _loss;
    private readonly Func<Tensor, Tensor> _forward;

    public SupervisedWorkload(nn.Module<Tensor, Tensor> model, Dataset train, Dataset? validation, TrainingSpec spec)
    {
        if (train.Count == 0) throw new ArgumentException("the training set is empty");
        _model = model;
        _train = train;
        _validation = validation is { Count: > 0 } ? validation : null;
        _spec = spec;
        _generator = new Generator((ulong)spec.Seed);
        _loss = spec.Loss ?? (train.IsClassification ? LossKind.CrossEntropy : LossKind.Mse);
        // Cross-entropy works on logits; the network's own output ends in softmax.
        _forward = _loss == LossKind.CrossEntropy && model is Network n ? n.Logits : model.forward;
    }

    /// <summary>Extra validation metrics from the model's output and the validation targets; keys get the prefix "val_".</summary>
    public Func<Tensor, Tensor, IReadOnlyDictionary<string, double>>? ValidationMetrics { get; init; }

    public int? StepsPerEpoch => _spec.BatchSize <= 0 || _spec.BatchSize >= _train.Count ? 1 : (_train.Count + _spec.BatchSize - 1) / _spec.BatchSize;

    public void Begin(TrainingContext context)
    {
        if (_model is Network net) net.DropoutGenerator = _generator;
    }

    public IReadOnlyList<(Tensor Batch, double Weight)> Batches(TrainingContext context)
    {
        _model.train();
        return MiniBatches.Plan(_train.Count, _spec.BatchSize, _generator, _spec.Shuffle).Select(b => (b, (double)b.shape[0])).ToArray();
    }

    public Tensor Loss(Tensor rows)
    {
        var (x, y) = Rows(rows);
        return Losses.Losses.Compute(_loss, _forward(x), y, _spec.HuberDelta);
    }

    /// <summary>The largest Jacobian a least-squares step stores (float64 bytes): beyond, the batch is too large for <c>lm</c>.</summary>
    public const long JacobianBudget = 2L << 30;

    public string? LeastSquaresRefusal =>
        _loss != LossKind.Mse || _train.Targets.dim() != 2 ? $"the loss is {_loss.Name()}, and lm minimizes a sum of squares (mse)"
        : _model is not Network { IsRowwiseDense: true } ? "it needs a network of dense layers without dropout or batch normalization"
        : null;

    public IReadOnlyList<Tensor> Columns => ((Network)_model).DenseLayers().SelectMany(l => new Tensor[] { l.Weight, l.Bias }).ToArray();

    /// <summary>Residuals (output − target) over every row and output, row-major, and their Jacobian; the mse is their mean square.</summary>
    public ILinearization Linearize(Tensor rows)
    {
        var (x, y) = Rows(rows);
        var network = (Network)_model;
        long parameters = network.DenseLayers().Sum(l => l.Weight.numel() + l.Bias.numel());
        long bytes = x.shape[0] * y.shape[1] * parameters * 8;
        if (bytes > JacobianBudget)
            throw new InvalidOperationException($"optimizer lm: a batch of {x.shape[0]} rows makes a Jacobian of {bytes / (1 << 20)} MiB (at most {JacobianBudget / (1 << 20)} MiB); set a smaller batch size");
        var (output, jacobian) = network.ForwardWithJacobian(x);
        var residuals = output.sub(y).reshape(-1);
        return new ExplicitLinearization(residuals, jacobian.reshape(residuals.shape[0], -1));
    }

    public double LossAt(Tensor rows)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Loss(rows).ToDouble();
    }

    public double LossPerSquare(Tensor rows) => 1.0 / (rows.shape[0] * _train.Targets.shape[1]);

    private (Tensor X, Tensor Y) Rows(Tensor rows)
    {
        bool full = rows.shape[0] == _train.Count;
        return (full ? _train.Features : _train.Features.index_select(0, rows), full ? _train.Targets : _train.Targets.index_select(0, rows));
    }

    public void Evaluate(TrainingContext context, IReadOnlyList<Dictionary<string, double>?> metrics)
    {
        if (_validation is null || metrics[0] is not { } m) return;
        _model.eval();
        using (no_grad())
        using (NewDisposeScope())
        {
            var output = _forward(_validation.Features);
            m["val_loss"] = Losses.Losses.Compute(_loss, output, _validation.Targets, _spec.HuberDelta).ToDouble();
            if (ValidationMetrics is not null)
                foreach (var (k, v) in ValidationMetrics(output, _validation.Targets)) m[$"val_{k}"] = v;
        }
        _model.train();
    }

    public void End(TrainingContext context)
    {
        if (_model is Network net) net.DropoutGenerator = null;
        _model.eval();
        _generator.Dispose();
    }

    public void Dispose() => _generator.Dispose();
}
