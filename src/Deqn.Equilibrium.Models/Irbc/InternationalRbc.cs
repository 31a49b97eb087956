using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Solving;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models.Irbc;

/// <summary>
/// A planner allocates world output over N countries: y_j = A·e^{z_j}·k_j^ζ, adjustment costs Γ_j = (κ/2)·k_j·g_j² with
/// g_j = k′_j/k_j − 1, one world resource constraint with multiplier λ, and consumption from τ_j·c_j^{−1/γ_j} = λ.
/// Log TFP moves by z′_j = ρ·z_j + σ(ε_j + ε_0): a shock per country and a common one, declared as one AR(1) process of N
/// elements with innovations correlated 1/2 (N correlated innovations rather than N + 1 independent ones). The network gives next period's
/// capital k′_j and λ (both through softplus, positive). With <c>irreversible</c>, investment I_j = k′_j − (1 − δ)k_j
/// cannot be negative: a third policy μ_j ≥ 0 (softplus) enters the Euler equations, and a Fischer–Burmeister residual
/// per country pairs the investment rate I_j/k_j with the multiplier's weight in the Euler equation, (1 − β(1 − δ))·μ_j/λ.
/// </summary>
public sealed class InternationalRbc : Model<IrbcCalibration>, IRecommendsSolver
{
    private readonly bool _irreversible;
    private readonly State _k, _z;
    private readonly Policy _kNext, _lambda;
    private readonly Policy? _mu;
    private readonly Definition _output, _growth, _adjustment, _consumption, _investment, _return, _resources;
    private readonly double[] _gammas, _taus;

    public InternationalRbc(IrbcCalibration c, bool irreversible = false) : base(c)
    {
        _irreversible = irreversible;
        int n = c.N;
        double a = c.Productivity;
        _gammas = c.Elasticities;
        _taus = c.ParetoWeights;
        _k = State("k", n, InitialDistribution.Uniform(0.8, 1.2), description: "capital by country");
        _z = AR1("z", n, InitialDistribution.Uniform(-0.16, 0.16), c.Rho, c.Sigma, commonSigma: c.Sigma, "log TFP by country");
        _kNext = Policy("k_next", n, PolicyOutput.Softplus, description: "next period's capital by country");
        _lambda = Policy("lambda", PolicyOutput.Softplus, description: "multiplier of the world resource constraint");
        if (irreversible) _mu = Policy("mu", n, PolicyOutput.Softplus, description: "multiplier of irreversible investment by country");
        _output = Define("y", n, t => t[_z].exp() * t[_k].pow(c.Zeta) * a, description: "output A·e^z·k^ζ");
        _growth = Define("g", n, t => t[_kNext] / t[_k] - 1, description: "capital growth k′/k − 1");
        _adjustment = Define("adjustment", n, t => t[_k] * t[_growth].square() * (c.Kappa / 2), description: "adjustment cost (κ/2)·k·g²");
        _consumption = Define("c", n, t => (t[_lambda] / t.PerElement(_taus)).pow(-t.PerElement(_gammas)), description: "consumption (λ/τ)^(−γ)");
        _investment = Define("I", n, t => t[_kNext] - t[_k] * (1 - c.Delta), description: "investment k′ − (1 − δ)k");
        _return = Define("R", n, t => t[_z].exp() * t[_k].pow(c.Zeta - 1) * (c.Zeta * a) + (1 - c.Delta) + t[_growth] * (t[_growth] + 2) * (c.Kappa / 2),
            description: "return on capital ζA·e^z·k^(ζ−1) + 1 − δ + (κ/2)·g(g + 2)");
        _resources = Define("resources", t => (t[_output] + t[_k] * (1 - c.Delta)).sum(dim: 0), description: "world resources Σ(y + (1 − δ)k)");
    }

    /// <summary>
    /// The defaults a model of your own gets, with the polish's rounds by size (docs/solve-defaults.md, section 7). Up
    /// to two countries 10 rounds instead of 20: issue 20's N = 2 target is two minutes, and the rounds beyond the
    /// tenth cost 7 s each for Euler errors already below it. From 20 countries on none: a round's 2,048 rows hold at
    /// most 97 economies for 5,671 weights and more, and at N = 20 the 20 rounds (285 s) moved the slopes at the steady
    /// state 3 % and raised the residuals on fresh states (7.6e-7 to 2.4e-6), so the guard undid them.
    /// </summary>
    public SolverSpec Recommended => Calibration.N switch
    {
        <= 2 => new SolverSpec { Polish = new PolishSpec { Rounds = 10 } },
        >= 20 => new SolverSpec { Polish = new PolishSpec { Rounds = 0 } },
        _ => new SolverSpec(),
    };

    public override string Title => $"IRBC with {Calibration.N} countries{(_irreversible ? " and irreversible investment" : "")}";

    public override IReadOnlyList<string> Formulas =>
    [
        "y_j = A·e^{z_j}·k_j^ζ,  A = (1 − β(1 − δ))/(ζβ)",
        "g_j = k′_j/k_j − 1;  Γ_j = (κ/2)·k_j·g_j²",
        "c_j = (λ/τ_j)^(−γ_j),  τ_j = (A − δ)^(1/γ_j)",
        "I_j = k′_j − (1 − δ)·k_j",
        "R_j = ζA·e^{z_j}·k_j^(ζ−1) + 1 − δ + (κ/2)·g_j·(g_j + 2)",
        "z′_j = ρ·z_j + σ(ε_j + ε_0),  ε ~ N(0, 1) independent (N innovations correlated 1/2)",
        _irreversible
            ? "euler[j]: (β·E[λ′R′_j − (1 − δ)μ′_j] + μ_j)/(λ(1 + κg_j)) − 1 = 0"
            : "euler[j]: β·E[λ′R′_j]/(λ(1 + κg_j)) − 1 = 0",
        "resource: Σ_j(y_j + (1 − δ)k_j − k′_j − Γ_j − c_j) / Σ_j(y_j + (1 − δ)k_j) = 0",
        .. (_irreversible ? new[] { "irreversible[j]: FB(I_j/k_j, (1 − β(1 − δ))·μ_j/λ) = 0  (I_j ≥ 0, μ_j ≥ 0, I_j·μ_j = 0)" } : []),
    ];

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues e)
    {
        yield return (_k, t[_kNext]);   // log TFP follows its declared AR(1)
    }

    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        double beta = Calibration.Beta, delta = Calibration.Delta;
        var cost = t[_lambda] * (1 + t[_growth] * Calibration.Kappa);
        if (_mu is null)
            yield return ("euler", t.Expect(next => next[_lambda] * next[_return]) * beta / cost - 1);
        else
            yield return ("euler", (t.Expect(next => next[_lambda] * next[_return] - next[_mu] * (1 - delta)) * beta + t[_mu]) / cost - 1);
        var spent = t[_kNext] + t[_adjustment] + t[_consumption];
        yield return ("resource", 1 - spent.sum(dim: 0) / t[_resources]);
        if (_mu is not null)
        {
            // Investment rate I/k against the multiplier's weight in the relative Euler error, (1 − β(1 − δ))·μ/λ (the shift
            // a constant μ makes there): both of the order of an Euler error. With μ/λ alone, FB ≈ min(I/k, μ/λ) was met
            // by I → 0 with μ/λ ≈ 1; with I/(δk) the complementarity outweighed the Euler equations a hundredfold.
            double weight = 1 - beta * (1 - delta);
            yield return ("irreversible", Complementarity.FischerBurmeister(t[_investment] / t[_k], t[_mu] / t[_lambda] * weight));
        }
    }
}
