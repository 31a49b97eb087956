using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Solving;
using static TorchSharp.torch;

namespace CustomModel;

/// <summary>The calibration: each parameter once, with its name for configs and --set, its meaning and its default.</summary>
public sealed record CrraGrowthCalibration(
    [Parameter("alpha", "capital share α")] double Alpha = 0.36,
    [Parameter("beta", "discount factor β")] double Beta = 0.96,
    [Parameter("delta", "depreciation δ")] double Delta = 0.1,
    [Parameter("gamma", "relative risk aversion γ")] double Gamma = 2,
    [Parameter("rho", "persistence of log TFP")] double Rho = 0.9,
    [Parameter("sigma", "standard deviation of the TFP innovation")] double Sigma = 0.02) : Calibration
{
    public override void Validate()
    {
        if (!(Gamma > 0)) throw new ArgumentException($"gamma must be > 0 (got {Gamma})");
    }

    /// <summary>The deterministic steady state, where the initial capital is drawn around.</summary>
    public double SteadyStateCapital => Math.Pow(Alpha / (1 / Beta - 1 + Delta), 1 / (1 - Alpha));
}

/// <summary>Stochastic growth with CRRA utility C^(1−γ)/(1−γ): no closed form, so the Euler errors judge the solution.</summary>
public sealed class CrraGrowth : Model<CrraGrowthCalibration>, IRecommendsSolver
{
    private readonly State _k, _z;
    private readonly Policy _s;
    private readonly Definition _wealth, _consumption, _return;

    public CrraGrowth(CrraGrowthCalibration c) : base(c)
    {
        double kss = c.SteadyStateCapital;
        _k = State("K", InitialDistribution.Uniform(0.5 * kss, 1.5 * kss), description: "capital");
        _z = LogAR1("z", InitialDistribution.Uniform(0.9, 1.1), c.Rho, c.Sigma, "TFP");   // ln z' = ρ ln z + ε, ε ~ N(0, σ²)
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate");
        _wealth = Define("W", t => t[_z] * t[_k].pow(c.Alpha) + t[_k] * (1 - c.Delta));
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], new Bounds(lower: 1e-8));   // clipped and penalized if ≤ 0
        _return = Define("R", t => t[_z] * t[_k].pow(c.Alpha - 1) * c.Alpha + (1 - c.Delta));
    }

    public override string Title => $"growth with CRRA utility (γ = {Calibration.Gamma})";

    /// <summary>Where <c>Solver.Run(model)</c> and <c>solve crra-growth</c> start: 2,000 episodes (the default cosine spans them all).</summary>
    public SolverSpec Recommended => new()
    {
        Episodes = 2_000,
    };

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues e)
    {
        yield return (_k, t[_s] * t[_wealth]);
    }

    /// <summary>The relative Euler error: 1 − (β·E[C'^(−γ)·R'])^(−1/γ) / C.</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var marginal = t.Expect(next => next[_consumption].pow(-Calibration.Gamma) * next[_return]);
        yield return ("euler", 1 - (marginal * Calibration.Beta).pow(-1 / Calibration.Gamma) / t[_consumption]);
    }
}
