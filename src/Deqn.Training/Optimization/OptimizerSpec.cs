using System.Globalization;

namespace Deqn.Training.Optimization;

public enum OptimizerKind { Sgd, Momentum, Nesterov, AdaGrad, RmsProp, Adam, AdamW, Lbfgs,
    /// <summary>Levenberg–Marquardt: full-batch least squares for stacked regression networks (deqn approx); see StackedLevenbergMarquardt.</summary>
    Lm }

/// <summary>Whose default hyper-parameters fill the options a user leaves out (see README.md in this folder).</summary>
public enum Convention { Keras, PyTorch }

/// <summary>
/// An optimizer described as data. Options left null take the <see cref="Convention"/>'s default; an explicit value
/// always wins. <see cref="Resolve"/> fills the defaults in and validates.
/// </summary>
/// <remarks>
/// Defaults (explicit values override; options an optimizer does not use are rejected rather than ignored):
/// <code>
/// option               | Keras (default)   | PyTorch
/// ---------------------+-------------------+---------
/// sgd lr               | 0.01              | 0.01 (PyTorch requires it)
/// momentum, nesterov   | lr 0.01, mu 0.9   | lr 0.01, mu 0.9
/// adagrad              | lr 0.001, A0 0.1, | lr 0.01, A0 0,
///                      | eps 1e-7          | eps 1e-10
/// rmsprop              | lr 0.001, rho 0.9,| lr 0.01, rho (alpha) 0.99,
///                      | eps 1e-7          | eps 1e-8
/// adam                 | lr 0.001, b1 0.9, | lr 0.001, b1 0.9,
///                      | b2 0.999, eps 1e-7| b2 0.999, eps 1e-8
/// adamw                | as adam, wd 0.004 | as adam, wd 0.01
/// lbfgs                | lr 1, history 100, max_iter 20, tolerance_grad 1e-7, tolerance_change 1e-9, strong Wolfe
/// </code>
/// <see cref="EpsilonInsideSqrt"/> defaults to true under both conventions (the lecture's sqrt(A + eps)); Keras's Adam
/// and all of PyTorch's adaptive methods put it outside (sqrt(A) + eps), so set it to false to reproduce them.
/// </remarks>
public sealed record OptimizerSpec(OptimizerKind Kind = OptimizerKind.Adam)
{
    public double? LearningRate { get; init; }
    /// <summary>mu of Momentum and Nesterov.</summary>
    public double? Momentum { get; init; }
    public double? Beta1 { get; init; }
    public double? Beta2 { get; init; }
    /// <summary>Decay of RMSProp's squared-gradient average (Keras's rho, PyTorch's alpha).</summary>
    public double? Rho { get; init; }
    public double? Epsilon { get; init; }
    /// <summary>Decoupled weight decay lambda of AdamW: w ← w − lr·lambda·w before the Adam update.</summary>
    public double? WeightDecay { get; init; }
    /// <summary>AdaGrad's starting value of the accumulator A.</summary>
    public double? InitialAccumulator { get; init; }
    /// <summary>True: w ← w − lr·g/sqrt(A + eps) (the lecture). False: w ← w − lr·g/(sqrt(A) + eps) (Keras's Adam, PyTorch).</summary>
    public bool EpsilonInsideSqrt { get; init; } = true;
    public Convention Convention { get; init; } = Convention.Keras;
    /// <summary>L-BFGS: number of (s, y) pairs kept.</summary>
    public int HistorySize { get; init; } = 100;
    /// <summary>L-BFGS: iterations per <see cref="Optimizer.Step"/>.</summary>
    public int MaxIterations { get; init; } = 20;
    /// <summary>L-BFGS: stop when the largest absolute gradient entry is at most this.</summary>
    public double ToleranceGrad { get; init; } = 1e-7;
    /// <summary>L-BFGS: stop when the loss or the step changes by less than this.</summary>
    public double ToleranceChange { get; init; } = 1e-9;

