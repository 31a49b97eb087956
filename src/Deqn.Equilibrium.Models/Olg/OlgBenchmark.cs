using Deqn.Equilibrium.Modeling;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models.Olg;

/// <summary>
/// The Deep Equilibrium Nets paper's 56-generation benchmark (Azinovic, Gaegauf and Scheidegger, IER 2022, section 5),
/// as its code writes it. Age a = 1 … A works l_a (a hump), holds capital k_a and bonds b_a bought the period before
/// (none at age 1), and splits its income — R·k_a + min(κR, 1)·b_a + w·l_a — into consumption, capital k′_a, bonds at
/// the price p, and an adjustment cost (ζ/2)(k′_a − R·k_a)²; the oldest buys nothing and pays to liquidate. Firms
/// produce η·K^α·L^(1−α) with K = Σ k_a; (δ, η) follow a persistent four-state chain. Capital cannot be sold short
/// (k′ ≥ 0, multiplier λ), and a short bond position must be backed by capital: q = k′ + κ·b′ ≥ 0 (multiplier μ) with
/// κ = 1/(1 − max δ). Bonds are in zero net supply, and p clears their market.
/// </summary>
/// <remarks>
/// The network sees the holdings k_2 … k_A and b_2 … b_A, the chain (one-hot) and, as in the paper, aggregate capital,
/// the prices and every age's income; it gives k′, λ, q, μ (A − 1 each) and p, all through softplus, so k′ ≥ 0 and
/// the collateral constraint hold by construction (b′ = (q − k′)/κ). The Euler equations are the paper's relative
/// errors in consumption; the complementarities are Fischer–Burmeister pairs (the paper's products k′λ and qμ let a
/// multiplier and its constraint both be far from zero at a small product); bond-market clearing is an equation, Σ b′
/// relative to the capital saved. Consumption is floored at 1e-5 with a penalty, the paper's guard while the network is
/// far from the solution.
/// </remarks>
public sealed class OlgBenchmark : Model<OlgBenchmarkCalibration>
{
    private readonly State _k, _b, _shock;
    private readonly Policy _kNext, _lambda, _q, _mu, _price;
    private readonly Definition _eta, _delta, _capital, _return, _wage, _payoff, _income, _bNext, _adjustment, _consumption;

    private readonly OlgBenchmarkSteadyState.Profile _profile;

    /// <summary>The economy, its initial distribution around its deterministic steady state (<see cref="OlgBenchmarkSteadyState"/>).</summary>
    public OlgBenchmark(OlgBenchmarkCalibration c) : this(c, OlgBenchmarkSteadyState.Of(c)) { }

    /// <summary>
    /// The economy with its initial distribution around <paramref name="profile"/>: each holding within 5 % of it (and
    /// 0.001) on either side. Independent draws of 110 holdings are far more dispersed jointly than the simulated
    /// economy's (its aggregate capital stays within ±15 % of the steady state's in the paper's ergodic sample), so the
    /// box is narrow; training's paths find the ergodic set from it.
    /// </summary>
    internal OlgBenchmark(OlgBenchmarkCalibration c, OlgBenchmarkSteadyState.Profile profile) : base(c)
    {
        int a = c.A;
        var labour = c.Labour();
        double labourSupply = labour.Sum();
        _profile = profile;
        static InitialDistribution Around(double x) => InitialDistribution.Uniform(x - 0.05 * Math.Abs(x) - 1e-3, x + 0.05 * Math.Abs(x) + 1e-3);
        _k = State("k", profile.K.Select(x => InitialDistribution.Uniform(Math.Max(0, 0.95 * x - 1e-3), 1.05 * x + 1e-3)).ToArray(), description: "capital held by ages 2 … A");
        _b = State("b", profile.B.Select(Around).ToArray(), description: "bonds held by ages 2 … A");
        _shock = Markov("shock", c.Chain(), description: "depreciation and productivity, a persistent four-state chain");
        _kNext = Policy("k_next", a - 1, PolicyOutput.Softplus, description: "capital bought by ages 1 … A−1");
        _lambda = Policy("lambda", a - 1, PolicyOutput.Softplus, description: "multiplier of k′ ≥ 0 by age");
        _q = Policy("q", a - 1, PolicyOutput.Softplus, description: "collateral k′ + κ·b′ by age (≥ 0)");
        _mu = Policy("mu", a - 1, PolicyOutput.Softplus, description: "multiplier of the collateral constraint by age");
        _price = Policy("p", PolicyOutput.Softplus, description: "bond price");
        _eta = Values(_shock, "eta", c.Etas, "productivity η");
        _delta = Values(_shock, "delta", c.Deltas, "depreciation δ");
        double labourShare = Math.Pow(labourSupply, 1 - c.Alpha);
        _capital = Feature("K", t => t[_k].sum(dim: 0), description: "aggregate capital Σ k_a (a network input)");
        _return = Feature("R", t => t[_eta] * t[_capital].pow(c.Alpha - 1) * (c.Alpha * labourShare) + 1 - t[_delta], description: "gross return αηK^(α−1)L^(1−α) + 1 − δ (a network input)");
        _wage = Feature("w", t => t[_eta] * t[_capital].pow(c.Alpha) * ((1 - c.Alpha) * Math.Pow(labourSupply, -c.Alpha)), description: "wage (1 − α)ηK^α·L^(−α) (a network input)");
        _payoff = Define("payoff", t => (t[_return] * c.Kappa).clamp_max(1), description: "a bond's payoff min(κR, 1): the collateral's value when it does not cover the debt");
        _income = Feature("income", a, t => Held(t[_return] * t[_k] + t[_payoff] * t[_b]) + t[_wage] * t.PerElement(labour),
            description: "income by age: R·k_a + min(κR, 1)·b_a + w·l_a (network inputs)");
        _bNext = Define("b_next", a - 1, t => (t[_q] - t[_kNext]) / c.Kappa, description: "bonds bought by ages 1 … A−1: (q − k′)/κ");
        _adjustment = Define("adjustment", a, t => Saved(t[_kNext]) - Held(t[_k]) * t[_return], description: "k′_a − R·k_a by age (k_1 = 0, k′_A = 0)");
        _consumption = Define("c", a, t => t[_income] - Saved(t[_kNext]) - Saved(t[_bNext]) * t[_price] - t[_adjustment].square() * (c.Zeta / 2),
            new Bounds(lower: 1e-5), "consumption by age: income − k′ − p·b′ − (ζ/2)(k′ − R·k)²");
    }

