using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Optimization;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models.Growth;

/// <summary>
/// The workshop's own stochastic growth model: log utility, Y = z·K^α, ln z′ = ρ ln z + ε, ε ~ N(0, σ²), and the savings
/// rate s(K, z) ∈ (0, 1) a share of <b>output</b>, as in the workshop's notebooks and library: K′ = (1 − δ)K + s·Y and
/// C = (1 − s)·Y. With s in (0, 1) gross investment s·Y is never negative (investment is irreversible), where
/// <see cref="StochasticGrowth"/>'s share of resources lets the planner eat capital. At δ = 1 the two coincide (s = αβ).
/// </summary>
/// <remarks>
/// The reference for δ &lt; 1 is the unconstrained planner's time iteration (the same as <see cref="StochasticGrowth"/>'s)
/// expressed as the output share s = (K′ − (1 − δ)K)/Y. It is this model's solution where irreversibility does not bind,
/// now or in any state reachable from there. At the workshop calibration it never binds where the solution is checked:
/// on the reference's own ergodic path (20 paths of 500 periods after 500 of burn-in, which the diagnostics take the
/// comparison grid's box from) the planner's s stays in [0.216, 0.413], and over the whole initial box
/// K ∈ [0.9, 12] × z ∈ [0.7, 1.3] it is at least 0.014 (at K = 12, z = 0.7, where the planner lets capital run down
/// fastest). <c>StochasticGrowthOutputShareTests</c> measures both and fails if a change makes it bind there. A relative
/// error in s is about ten times the relative error in K′ it stands for: near the steady state gross investment s·Y
/// is δK, a tenth of K′.
/// </remarks>
public sealed class StochasticGrowthOutputShare : Model<GrowthCalibration>, IRecommendsSolver
{
    private readonly State _k, _z;
    private readonly Policy _s;
    private readonly Definition _output, _consumption, _return;

    public StochasticGrowthOutputShare(GrowthCalibration c) : base(c)
    {
        _k = State("K", InitialDistribution.Uniform(c.CapitalLow, c.CapitalHigh), description: "capital");
        _z = LogAR1("z", InitialDistribution.Uniform(c.ProductivityLow, c.ProductivityHigh), c.Rho, c.Sigma, "total factor productivity");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate, a share of output: K′ = (1 − δ)K + s·Y");
        _output = Define("Y", t => t[_z] * t[_k].pow(c.Alpha), description: "output z·K^α");
        _consumption = Define("C", t => (1 - t[_s]) * t[_output], description: "consumption (1 − s)·Y");
        Define("I", t => t[_s] * t[_output], description: "gross investment s·Y (never negative)");
        _return = Define("R", t => t[_output] / t[_k] * c.Alpha + (1 - c.Delta), description: "gross return 1 − δ + αY/K");
    }

    public override string Title => (Calibration.Sigma == 0
        ? $"growth, deterministic (δ = {Calibration.Delta:G4})"
        : $"stochastic growth (AR(1) TFP, δ = {Calibration.Delta:G4})") + ", s a share of output: irreversible investment";

    public override IReadOnlyList<string> Formulas =>
    [
        "Y = z·K^α",
        "C = (1 − s)·Y",
        "I = s·Y",
        "R = 1 − δ + α·Y/K",
        "K′ = (1 − δ)·K + s·Y  (s: the share of output saved)",
        GrowthFormulas.Productivity(_z),
        "euler: 1 − 1/(β·C·E[R′/C′]) = 0",
    ];

    public override string? ReferenceSummary => HasClosedForm
        ? $"closed form s = αβ = {Calibration.Alpha * Calibration.Beta:G6} (δ = 1), i.e. K′ = αβ·z·K^α"
        : "time iteration on the Euler equation (80 × 15 grid, Gauss–Hermite 10) as the output share (K′ − (1 − δ)K)/Y, valid where irreversibility does not bind";

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_k] * (1 - Calibration.Delta) + t[_s] * t[_output]);
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

    /// <summary>Time iteration as <see cref="StochasticGrowth"/> solves it, translated to the share of output.</summary>
    public override IPolicyReference? Reference() => HasClosedForm ? null
        : new TimeIterationReference(Calibration, _k, _z, 80, 15, 10,
            (k, z, kNext) => (kNext - (1 - Calibration.Delta) * k) / (z * Math.Pow(k, Calibration.Alpha)), ", as the share of output");

    /// <summary>
    /// The settings measured to reach the benchmark target (the output share within 1e-3 of time iteration on the grid
    /// over the ergodic set; docs/solve-defaults.md, bench/solve/RESULTS.md): 64 economies drawn afresh over the box each
    /// episode and simulated for 10 periods, lr 3e-3, cosine over 1,500 episodes, then ten Levenberg–Marquardt rounds of
    /// five steps on 1,024 such states (section 5). Continuing paths, as for
    /// stochastic-growth, train only the ergodic set's middle, and the grid's corners stayed 4e-2 off.
    /// </summary>
    public SolverSpec Recommended => new()
    {
        Episodes = 1_500, EpisodeLength = 10, RedrawEachEpisode = true, LogEvery = 50, Quadrature = SolverSpec.MeasuredQuadrature,
        Optimization = SolverSpec.AdamCosine(3e-3, 1_500),
        Polish = new PolishSpec { Rounds = 10, Steps = 5 },
    };
}
