using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Optimization;
using static TorchSharp.torch;

namespace CustomModel;

/// <summary>N countries, a common boom-or-bust regime, and irreversible investment.</summary>
public sealed record MultiCountryCalibration(
    [Parameter("countries", "number of countries N", Range = "integer from 1 to 100")] double Countries = 3,
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.36,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.96,
    [Parameter("delta", "depreciation δ (1: the closed form holds)", Range = "(0, 1]")] double Delta = 1,
    [Parameter("z_bust", "productivity in a bust", Range = "> 0")] double Bust = 0.95,
    [Parameter("z_boom", "productivity in a boom", Range = "> 0")] double Boom = 1.05,
    [Parameter("persistence", "probability that a regime lasts another period", Range = "[0, 1]")] double Persistence = 0.9) : Calibration
{
    public int N => (int)Countries;

    public override void Validate()
    {
        if (!(Countries >= 1 && Countries <= 100 && Countries == Math.Floor(Countries))) throw new ArgumentException($"countries must be an integer from 1 to 100 (got {Countries})");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha must be in (0, 1) (got {Alpha})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta must be in (0, 1) (got {Beta})");
        if (!(Delta > 0 && Delta <= 1)) throw new ArgumentException($"delta must be in (0, 1] (got {Delta})");
        if (!(Bust > 0 && Boom > 0)) throw new ArgumentException($"z_bust and z_boom must be > 0 (got {Bust}, {Boom})");
        if (!(Persistence >= 0 && Persistence <= 1)) throw new ArgumentException($"persistence must be in [0, 1] (got {Persistence})");
    }

    /// <summary>Each country's deterministic steady-state capital, (α/(1/β − 1 + δ))^{1/(1−α)}.</summary>
    public double SteadyStateCapital => Math.Pow(Alpha / (1 / Beta - 1 + Delta), 1 / (1 - Alpha));
}

/// <summary>
/// A planner with log utility pools N countries' output: each country's capital is a vector element, a common
/// two-state Markov chain switches productivity between bust and boom, and investment cannot be negative (a KKT
/// condition with a multiplier per country, as one Fischer–Burmeister residual each). The network gives each
/// country's share s_i of resources kept as its capital, k′_i = s_i·W/N, and the multiplier m_i = μ_i·C ≥ 0.
/// With δ = 1 investment is k′ itself, the constraint never binds, and s_i = αβ, m_i = 0 is the solution.
/// </summary>
public sealed class MultiCountry : Model<MultiCountryCalibration>, IRecommendsSolver
{
    private readonly State _k, _regime;
    private readonly Policy _s, _m;
    private readonly Definition _z, _output, _resources, _nextCapital, _consumption, _return, _investment;

    public MultiCountry(MultiCountryCalibration c) : base(c)
    {
        int n = c.N;
        double kss = c.SteadyStateCapital;
        double p = c.Persistence;
        _k = State("k", n, InitialDistribution.Uniform(0.5 * kss, 1.5 * kss), description: "capital by country");
        _regime = Markov("regime", new MarkovChain(new[,] { { p, 1 - p }, { 1 - p, p } }, ["bust", "boom"]), description: "common productivity regime");
        _s = Policy("s", n, PolicyOutput.Implied, new Bounds(0, 1), "share of resources kept as each country's capital (times N)");
        _m = Policy("m", n, PolicyOutput.Softplus, description: "multiplier of irreversible investment, μ_i·C ≥ 0");
        _z = Values(_regime, "z", [c.Bust, c.Boom], "productivity");
        _output = Define("Y", t => (t[_z] * t[_k].pow(c.Alpha)).sum(dim: 0), description: "world output Σ z·k_i^α");
        _resources = Define("W", t => t[_output] + t[_k].sum(dim: 0) * (1 - c.Delta), description: "resources Y + (1 − δ)Σk_i");
        _nextCapital = Define("k_next", n, t => t[_s] * t[_resources] / n, description: "next period's capital s_i·W/N");
        _consumption = Define("C", t => t[_resources] - t[_nextCapital].sum(dim: 0), description: "world consumption");
        _return = Define("R", n, t => t[_z] * t[_k].pow(c.Alpha - 1) * c.Alpha + (1 - c.Delta), description: "gross return on each country's capital");
        _investment = Define("I", n, t => t[_nextCapital] - t[_k] * (1 - c.Delta), description: "investment by country");
    }

    public override string Title => $"{Calibration.N} countries with regime switching and irreversible investment (δ = {Calibration.Delta:G4})";

    public override IReadOnlyList<string> Formulas =>
    [
        "Y = Σ_i z·k_i^α;  W = Y + (1 − δ)Σ_i k_i;  k′_i = s_i·W/N;  C = W − Σ_i k′_i;  I_i = k′_i − (1 − δ)k_i",
        "z ∈ {z_bust, z_boom}, a Markov chain that keeps its regime with probability 'persistence'",
        "euler[i]: (1 − m_i) − β·C·E[(αz′k′_i^(α−1) + 1 − δ − (1 − δ)·m′_i)/C′] = 0",
        "irreversible[i]: FB(I_i/k_i, m_i) = 0  (I_i ≥ 0, m_i ≥ 0, I_i·m_i = 0)",
    ];

    public override string? ReferenceSummary => HasClosedForm ? "closed form s_i = αβ, m_i = 0 (δ = 1)" : null;

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_nextCapital]);
    }

    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        double delta = Calibration.Delta;
        var expectation = t.Expect(next => (next[_return] - next[_m] * (1 - delta)) / next[_consumption]);
        yield return ("euler", 1 - t[_m] - Calibration.Beta * t[_consumption] * expectation);
        yield return ("irreversible", Complementarity.FischerBurmeister(t[_investment] / t[_k], t[_m]));
    }

    public override bool HasClosedForm => Calibration.Delta == 1;

    protected override IEnumerable<(Policy Policy, Tensor Value)>? ClosedForm(Period t) => HasClosedForm
        ? [(_s, full_like(t[_k], Calibration.Alpha * Calibration.Beta)), (_m, zeros_like(t[_k]))]
        : null;

    /// <summary>Fresh draws over the box every episode and 10 periods into the ergodic set, as for stochastic Brock–Mirman.</summary>
    public SolverSpec Recommended => new()
    {
        Episodes = 2_000, EpisodeLength = 10, RedrawEachEpisode = true, LogEvery = 50,
        Optimization = SolverSpec.AdamCosine(1e-3, 2_000),
    };
}
