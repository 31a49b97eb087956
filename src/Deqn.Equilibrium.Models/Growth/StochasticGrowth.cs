using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Optimization;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models.Growth;

/// <summary>
/// The growth model with log utility: a planner maximizes E Σ βᵗ ln C subject to K' + C = z·K^α + (1 − δ)K, with
/// ln z' = ρ ln z + ε, ε ~ N(0, σ²). The network gives the savings rate s(K, z) ∈ (0, 1) as a share of
/// <b>resources</b> W = Y + (1 − δ)K: K' = s·W and C = (1 − s)·W are positive from the first step, and any K' in
/// (0, W) can be chosen (gross investment may be negative: the unconstrained planner). The workshop's definition, s as a
/// share of output, is <see cref="StochasticGrowthOutputShare"/>; at δ = 1 the two coincide. With δ = 1 the solution is
/// K' = αβ·z·K^α (s = αβ); with δ &lt; 1 the reference is time iteration on the Euler equation. With σ = 0 and z starting
/// at 1 it is Brock and Mirman's (1972) deterministic model: TFP is then the constant 1, not a state.
/// </summary>
public sealed class StochasticGrowth : Model<GrowthCalibration>, IRecommendsSolver
{
    private readonly State _k, _z;
    private readonly Policy _s;
    private readonly Definition _output, _wealth, _consumption, _return;

    public StochasticGrowth(GrowthCalibration c) : base(c)
    {
        _k = State("K", InitialDistribution.Uniform(c.CapitalLow, c.CapitalHigh), description: "capital");
        _z = LogAR1("z", InitialDistribution.Uniform(c.ProductivityLow, c.ProductivityHigh), c.Rho, c.Sigma, "total factor productivity");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate, a share of resources: K′ = s·W");
        _output = Define("Y", t => t[_z] * t[_k].pow(c.Alpha), description: "output z·K^α");
        _wealth = Define("W", t => t[_output] + t[_k] * (1 - c.Delta), description: "resources Y + (1 − δ)K");
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], description: "consumption (1 − s)·W");
        _return = Define("R", t => t[_output] / t[_k] * c.Alpha + (1 - c.Delta), description: "gross return 1 − δ + αzK^(α−1) = 1 − δ + αY/K");
    }

    /// <summary>Says which savings rate s is when it matters (δ &lt; 1: a share of resources, not of output).</summary>
    public override string Title => (Calibration.Sigma == 0
        ? $"Brock–Mirman (deterministic, δ = {Calibration.Delta:G4})"
        : $"stochastic growth (Brock–Mirman with AR(1) TFP, δ = {Calibration.Delta:G4})")
        + (Calibration.Delta < 1 ? ", s a share of resources Y + (1 − δ)K" : "");

    public override IReadOnlyList<string> Formulas =>
    [
        "Y = z·K^α",
        "W = Y + (1 − δ)·K",
        "C = (1 − s)·W",
        "R = 1 − δ + α·Y/K",
        "K′ = s·W",
        GrowthFormulas.Productivity(_z),
        "euler: 1 − 1/(β·C·E[R′/C′]) = 0",
    ];

    public override string? ReferenceSummary => HasClosedForm
        ? $"closed form s = αβ = {Calibration.Alpha * Calibration.Beta:G6} (δ = 1), i.e. K′ = αβ·z·K^α"
        : "time iteration on the Euler equation (80 × 15 grid, Gauss–Hermite 10) as the share of resources K′/W";

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_s] * t[_wealth]);
    }

    /// <summary>The relative Euler error 1 − 1/(β·C·E[(1 − δ + r')/C']).</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var expectation = t.Expect(next => next[_return] / next[_consumption]);
        yield return ("euler", 1 - 1 / (Calibration.Beta * t[_consumption] * expectation));
    }

    public override bool HasClosedForm => Calibration.Delta == 1;

    protected override IEnumerable<(Policy Policy, Tensor Value)>? ClosedForm(Period t)
    {
        if (!HasClosedForm) return null;
        return [(_s, full_like(t[_k], Calibration.Alpha * Calibration.Beta))];
    }

    /// <summary>Time iteration on an 80 × 15 grid over the initial box, with Gauss–Hermite 10 for the expectation.</summary>
    public override IPolicyReference? Reference() => HasClosedForm ? null
        : new TimeIterationReference(Calibration, _k, _z, 80, 15, 10, (k, z, kNext) => kNext / Calibration.Wealth(k, z));

    /// <summary>
    /// The settings measured to reach the benchmark targets (docs/solve-defaults.md, sections 3 and 5): Adam finds the
    /// solution's neighbourhood, Levenberg–Marquardt rounds take it to errors of 1e-7.
    /// </summary>
    public SolverSpec Recommended => Calibration switch
    {
        { Sigma: 0 } => Measured(episodes: 1_000, length: 1, redraw: true, learningRate: 3e-3, logEvery: 100, new PolishSpec { Rounds = 4, States = 512 }),   // 64 fresh states a step
        { Delta: 1 } => Measured(episodes: 500, length: 10, redraw: true, learningRate: 1e-3, logEvery: 50, new PolishSpec { Rounds = 6 }),    // the box and the paths into the ergodic set
        _ => Measured(episodes: 1_000, length: 10, redraw: false, learningRate: 1e-3, logEvery: 50, new PolishSpec { Rounds = 6 }),              // continuing paths, as the workshop
    };

    private static SolverSpec Measured(int episodes, int length, bool redraw, double learningRate, int logEvery, PolishSpec polish) => new()
    {
        Episodes = episodes, EpisodeLength = length, RedrawEachEpisode = redraw, LogEvery = logEvery, Polish = polish, Quadrature = SolverSpec.MeasuredQuadrature,
        Optimization = SolverSpec.AdamCosine(learningRate, episodes),
    };
}
