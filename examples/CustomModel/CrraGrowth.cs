using Deqn.Equilibrium.Modeling;
using static TorchSharp.torch;

namespace CustomModel;

/// <summary>The calibration: parameters with defaults, and their names for configs and --set.</summary>
public sealed record CrraGrowthCalibration(double Alpha = 0.36, double Beta = 0.96, double Delta = 0.1, double Gamma = 2,
    double Rho = 0.9, double Sigma = 0.02)
{
    public static ParameterTable<CrraGrowthCalibration> Table { get; } = new ParameterTable<CrraGrowthCalibration>()
        .Add("alpha", "capital share α", c => c.Alpha, (c, v) => c with { Alpha = v })
        .Add("beta", "discount factor β", c => c.Beta, (c, v) => c with { Beta = v })
        .Add("delta", "depreciation δ", c => c.Delta, (c, v) => c with { Delta = v })
        .Add("gamma", "relative risk aversion γ", c => c.Gamma, (c, v) => c with { Gamma = v })
        .Add("rho", "persistence of log TFP", c => c.Rho, (c, v) => c with { Rho = v })
        .Add("sigma", "standard deviation of the TFP innovation", c => c.Sigma, (c, v) => c with { Sigma = v });

    /// <summary>The deterministic steady state, where the initial capital is drawn around.</summary>
    public double SteadyStateCapital => Math.Pow(Alpha / (1 / Beta - 1 + Delta), 1 / (1 - Alpha));
}

/// <summary>Stochastic growth with CRRA utility C^(1−γ)/(1−γ): no closed form, so the Euler errors judge the solution.</summary>
public sealed class CrraGrowth : Model
{
    private readonly CrraGrowthCalibration _c;
    private readonly State _k, _z;
    private readonly Policy _s;
    private readonly Shock _eps;
    private readonly Definition _wealth, _consumption, _return;

    public CrraGrowth(CrraGrowthCalibration c)
    {
        if (!(c.Gamma > 0)) throw new ArgumentException($"gamma must be > 0 (got {c.Gamma})");
        _c = c;
        double kss = c.SteadyStateCapital;
        _k = State("K", InitialDistribution.Uniform(0.5 * kss, 1.5 * kss), description: "capital");
        _z = State("z", InitialDistribution.Uniform(0.9, 1.1), description: "TFP");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate");
        _eps = Shock("eps", c.Sigma, "innovation to log TFP");
        _wealth = Define("W", t => t[_z] * t[_k].pow(c.Alpha) + t[_k] * (1 - c.Delta));
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], new Bounds(lower: 1e-8));   // clipped and penalized if ≤ 0
        _return = Define("R", t => t[_z] * t[_k].pow(c.Alpha - 1) * c.Alpha + (1 - c.Delta));
    }

    public override string Title => $"growth with CRRA utility (γ = {_c.Gamma})";

    public override IReadOnlyList<(string Name, double Value)> Parameters =>
        CrraGrowthCalibration.Table.Describe(_c).Select(p => (p.Name, p.Value)).ToArray();

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues e)
    {
        yield return (_k, t[_s] * t[_wealth]);
        yield return (_z, (t[_z].log() * _c.Rho + e[_eps]).exp());
    }

    /// <summary>The relative Euler error: 1 − (β·E[C'^(−γ)·R'])^(−1/γ) / C.</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var marginal = t.Expect(next => next[_consumption].pow(-_c.Gamma) * next[_return]);
        yield return ("euler", 1 - (marginal * _c.Beta).pow(-1 / _c.Gamma) / t[_consumption]);
    }
}