    /// <summary>A − 1 choices by age 1 … A−1 with the oldest's zero appended: A rows.</summary>
    private static Tensor Saved(Tensor choice) => cat([choice, choice.narrow(0, 0, 1).zeros_like()], 0);

    /// <summary>A − 1 holdings of ages 2 … A with the newborn's zero in front: A rows.</summary>
    private static Tensor Held(Tensor holding) => cat([holding.narrow(0, 0, 1).zeros_like(), holding], 0);

    public override string Title => $"the DEQN paper's benchmark OLG (Azinovic–Gaegauf–Scheidegger 2022), {Calibration.A} generations";

    public override IReadOnlyList<string> Formulas =>
    [
        "K = Σ_a k_a;  R = αηK^(α−1)L^(1−α) + 1 − δ;  w = (1 − α)ηK^α·L^(−α);  L = Σ_a l_a",
        "income_a = R·k_a + min(κR, 1)·b_a + w·l_a  (k_1 = b_1 = 0);  κ = 1/(1 − max δ)",
        "b′_a = (q_a − k′_a)/κ;  c_a = income_a − k′_a − p·b′_a − (ζ/2)(k′_a − R·k_a)²  (k′_A = b′_A = 0);  c ≥ 1e-5 (penalty)",
        "k′_{a+1} = k′_a, b′_{a+1} = b′_a: each age carries its holdings into the next; (δ, η) follow the chain",
        "euler_k[a]: ((β·E[R′(1 + ζ(k″_{a+1} − R′k′_a))·c′_{a+1}^(−γ)] + λ_a + μ_a)/(1 + ζ(k′_a − R·k_a)))^(−1/γ)/c_a − 1 = 0  (a = 1 … A−1)",
        "euler_b[a]: ((β·E[min(κR′, 1)·c′_{a+1}^(−γ)] + κ·μ_a)/p)^(−1/γ)/c_a − 1 = 0",
        "short_sale[a]: FB(k′_a, λ_a) = 0  (k′ ≥ 0, λ ≥ 0, k′λ = 0)",
        "collateral[a]: FB(q_a, μ_a) = 0  (q = k′ + κb′ ≥ 0, μ ≥ 0, qμ = 0)",
        "bonds: Σ_a b′_a / Σ_a k′_a = 0  (zero net supply)",
    ];

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_kNext]);
        yield return (_b, t[_bNext]);
    }

    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var c = Calibration;
        int a = c.A;
        var consumption = t[_consumption].narrow(0, 0, a - 1);
        var capital = t.Expect(next => next[_return] * (next[_adjustment].narrow(0, 1, a - 1) * c.Zeta + 1) * next[_consumption].narrow(0, 1, a - 1).pow(-c.Gamma));
        var bonds = t.Expect(next => next[_payoff] * next[_consumption].narrow(0, 1, a - 1).pow(-c.Gamma));
        var wedge = t[_adjustment].narrow(0, 0, a - 1) * c.Zeta + 1;
        // The ratios are marginal utilities, positive at any sane state; far from the solution (a liquidation cost above
        // the return, a negative wedge) the clamp keeps the residual large and finite instead of NaN.
        var marginal = (capital * c.Beta + t[_lambda] + t[_mu]) / wedge;
        yield return ("euler_k", marginal.clamp_min(1e-12).pow(-1 / c.Gamma) / consumption - 1);
        var bondMarginal = (bonds * c.Beta + t[_mu] * c.Kappa) / t[_price];
        yield return ("euler_b", bondMarginal.clamp_min(1e-12).pow(-1 / c.Gamma) / consumption - 1);
        yield return ("short_sale", Complementarity.FischerBurmeister(t[_kNext], t[_lambda]));
        yield return ("collateral", Complementarity.FischerBurmeister(t[_q], t[_mu]));
        yield return ("bonds", t[_bNext].sum(dim: 0) / t[_kNext].sum(dim: 0));
    }

    protected override void GuessSteadyState(Perturbation.SteadyStateGuess guess) =>
        guess.Set(_k, _profile.K).Set(_b, _profile.B).Set(_kNext, _profile.KNext).Set(_lambda, _profile.Lambda)
            .Set(_q, _profile.Q).Set(_mu, _profile.Mu).Set(_price, _profile.Price);
}
