using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Optimization;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models.Olg;

/// <summary>
/// Krueger and Kubler's (2004) analytic overlapping-generations economy, the DEQN paper's appendix benchmark, written
/// with vector variables: A generations with log utility; only the young (age 1) work, supplying one unit of labour;
/// age h saves a share s_h of its income (the wage at age 1, r·k_h later) and the oldest consumes everything. Firms
/// produce η·K^α with K the sum of the holdings; η and δ follow one four-state iid Markov chain. The network sees the
/// holdings k_2 … k_A and the shock (one-hot) and gives the savings rates s_1 … s_{A−1} (sigmoids). With log utility
/// the solution is known: s_h = β(1 − β^{A−h})/(1 − β^{A−h+1}) whatever the state.
/// </summary>
public sealed class AnalyticOlg : Model<OlgCalibration>, IRecommendsSolver
{
    private readonly State _k, _shock;
    private readonly Policy _s;
    private readonly Definition _eta, _delta, _capital, _r, _w, _income, _consumption, _consumptionPerHolding;
    private readonly double[] _closedForm;

    public AnalyticOlg(OlgCalibration c) : base(c)
    {
        int a = c.A;
        _closedForm = c.SavingsRates();
        var steady = c.SteadyStateHoldings();
        _k = State("k", steady.Select(k => InitialDistribution.Uniform(0.5 * k, 1.5 * k)).ToArray(), description: "capital held by ages 2 … A");
        _shock = Markov("shock", MarkovChain.Iid([0.25, 0.25, 0.25, 0.25], ["η low δ low", "η low δ high", "η high δ low", "η high δ high"]),
            description: "productivity and depreciation, four equally likely states, iid");
        _s = Policy("s", a - 1, PolicyOutput.Implied, new Bounds(0, 1), "savings rate out of income by age 1 … A−1");
        _eta = Values(_shock, "eta", [c.EtaLow, c.EtaLow, c.EtaHigh, c.EtaHigh], "productivity η");
        _delta = Values(_shock, "delta", [c.DeltaLow, c.DeltaHigh, c.DeltaLow, c.DeltaHigh], "depreciation δ");
        _capital = Feature("K", t => t[_k].sum(dim: 0), description: "aggregate capital Σ k_h (a network input)");
        _r = Define("r", t => t[_eta] * t[_capital].pow(c.Alpha - 1) * c.Alpha + 1 - t[_delta], description: "gross return αηK^(α−1) + 1 − δ");
        _w = Define("w", t => t[_eta] * t[_capital].pow(c.Alpha) * (1 - c.Alpha), description: "wage (1 − α)ηK^α");
        _income = Feature("income", a, t => cat([t[_w].unsqueeze(0), t[_r] * t[_k]], 0), description: "income by age: w at age 1, r·k_h later (network inputs)");
        _consumption = Define("c", a, t => cat([(1 - t[_s]) * t[_income].narrow(0, 0, a - 1), t[_income].narrow(0, a - 1, 1)], 0),
            description: "consumption by age: (1 − s_h)·income_h, all income at age A");
        _consumptionPerHolding = Define("c_per_k", a - 1, t => cat([(1 - t[_s].narrow(0, 1, a - 2)) * t[_r].unsqueeze(0), t[_r].unsqueeze(0)], 0),
            description: "consumption per unit of capital held, ages 2 … A: (1 − s_h)·r, and r at age A");
    }

    public override string Title => $"analytic OLG (Krueger–Kubler 2004), {Calibration.A} generations";

    public override IReadOnlyList<string> Formulas =>
    [
        "K = Σ_h k_h;  r = αηK^(α−1) + 1 − δ;  w = (1 − α)ηK^α",
        "income_1 = w;  income_h = r·k_h (h = 2 … A)",
        "c_h = (1 − s_h)·income_h (h < A);  c_A = income_A",
        "k′_{h+1} = s_h·income_h (h = 1 … A−1)",
        "(η, δ) ∈ {η_low, η_high} × {δ_low, δ_high}, each with probability 1/4, iid",
        "euler[h]: 1 − 1/(β·c_h·E[r′/c′_{h+1}]) = 0 (h = 1 … A−1), evaluated as 1 − 1/(β·((1 − s_h)/s_h)·E[r′/q′_{h+1}]) with q_j = c_j/k_j",
    ];

    public override string ReferenceSummary => "closed form s_h = β(1 − β^{A−h})/(1 − β^{A−h+1})";

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_s] * t[_income].narrow(0, 0, Calibration.A - 1));
    }

    /// <summary>
    /// The relative Euler error of every age that saves, 1 − 1/(β·c_h·E[r′/c′_{h+1}]), written with ratios: next period's
    /// c′_{h+1} = q′_{h+1}·a_h (consumption per unit held times this period's savings) and c_h/a_h = (1 − s_h)/s_h, so
    /// c_h·r′/c′_{h+1} = ((1 − s_h)/s_h)·r′/q′_{h+1}. The same equation, but free of the holdings' scale, which spans
    /// twenty orders of magnitude between the young and the old at A = 56 and overflows the gradient written directly.
    /// </summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var expectation = t.Expect(next => next[_r] / next[_consumptionPerHolding]);
        var s = t[_s];
        yield return ("euler", 1 - 1 / (Calibration.Beta * (1 - s) / s * expectation));
    }

    public override bool HasClosedForm => true;

    protected override IEnumerable<(Policy Policy, Tensor Value)> ClosedForm(Period t) => [(_s, t.PerElement(_closedForm))];

    /// <summary>
    /// Measured to reach the benchmark targets at A = 6 (docs/solve-defaults.md, section 4): continuing paths of 64
    /// economies, 10 periods an episode, Adam at 3e-3 with a cosine schedule (1e-3 ended at a mean error of 1.3e-4),
    /// inputs scaled by the simulated states: the holdings of the old are orders of magnitude below the young's
    /// (1e-14 at A = 40), and scaled by a fixed box they leave it by factors that saturate the network. Up to ten
    /// generations, 1,000 episodes and five Levenberg–Marquardt rounds on 256 economies (A − 1 equations each); beyond,
    /// 2,000 episodes and the default polish (20 rounds of at most 2,048 rows): with the Gauss–Newton core of section 8 it
    /// reaches max policy errors of 8.4e-4 at A = 20 from no warm start and 6.1e-4 at A = 56 from the default one.
    /// </summary>
    public SolverSpec Recommended => Calibration.A <= 10
        ? Measured(1_000) with { Polish = new PolishSpec { Rounds = 5, States = 256 } }
        : Measured(2_000);

    private static SolverSpec Measured(int episodes) => new()
    {
        Episodes = episodes, EpisodeLength = 10, LogEvery = 50, InputScaling = InputScaling.Simulated,
        Optimization = SolverSpec.AdamCosine(3e-3, episodes),
    };
}