    /// <summary>Fills the convention's defaults in and validates; throws <see cref="ArgumentException"/> with a one-line message naming the option.</summary>
    public ResolvedOptimizer Resolve()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"unknown optimizer kind {(int)Kind}");
        if (!Enum.IsDefined(Convention)) throw new ArgumentException($"unknown convention {(int)Convention}");
        bool keras = Convention == Convention.Keras;
        string name = Optimizers.Name(Kind);

        RejectUnused(Momentum, "momentum", Kind is OptimizerKind.Momentum or OptimizerKind.Nesterov, "momentum, nesterov");
        RejectUnused(Beta1, "beta1", Kind is OptimizerKind.Adam or OptimizerKind.AdamW, "adam, adamw");
        RejectUnused(Beta2, "beta2", Kind is OptimizerKind.Adam or OptimizerKind.AdamW, "adam, adamw; rmsprop's decay is rho");
        RejectUnused(Rho, "rho", Kind is OptimizerKind.RmsProp, "rmsprop");
        RejectUnused(Epsilon, "epsilon", Kind is OptimizerKind.AdaGrad or OptimizerKind.RmsProp or OptimizerKind.Adam or OptimizerKind.AdamW, "adagrad, rmsprop, adam, adamw");
        RejectUnused(WeightDecay, "weight decay", Kind is OptimizerKind.AdamW, "adamw");
        RejectUnused(InitialAccumulator, "initial accumulator", Kind is OptimizerKind.AdaGrad, "adagrad");

        double lr = LearningRate ?? Kind switch
        {
            OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov => 0.01,
            OptimizerKind.AdaGrad or OptimizerKind.RmsProp => keras ? 0.001 : 0.01,
            OptimizerKind.Adam or OptimizerKind.AdamW => 0.001,
            OptimizerKind.Lbfgs or OptimizerKind.Lm => 1.0,
            _ => throw new InvalidOperationException(),
        };
        double momentum = Kind is OptimizerKind.Momentum or OptimizerKind.Nesterov ? Momentum ?? 0.9 : 0.0;
        bool adam = Kind is OptimizerKind.Adam or OptimizerKind.AdamW;
        double beta1 = adam ? Beta1 ?? 0.9 : 0.0;
        double beta2 = adam ? Beta2 ?? 0.999 : 0.0;
        double rho = Kind == OptimizerKind.RmsProp ? Rho ?? (keras ? 0.9 : 0.99) : 0.0;
        double epsilon = Kind switch
        {
            OptimizerKind.AdaGrad => Epsilon ?? (keras ? 1e-7 : 1e-10),
            OptimizerKind.RmsProp or OptimizerKind.Adam or OptimizerKind.AdamW => Epsilon ?? (keras ? 1e-7 : 1e-8),
            _ => 0.0,
        };
        double weightDecay = Kind == OptimizerKind.AdamW ? WeightDecay ?? (keras ? 0.004 : 0.01) : 0.0;
        double initialAccumulator = Kind == OptimizerKind.AdaGrad ? InitialAccumulator ?? (keras ? 0.1 : 0.0) : 0.0;

        if (!(lr > 0 && double.IsFinite(lr))) throw Bad("learning rate must be > 0", lr);
        if (Kind is OptimizerKind.Momentum or OptimizerKind.Nesterov) InUnitInterval(momentum, "momentum");
        if (adam) { InUnitInterval(beta1, "beta1"); InUnitInterval(beta2, "beta2"); }
        if (Kind == OptimizerKind.RmsProp) InUnitInterval(rho, "rho");
        if (Kind is OptimizerKind.AdaGrad or OptimizerKind.RmsProp || adam)
        {
            if (!(epsilon > 0 && double.IsFinite(epsilon))) throw Bad("epsilon must be > 0", epsilon);
        }
        if (!(weightDecay >= 0 && double.IsFinite(weightDecay))) throw Bad("weight decay must be >= 0", weightDecay);
        if (!(initialAccumulator >= 0 && double.IsFinite(initialAccumulator))) throw Bad("initial accumulator must be >= 0", initialAccumulator);
        if (Kind == OptimizerKind.Lbfgs)
        {
            if (HistorySize < 1) throw Bad("history size must be >= 1", HistorySize);
            if (MaxIterations < 1) throw Bad("max iterations must be >= 1", MaxIterations);
            if (!(ToleranceGrad >= 0 && double.IsFinite(ToleranceGrad))) throw Bad("tolerance on the gradient must be >= 0", ToleranceGrad);
            if (!(ToleranceChange >= 0 && double.IsFinite(ToleranceChange))) throw Bad("tolerance on the change must be >= 0", ToleranceChange);
        }

        return new ResolvedOptimizer(Kind, lr, momentum, beta1, beta2, rho, epsilon, weightDecay, initialAccumulator,
            EpsilonInsideSqrt, Convention, HistorySize, MaxIterations, ToleranceGrad, ToleranceChange);

        void RejectUnused(double? value, string option, bool used, string usedBy)
        {
            // Silently ignoring e.g. momentum on plain sgd would train something else than the user asked for.
            if (value is { } v && !used) throw new ArgumentException($"{option} is not an option of {name} (got {Format(v)}; it applies to {usedBy})");
        }
    }

    private static void InUnitInterval(double value, string option)
    {
        if (!(value >= 0 && value < 1)) throw Bad($"{option} must be in [0, 1)", value);
    }

    private static ArgumentException Bad(string what, double got) => new($"{what} (got {Format(got)})");

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// An <see cref="OptimizerSpec"/> with every default filled in and validated. Options the kind does not use are 0
/// (and <see cref="EpsilonInsideSqrt"/> only matters to the adaptive methods; the L-BFGS fields only to L-BFGS).
/// </summary>
public sealed record ResolvedOptimizer(
    OptimizerKind Kind,
    double LearningRate,
    double Momentum,
    double Beta1,
    double Beta2,
    double Rho,
    double Epsilon,
    double WeightDecay,
    double InitialAccumulator,
    bool EpsilonInsideSqrt,
    Convention Convention,
    int HistorySize,
    int MaxIterations,
    double ToleranceGrad,
    double ToleranceChange)
{
    /// <summary>The options this kind uses, as flat key → value pairs (for logs and hyper-parameter tables).</summary>
    public IReadOnlyDictionary<string, string> Describe()
    {
        var d = new Dictionary<string, string> { ["optimizer"] = Optimizers.Name(Kind), ["learning_rate"] = OptimizerSpec.Format(LearningRate) };
        switch (Kind)
        {
            case OptimizerKind.Momentum or OptimizerKind.Nesterov:
                d["momentum"] = OptimizerSpec.Format(Momentum);
                break;
            case OptimizerKind.AdaGrad:
                d["initial_accumulator"] = OptimizerSpec.Format(InitialAccumulator);
                break;
            case OptimizerKind.RmsProp:
                d["rho"] = OptimizerSpec.Format(Rho);
                break;
            case OptimizerKind.Adam or OptimizerKind.AdamW:
                d["beta1"] = OptimizerSpec.Format(Beta1);
                d["beta2"] = OptimizerSpec.Format(Beta2);
                if (Kind == OptimizerKind.AdamW) d["weight_decay"] = OptimizerSpec.Format(WeightDecay);
                break;
            case OptimizerKind.Lbfgs:
                d["history_size"] = HistorySize.ToString(CultureInfo.InvariantCulture);
                d["max_iterations"] = MaxIterations.ToString(CultureInfo.InvariantCulture);
                d["tolerance_grad"] = OptimizerSpec.Format(ToleranceGrad);
                d["tolerance_change"] = OptimizerSpec.Format(ToleranceChange);
                break;
        }
        if (Kind is OptimizerKind.AdaGrad or OptimizerKind.RmsProp or OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            d["epsilon"] = OptimizerSpec.Format(Epsilon);
            d["epsilon_inside_sqrt"] = EpsilonInsideSqrt ? "true" : "false";
        }
        return d;
    }
}
