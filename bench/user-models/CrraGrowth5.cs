using Deqn.Equilibrium.Modeling;
using static TorchSharp.torch;

namespace UserModels;

/// <summary>Stochastic growth with strong risk aversion: CRRA γ = 5, AR(1) log TFP.</summary>
public sealed record CrraGrowth5Calibration(
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.33,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.96,
    [Parameter("delta", "depreciation δ", Range = "(0, 1]")] double Delta = 0.1,
    [Parameter("gamma", "relative risk aversion γ", Range = "> 0")] double Gamma = 5,
    [Parameter("rho", "persistence ρ of log TFP", Range = "(−1, 1)")] double Rho = 0.95,
    [Parameter("sigma", "standard deviation σ of the TFP innovation", Range = "≥ 0")] double Sigma = 0.02) : Calibration
{
    public override void Validate()
    {
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha must be in (0, 1) (got {Alpha})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta must be in (0, 1) (got {Beta})");
        if (!(Delta > 0 && Delta <= 1)) throw new ArgumentException($"delta must be in (0, 1] (got {Delta})");
        if (!(Gamma > 0)) throw new ArgumentException($"gamma must be > 0 (got {Gamma})");
        if (!(Math.Abs(Rho) < 1)) throw new ArgumentException($"rho must satisfy |ρ| < 1 (got {Rho})");
        if (!(Sigma >= 0)) throw new ArgumentException($"sigma must be ≥ 0 (got {Sigma})");
    }

    /// <summary>The deterministic steady state, where αK^(α−1) + 1 − δ = 1/β.</summary>
    public double SteadyStateCapital => Math.Pow(Alpha / (1 / Beta - 1 + Delta), 1 / (1 - Alpha));
}

/// <summary>
/// Stochastic growth with CRRA utility C^(1−γ)/(1−γ), γ = 5: K′ + C = z·K^α + (1 − δ)K, ln z′ = ρ ln z + ε′. The
/// network gives the savings rate s(K, z), a share of resources W.
/// </summary>
public sealed class CrraGrowth5 : Model<CrraGrowth5Calibration>
{
    private readonly State _k, _z;
    private readonly Policy _s;
    private readonly Definition _wealth, _consumption, _return;

    public CrraGrowth5(CrraGrowth5Calibration c) : base(c)
    {
        double kss = c.SteadyStateCapital;
        _k = State("K", InitialDistribution.Uniform(0.5 * kss, 1.5 * kss), description: "capital");
        _z = LogAR1("z", InitialDistribution.Uniform(0.9, 1.1), c.Rho, c.Sigma, "TFP");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate, a share of resources: K′ = s·W");
        _wealth = Define("W", t => t[_z] * t[_k].pow(c.Alpha) + t[_k] * (1 - c.Delta), description: "resources z·K^α + (1 − δ)K");
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], new Bounds(lower: 1e-8), "consumption (1 − s)·W");
        _return = Define("R", t => t[_z] * t[_k].pow(c.Alpha - 1) * c.Alpha + (1 - c.Delta), description: "gross return αzK^(α−1) + 1 − δ");
    }

    public override string Title => $"stochastic growth with CRRA utility (γ = {Calibration.Gamma:G4}, δ = {Calibration.Delta:G4})";

    public override IReadOnlyList<string> Formulas =>
    [
        "W = z·K^α + (1 − δ)·K",
        "C = (1 − s)·W",
        "R = α·z·K^(α−1) + 1 − δ",
        "K′ = s·W",
        "ln z′ = ρ·ln z + ε′,  ε′ ~ N(0, σ²)",
        "euler: 1 − (β·E[C′^(−γ)·R′])^(−1/γ)/C = 0",
    ];

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues e)
    {
        yield return (_k, t[_s] * t[_wealth]);
    }

    /// <summary>The relative Euler error 1 − (β·E[C′^(−γ)·R′])^(−1/γ)/C.</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var marginal = t.Expect(next => next[_consumption].pow(-Calibration.Gamma) * next[_return]);
        yield return ("euler", 1 - (marginal * Calibration.Beta).pow(-1 / Calibration.Gamma) / t[_consumption]);
    }
}
