using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models;

/// <summary>The deterministic growth model's calibration; capital starts uniformly in [k_low, k_high].</summary>
public sealed record BrockMirmanCalibration(double Alpha = 0.36, double Beta = 0.99, double Delta = 1.0, double CapitalLow = 0.1, double CapitalHigh = 1.0)
{
    public static ParameterTable<BrockMirmanCalibration> Table { get; } = new ParameterTable<BrockMirmanCalibration>()
        .Add("alpha", "capital share α", c => c.Alpha, (c, v) => c with { Alpha = v })
        .Add("beta", "discount factor β", c => c.Beta, (c, v) => c with { Beta = v })
        .Add("delta", "depreciation δ (1: the closed form holds)", c => c.Delta, (c, v) => c with { Delta = v })
        .Add("k_low", "initial capital: lower end of the uniform draw", c => c.CapitalLow, (c, v) => c with { CapitalLow = v })
        .Add("k_high", "initial capital: upper end of the uniform draw", c => c.CapitalHigh, (c, v) => c with { CapitalHigh = v });

    public GrowthCalibration Growth => new(Alpha, Beta, Delta, Rho: 0, Sigma: 0);

    public void Validate()
    {
        Growth.Validate();
        if (!(CapitalLow > 0)) throw new ArgumentException($"k_low must be > 0 (got {CapitalLow})");
        if (!(CapitalLow < CapitalHigh)) throw new ArgumentException($"k_low ({CapitalLow}) must be below k_high ({CapitalHigh})");
    }
}

/// <summary>
/// Brock and Mirman (1972), deterministic: a planner maximizes Σ βᵗ ln C subject to K' + C = K^α + (1 − δ)K. The
/// network gives the savings rate s ∈ (0, 1), so K' = s·W and C = (1 − s)·W are positive from the first step.
/// With δ = 1 the solution is K' = αβK^α, i.e. s = αβ.
/// </summary>
public sealed class BrockMirman : Model
{
    private readonly BrockMirmanCalibration _c;
    private readonly State _k;
    private readonly Policy _s;
    private readonly Definition _output, _wealth, _consumption, _return;

    public BrockMirman(BrockMirmanCalibration calibration)
    {
        calibration.Validate();
        _c = calibration;
        double a = calibration.Alpha, d = calibration.Delta;
        _k = State("K", InitialDistribution.Uniform(calibration.CapitalLow, calibration.CapitalHigh), description: "capital");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate: K' = s·W");
        _output = Define("Y", t => t[_k].pow(a), description: "output K^α");
        _wealth = Define("W", t => d == 1 ? t[_output] : t[_output] + t[_k].mul(1 - d), description: "resources K^α + (1 − δ)K");
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], description: "consumption (1 − s)·W");
        _return = Define("R", t => d == 1 ? t[_output].div(t[_k]).mul(a) : t[_output].div(t[_k]).mul(a).add(1 - d), description: "gross return 1 − δ + αK^(α−1) = 1 − δ + αY/K");
    }

    public BrockMirmanCalibration Calibration => _c;

    public override string Title => $"Brock–Mirman (deterministic, δ = {_c.Delta:G4})";

    public override IReadOnlyList<(string Name, double Value)> Parameters =>
        BrockMirmanCalibration.Table.Describe(_c).Select(p => (p.Name, p.Value)).ToArray();

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_s] * t[_wealth]);
    }

    /// <summary>The relative Euler error 1 − 1/(β·C·(1 − δ + r')/C').</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var expectation = t.Expect(next => next[_return] / next[_consumption]);
        yield return ("euler", 1 - 1 / (_c.Beta * t[_consumption] * expectation));
    }

    public override bool HasClosedForm => _c.Delta == 1;

    protected override IEnumerable<(Policy Policy, Tensor Value)>? ClosedForm(Period t)
    {
        if (!HasClosedForm) return null;
        return [(_s, full_like(t[_k], _c.Alpha * _c.Beta))];
    }
}
