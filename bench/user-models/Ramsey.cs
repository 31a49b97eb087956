using Deqn.Equilibrium.Modeling;
using static TorchSharp.torch;

namespace UserModels;

/// <summary>The deterministic Ramsey model's calibration: CRRA utility, Cobb–Douglas output, no productivity shocks.</summary>
public sealed record RamseyCalibration(
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.36,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.96,
    [Parameter("delta", "depreciation δ", Range = "(0, 1]")] double Delta = 0.1,
    [Parameter("gamma", "relative risk aversion γ", Range = "> 0")] double Gamma = 2) : Calibration
{
    public override void Validate()
    {
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha must be in (0, 1) (got {Alpha})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta must be in (0, 1) (got {Beta})");
        if (!(Delta > 0 && Delta <= 1)) throw new ArgumentException($"delta must be in (0, 1] (got {Delta})");
        if (!(Gamma > 0)) throw new ArgumentException($"gamma must be > 0 (got {Gamma})");
    }

    /// <summary>The steady state, where αK^(α−1) + 1 − δ = 1/β.</summary>
    public double SteadyStateCapital => Math.Pow(Alpha / (1 / Beta - 1 + Delta), 1 / (1 - Alpha));
}

/// <summary>
/// The deterministic Ramsey (Cass–Koopmans) growth model: a planner maximizes Σ βᵗ C^(1−γ)/(1−γ) subject to
/// K′ + C = K^α + (1 − δ)K. There is no shock at all: capital is the only state, and an expectation is next period's
/// value. The network gives the savings rate s, a share of resources W.
/// </summary>
public sealed class Ramsey : Model<RamseyCalibration>
{
    private readonly State _k;
    private readonly Policy _s;
    private readonly Definition _wealth, _consumption, _return;

    public Ramsey(RamseyCalibration c) : base(c)
    {
        double kss = c.SteadyStateCapital;
        _k = State("K", InitialDistribution.Uniform(0.5 * kss, 1.5 * kss), description: "capital");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate, a share of resources: K′ = s·W");
        _wealth = Define("W", t => t[_k].pow(c.Alpha) + t[_k] * (1 - c.Delta), description: "resources K^α + (1 − δ)K");
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], new Bounds(lower: 1e-8), "consumption (1 − s)·W");
        _return = Define("R", t => t[_k].pow(c.Alpha - 1) * c.Alpha + (1 - c.Delta), description: "gross return αK^(α−1) + 1 − δ");
    }

    public override string Title => $"deterministic Ramsey growth (γ = {Calibration.Gamma:G4}, δ = {Calibration.Delta:G4})";

    public override IReadOnlyList<string> Formulas =>
    [
        "W = K^α + (1 − δ)·K",
        "C = (1 − s)·W",
        "R = α·K^(α−1) + 1 − δ",
        "K′ = s·W",
        "euler: 1 − (β·C′^(−γ)·R′)^(−1/γ)/C = 0",
    ];

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues e)
    {
        yield return (_k, t[_s] * t[_wealth]);
    }

    /// <summary>The relative Euler error 1 − (β·E[C′^(−γ)·R′])^(−1/γ)/C (no shocks: the expectation is next period's value).</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var marginal = t.Expect(next => next[_consumption].pow(-Calibration.Gamma) * next[_return]);
        yield return ("euler", 1 - (marginal * Calibration.Beta).pow(-1 / Calibration.Gamma) / t[_consumption]);
    }
}
