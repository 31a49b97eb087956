using TorchSharp;

namespace Deqn.Training.Losses;

public enum LossKind { Mse, Mae, Huber, CrossEntropy }

/// <summary>Training losses, each the mean over all elements (Keras's and PyTorch's default reduction).</summary>
public static class Losses
{
    public static readonly IReadOnlyDictionary<string, LossKind> ByName = new Dictionary<string, LossKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["mse"] = LossKind.Mse, ["mean_squared_error"] = LossKind.Mse,
        ["mae"] = LossKind.Mae, ["mean_absolute_error"] = LossKind.Mae,
        ["huber"] = LossKind.Huber,
        ["cross_entropy"] = LossKind.CrossEntropy, ["crossentropy"] = LossKind.CrossEntropy, ["ce"] = LossKind.CrossEntropy,
        ["categorical_crossentropy"] = LossKind.CrossEntropy, ["sparse_categorical_crossentropy"] = LossKind.CrossEntropy,
    };

    public static IEnumerable<string> Names => ["mse", "mae", "huber", "cross_entropy"];

    public static LossKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name.Trim(), out var kind)
            ? kind
            : throw new ArgumentException($"unknown loss '{name}' (valid: {string.Join(", ", Names)})");
    }

    public static string Name(this LossKind kind) => kind switch
    {
        LossKind.CrossEntropy => "cross_entropy",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// The mean loss. Regression: <paramref name="prediction"/> and <paramref name="target"/> of the same shape
    /// (no broadcasting: [n, 1] against [n] would silently compare every pair). Huber: 0.5·e² where |e| ≤ δ,
    /// else δ·(|e| − 0.5·δ). CrossEntropy: logits [n, C] against int64 class indices [n].
    /// </summary>
    public static torch.Tensor Compute(LossKind kind, torch.Tensor prediction, torch.Tensor target, double huberDelta = 1.0)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (kind == LossKind.CrossEntropy)
        {
            if (prediction.dim() != 2 || target.dim() != 1 || prediction.shape[0] != target.shape[0])
                throw new ArgumentException($"cross_entropy: expected logits [n, C] and class indices [n] (got [{Shape(prediction)}] and [{Shape(target)}])");
            if (target.dtype != torch.ScalarType.Int64)
                throw new ArgumentException($"cross_entropy: class indices must be int64 (got {target.dtype})");
            return torch.nn.functional.cross_entropy(prediction, target);
        }

        if (!prediction.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"{kind.Name()}: prediction [{Shape(prediction)}] and target [{Shape(target)}] must have the same shape");
        return kind switch
        {
            LossKind.Mse => torch.nn.functional.mse_loss(prediction, target),
            LossKind.Mae => torch.nn.functional.l1_loss(prediction, target),
            LossKind.Huber => huberDelta > 0
                ? torch.nn.functional.huber_loss(prediction, target, huberDelta)
                : throw new ArgumentOutOfRangeException(nameof(huberDelta), huberDelta, "huber delta must be positive"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    private static string Shape(torch.Tensor t) => string.Join(", ", t.shape);
}
