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

/// <summary>How an initial value is drawn.</summary>
public enum InitialKind { Uniform, Fixed, TruncatedNormal, Discrete }

/// <summary>
/// Where a state starts, and the range its network input is scaled by: uniform on [Low, High], a fixed value, a normal
/// truncated to [Low, High], or (for a Markov chain) a state drawn from given probabilities. Each draw takes exactly
/// one uniform number from the solver's stream, so runs are reproducible from their seed.
/// </summary>
public sealed record InitialDistribution
{
    private readonly double[]? _probabilities;

    private InitialDistribution(InitialKind kind, double low, double high, double mean = 0, double sd = 0, double[]? probabilities = null)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || !(low <= high))
            throw new ArgumentException($"initial range [{low}, {high}] needs finite low ≤ high");
        Kind = kind;
        Low = low;
        High = high;
        Mean = mean;
        StandardDeviation = sd;
        _probabilities = probabilities;
    }

    public InitialDistribution(double low, double high) : this(low == high ? InitialKind.Fixed : InitialKind.Uniform, low, high, 0.5 * (low + high)) { }

    public InitialKind Kind { get; }
    public double Low { get; }
    public double High { get; }

    /// <summary>The normal's mean before truncation (the midpoint for the other kinds).</summary>
    public double Mean { get; }

    /// <summary>The normal's standard deviation before truncation (0 for the other kinds).</summary>
    public double StandardDeviation { get; }

    /// <summary>A discrete start's probabilities by state (null for the other kinds).</summary>
    public IReadOnlyList<double>? Probabilities => _probabilities;

    public static InitialDistribution Uniform(double low, double high) => new(InitialKind.Uniform, low, high, 0.5 * (low + high));
    public static InitialDistribution Fixed(double value) => new(InitialKind.Fixed, value, value, value);

    /// <summary>N(mean, sd²) truncated to [low, high] (drawn by inverting its distribution function).</summary>
    public static InitialDistribution TruncatedNormal(double mean, double sd, double low, double high)
    {
        if (!double.IsFinite(mean) || !(sd > 0) || !double.IsFinite(sd)) throw new ArgumentException($"a truncated normal needs a finite mean and sd > 0 (got {mean}, {sd})");
        if (!(low < high)) throw new ArgumentException($"a truncated normal needs low < high (got [{low}, {high}])");
        return new(InitialKind.TruncatedNormal, low, high, mean, sd);
    }

    /// <summary>State j with probability probabilities[j] (a Markov chain's start; its stationary distribution by default).</summary>
    public static InitialDistribution Discrete(IReadOnlyList<double> probabilities)
    {
        if (probabilities.Count == 0 || probabilities.Any(p => !(p >= 0)) || Math.Abs(probabilities.Sum() - 1) > 1e-10)
            throw new ArgumentException("a discrete start needs nonnegative probabilities that sum to 1");
        return new(InitialKind.Discrete, 0, probabilities.Count - 1, 0, 0, probabilities.ToArray());
    }

    public double Center => 0.5 * (Low + High);

    /// <summary>Half the width, or 1 for a fixed start (so the network sees x − x₀).</summary>
    public double HalfWidth => High > Low ? 0.5 * (High - Low) : 1.0;

    /// <summary>Where a single simulated path starts: the midpoint, or a discrete start's most likely state.</summary>
    public double Typical => Kind == InitialKind.Discrete ? Array.IndexOf(_probabilities!, _probabilities!.Max()) : Kind == InitialKind.TruncatedNormal ? Math.Clamp(Mean, Low, High) : Center;

    internal double Draw(double uniform) => Kind switch
    {
        InitialKind.Fixed => Low,
        InitialKind.Uniform => Low + (High - Low) * uniform,
        InitialKind.TruncatedNormal => Math.Clamp(Mean + StandardDeviation * Shocks.NormalDistribution.Quantile(
            Shocks.NormalDistribution.Cdf((Low - Mean) / StandardDeviation) + uniform * (Shocks.NormalDistribution.Cdf((High - Mean) / StandardDeviation) - Shocks.NormalDistribution.Cdf((Low - Mean) / StandardDeviation))), Low, High),
        InitialKind.Discrete => Shocks.MarkovChain.Draw(_probabilities!, uniform),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    public override string ToString() => Kind switch
    {
        InitialKind.Fixed => $"{Low:G6}",
        InitialKind.TruncatedNormal => $"N({Mean:G6}, {StandardDeviation:G6}²) on [{Low:G6}, {High:G6}]",
        InitialKind.Discrete => $"discrete ({string.Join(", ", _probabilities!.Select(p => p.ToString("G4")))})",
        _ => $"U[{Low:G6}, {High:G6}]",
    };

    public bool Equals(InitialDistribution? other) => other is not null && Kind == other.Kind && Low == other.Low && High == other.High
        && Mean == other.Mean && StandardDeviation == other.StandardDeviation
        && (_probabilities ?? []).SequenceEqual(other._probabilities ?? []);

    public override int GetHashCode() => HashCode.Combine(Kind, Low, High, Mean, StandardDeviation);
}

