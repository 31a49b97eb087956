using static TorchSharp.torch;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// Bounds on a variable, declared as data: the value a model reads is clipped into [Lower, Upper], the raw value stays
/// available, and the loss adds Penalty·mean((clipped − raw)²).
/// </summary>
public sealed record Bounds
{
    public Bounds(double? lower = null, double? upper = null, double penalty = 1.0)
    {
        if (lower is null && upper is null) throw new ArgumentException("bounds need a lower or an upper value");
        if (lower is { } l && !double.IsFinite(l)) throw new ArgumentException($"lower bound must be finite (got {l})");
        if (upper is { } u && !double.IsFinite(u)) throw new ArgumentException($"upper bound must be finite (got {u})");
        if (lower is { } lo && upper is { } hi && !(lo < hi)) throw new ArgumentException($"lower bound {lo} is not below upper bound {hi}");
        if (!(penalty >= 0) || !double.IsFinite(penalty)) throw new ArgumentException($"penalty weight must be finite and ≥ 0 (got {penalty})");
        Lower = lower;
        Upper = upper;
        Penalty = penalty;
    }

    public double? Lower { get; }
    public double? Upper { get; }
    public double Penalty { get; }

    public override string ToString() => $"[{Lower?.ToString("G6") ?? "−∞"}, {Upper?.ToString("G6") ?? "∞"}]";

    internal Tensor Clip(Tensor raw) => raw.clamp(Lower, Upper);
}

/// <summary>Where a state starts (and the range its network input is scaled by): drawn uniformly from [Low, High].</summary>
public sealed record InitialDistribution
{
    public InitialDistribution(double low, double high)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || !(low <= high))
            throw new ArgumentException($"initial range [{low}, {high}] needs finite low ≤ high");
        Low = low;
        High = high;
    }

    public double Low { get; }
    public double High { get; }

    public static InitialDistribution Uniform(double low, double high) => new(low, high);
    public static InitialDistribution Fixed(double value) => new(value, value);

    public double Center => 0.5 * (Low + High);

    /// <summary>Half the width, or 1 for a fixed start (so the network sees x − x₀).</summary>
    public double HalfWidth => High > Low ? 0.5 * (High - Low) : 1.0;

    internal double Draw(double uniform) => Low + (High - Low) * uniform;

    public override string ToString() => High > Low ? $"U[{Low:G6}, {High:G6}]" : $"{Low:G6}";
}

/// <summary>Anything a model reads by handle: a state, a policy or a definition.</summary>
public abstract class Variable
{
    private protected Variable(string name, string description, Bounds? bounds)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => char.IsWhiteSpace(c) || c == ','))
            throw new ArgumentException($"variable name '{name}' must be non-empty, without spaces or commas");
        Name = name;
        Description = description;
        Bounds = bounds;
    }

    public string Name { get; }
    public string Description { get; }
    public Bounds? Bounds { get; }

    /// <summary>Position among the model's variables of the same kind.</summary>
    public int Index { get; internal set; }

    public override string ToString() => Name;
}

/// <summary>An endogenous or exogenous state: a network input, simulated forward by the model's transition.</summary>
public sealed class State : Variable
{
    internal State(string name, string description, InitialDistribution initial, Bounds? bounds) : base(name, description, bounds) => Initial = initial;

    public InitialDistribution Initial { get; }

    /// <summary>
    /// The value of a state that never moves (a process declared with no shock, starting at its fixed point): it is
    /// not one of the model's <see cref="Model.States"/>, the network does not see it, and a period reads this value.
    /// </summary>
    public double? Constant { get; internal init; }
}

/// <summary>How a policy's network output becomes its value.</summary>
public enum PolicyOutput
{
    /// <summary>The raw output.</summary>
    Linear,
    /// <summary>Lower + (Upper − Lower)·sigmoid(raw): always inside the bounds, so no penalty is needed.</summary>
    Implied,
    /// <summary>softplus(raw): positive.</summary>
    Softplus,
    /// <summary>exp(raw): positive, for quantities that vary over orders of magnitude.</summary>
    Exp,
}

/// <summary>A policy: one output of the network.</summary>
public sealed class Policy : Variable
{
    internal Policy(string name, string description, PolicyOutput output, Bounds? bounds) : base(name, description, bounds)
    {
        if (output == PolicyOutput.Implied && (bounds?.Lower is null || bounds.Upper is null))
            throw new ArgumentException($"policy {name}: an implied output needs both a lower and an upper bound");
        Output = output;
    }

    public PolicyOutput Output { get; }

    internal Tensor Transform(Tensor raw) => Output switch
    {
        PolicyOutput.Linear => raw,
        PolicyOutput.Implied when Bounds!.Lower == 0 && Bounds.Upper == 1 => raw.sigmoid(),
        PolicyOutput.Implied => raw.sigmoid().mul(Bounds!.Upper!.Value - Bounds.Lower!.Value).add(Bounds.Lower.Value),
        PolicyOutput.Softplus => nn.functional.softplus(raw),
        PolicyOutput.Exp => raw.exp(),
        _ => throw new ArgumentOutOfRangeException(nameof(Output)),
    };

    /// <summary>Implied outputs are inside their bounds by construction: they are not clipped or penalized.</summary>
    internal Bounds? EnforcedBounds => Output == PolicyOutput.Implied ? null : Bounds;
}

/// <summary>A derived quantity (output, consumption, interest rate…) computed from a period's variables.</summary>
public sealed class Definition : Variable
{
    internal Definition(string name, string description, Func<Period, Tensor> compute, Bounds? bounds) : base(name, description, bounds) => Compute = compute;

    internal Func<Period, Tensor> Compute { get; }
}

/// <summary>
/// An exogenous innovation ε ~ N(0, σ²), independent across shocks and periods. Simulation draws it; expectations
/// integrate it with the quadrature the solver is configured with (Gauss–Hermite product, monomial, pseudo-random).
/// </summary>
public sealed class Shock
{
    internal Shock(string name, string description, double sigma)
    {
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentException($"shock {name}: σ must be finite and ≥ 0 (got {sigma})");
        Name = name;
        Description = description;
        Sigma = sigma;
    }

    public string Name { get; }
    public string Description { get; }
    public double Sigma { get; }
    public int Index { get; internal set; }

    public override string ToString() => Name;
}
