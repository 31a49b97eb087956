using TorchSharp.Modules;

namespace Deqn.Training.Optimization;

public static class Optimizers
{
    public static readonly IReadOnlyDictionary<string, OptimizerKind> ByName = new Dictionary<string, OptimizerKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["sgd"] = OptimizerKind.Sgd, ["momentum"] = OptimizerKind.Momentum, ["nesterov"] = OptimizerKind.Nesterov,
        ["adagrad"] = OptimizerKind.AdaGrad, ["rmsprop"] = OptimizerKind.RmsProp, ["adam"] = OptimizerKind.Adam,
        ["adamw"] = OptimizerKind.AdamW, ["lbfgs"] = OptimizerKind.Lbfgs, ["l-bfgs"] = OptimizerKind.Lbfgs,
        ["lm"] = OptimizerKind.Lm, ["levenberg-marquardt"] = OptimizerKind.Lm,
    };

    public static IEnumerable<string> Names => new[] { "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "lbfgs", "lm" };

    public static OptimizerKind Parse(string name) =>
        ByName.TryGetValue(name.Trim(), out var kind)
            ? kind
            : throw new ArgumentException($"unknown optimizer '{name}' (valid: {string.Join(", ", Names)})");

    /// <summary>The lower-case name <see cref="Parse"/> accepts.</summary>
    public static string Name(OptimizerKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// An optimizer over <paramref name="parameters"/>. Its state tensors belong to it, not to any dispose scope that is
    /// open at the call; dispose the optimizer to free them early.
    /// </summary>
    public static Optimizer Create(OptimizerSpec spec, IEnumerable<Parameter> parameters)
    {
        var r = spec.Resolve();
        var ps = parameters.ToArray();
        return r.Kind switch
        {
            OptimizerKind.Sgd => new SgdOptimizer(ps, r),
            OptimizerKind.Momentum => new MomentumOptimizer(ps, r),
            OptimizerKind.Nesterov => new NesterovOptimizer(ps, r),
            OptimizerKind.AdaGrad => new AdaGradOptimizer(ps, r),
            OptimizerKind.RmsProp => new RmsPropOptimizer(ps, r),
            OptimizerKind.Adam or OptimizerKind.AdamW => new AdamOptimizer(ps, r),
            OptimizerKind.Lbfgs => new LbfgsOptimizer(ps, r),
            OptimizerKind.Lm => new LevenbergMarquardt(ps, r),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), r.Kind, null),
        };
    }
}