/// <summary>Anything a model reads by handle: a state, a policy or a definition; a scalar or a vector of <see cref="Size"/> elements.</summary>
public abstract class Variable
{
    private protected Variable(string name, string description, Bounds? bounds, int size, bool isVector)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => char.IsWhiteSpace(c) || c is ',' or '[' or ']'))
            throw new ArgumentException($"variable name '{name}' must be non-empty, without spaces, commas or brackets");
        if (size < 1) throw new ArgumentException($"{name}: a vector needs at least one element (got {size})");
        Name = name;
        Description = description;
        Bounds = bounds;
        Size = size;
        IsVector = isVector;
    }

    public string Name { get; }
    public string Description { get; }
    public Bounds? Bounds { get; }

    /// <summary>Number of elements: 1 for a scalar.</summary>
    public int Size { get; }

    /// <summary>
    /// Declared as a vector: a period hands it as [Size, economies] (elements first, so that a scalar [economies]
    /// combines with it by broadcasting), even with one element.
    /// </summary>
    public bool IsVector { get; }

    /// <summary>Its first column among the model's variables of the same kind (states or policies); its position among definitions.</summary>
    public int Index { get; internal set; }

    /// <summary>Its position in the model's list of variables of its kind.</summary>
    internal int Position { get; set; }

    /// <summary>The names of its elements in logs, CSV columns and reports: "k[1]", "k[2]", … for a vector (numbered from 1), the name for a scalar.</summary>
    public IReadOnlyList<string> ElementNames => IsVector ? Enumerable.Range(1, Size).Select(i => $"{Name}[{i}]").ToArray() : [Name];

    public override string ToString() => Name;
}

/// <summary>An endogenous or exogenous state: a network input, simulated forward by the model's transition.</summary>
public sealed class State : Variable
{
    internal State(string name, string description, IReadOnlyList<InitialDistribution> initial, Bounds? bounds, bool isVector = false)
        : base(name, description, bounds, initial.Count, isVector) => Initials = initial.ToArray();

    /// <summary>The first element's initial distribution (every element's, for a scalar).</summary>
    public InitialDistribution Initial => Initials[0];

    /// <summary>One initial distribution per element.</summary>
    public IReadOnlyList<InitialDistribution> Initials { get; }

    /// <summary>
    /// The value of a state that never moves (a process declared with no shock, starting at its fixed point): it is
    /// not one of the model's <see cref="Model.States"/>, the network does not see it, and a period reads this value.
    /// </summary>
    public double? Constant { get; internal init; }

    /// <summary>For a Markov-chain state, its chain: the state holds the chain's current state 0 … n−1, and the network sees it one-hot.</summary>
    public Shocks.MarkovChain? Chain { get; internal init; }
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

/// <summary>A policy: one output of the network per element.</summary>
public sealed class Policy : Variable
{
    internal Policy(string name, string description, PolicyOutput output, Bounds? bounds, int size = 1, bool isVector = false) : base(name, description, bounds, size, isVector)
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
    internal Definition(string name, string description, Func<Period, Tensor> compute, Bounds? bounds, int size = 1, bool isVector = false)
        : base(name, description, bounds, size, isVector) => Compute = compute;

    internal Func<Period, Tensor> Compute { get; }
}

/// <summary>
/// An exogenous normal innovation ε ~ N(0, σ²), independent over time; shocks declared together may be correlated
/// (<see cref="Model"/>'s CorrelatedShocks). Simulation draws it; expectations integrate it with the quadrature the
/// solver is configured with (Gauss–Hermite product, monomial, pseudo-random).
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
