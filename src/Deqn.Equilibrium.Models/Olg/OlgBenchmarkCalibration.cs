using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Models.Olg;

/// <summary>
/// The Deep Equilibrium Nets paper's benchmark OLG economy (Azinovic, Gaegauf and Scheidegger, IER 2022, section 5;
/// `sischei/DeepEquilibriumNets`, code/python-scripts/benchmark): A generations (56, ages 25 … 80) with CRRA utility,
/// a hump-shaped labour endowment, capital with an adjustment cost and a one-period bond in zero net supply, borrowing
/// against capital up to a collateral requirement, and a persistent four-state Markov chain for depreciation and
/// productivity (each a two-state chain; the chain on δ × η is their product, δ-major).
/// </summary>
public sealed record OlgBenchmarkCalibration(
    [Parameter("generations", "number of generations A", Range = "integer from 3 to 200")] double Generations = 56,
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.3,
    [Parameter("beta_56", "discount factor of the 56-generation economy; β = beta_56^(56/A)", Range = "(0, 1)")] double Beta56 = 0.95,
    [Parameter("gamma", "relative risk aversion γ", Range = "> 0")] double Gamma = 2,
    [Parameter("zeta", "capital adjustment cost ζ: (ζ/2)(k′ − R·k)²", Range = "≥ 0")] double Zeta = 0.5,
    [Parameter("delta_low", "depreciation δ in the low state", Range = "[0, 1)")] double DeltaLow = 0.08,
    [Parameter("delta_high", "depreciation δ in the high state", Range = "[0, 1)")] double DeltaHigh = 0.11,
    [Parameter("eta_low", "productivity η in the low state", Range = "> 0")] double EtaLow = 0.978,
    [Parameter("eta_high", "productivity η in the high state", Range = "> 0")] double EtaHigh = 1.022,
    [Parameter("p_delta_low", "probability that δ stays low", Range = "(0, 1)")] double StayDeltaLow = 0.972,
    [Parameter("p_delta_high", "probability that δ stays high", Range = "(0, 1)")] double StayDeltaHigh = 0.7,
    [Parameter("p_eta", "probability that η stays where it is", Range = "(0, 1)")] double StayEta = 0.905) : Calibration
{
    public int A => (int)Generations;

    /// <summary>β = beta_56^(56/A): the same yearly discounting whatever the length of a period.</summary>
    public double Beta => Math.Pow(Beta56, 56.0 / A);

    /// <summary>κ = 1/(1 − max δ): a unit of bonds sold short is backed by κ units of capital, whose worst-case value pays it.</summary>
    public double Kappa => 1 / (1 - Math.Max(DeltaLow, DeltaHigh));

    public override void Validate()
    {
        if (!(Generations >= 3 && Generations <= 200 && Generations == Math.Floor(Generations))) throw new ArgumentException($"generations must be an integer from 3 to 200 (got {Generations})");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha (α) must be in (0, 1) (got {Alpha})");
        if (!(Beta56 > 0 && Beta56 < 1)) throw new ArgumentException($"beta_56 must be in (0, 1) (got {Beta56})");
        if (!(Gamma > 0) || !double.IsFinite(Gamma)) throw new ArgumentException($"gamma (γ) must be > 0 (got {Gamma})");
        if (!(Zeta >= 0) || !double.IsFinite(Zeta)) throw new ArgumentException($"zeta (ζ) must be ≥ 0 (got {Zeta})");
        if (!(DeltaLow >= 0 && DeltaLow < 1 && DeltaHigh >= 0 && DeltaHigh < 1)) throw new ArgumentException($"delta_low and delta_high must be in [0, 1) (got {DeltaLow}, {DeltaHigh})");
        if (!(EtaLow > 0 && EtaHigh > 0) || !double.IsFinite(EtaLow + EtaHigh)) throw new ArgumentException($"eta_low and eta_high must be > 0 (got {EtaLow}, {EtaHigh})");
        foreach (var (name, p) in new[] { ("p_delta_low", StayDeltaLow), ("p_delta_high", StayDeltaHigh), ("p_eta", StayEta) })
            if (!(p > 0 && p < 1)) throw new ArgumentException($"{name} must be in (0, 1) (got {p})");
    }

    /// <summary>The chain on (δ, η), δ-major: states (δ_low, η_low), (δ_low, η_high), (δ_high, η_low), (δ_high, η_high).</summary>
    public MarkovChain Chain() => MarkovChain.Product(
        new MarkovChain(new[,] { { StayDeltaLow, 1 - StayDeltaLow }, { 1 - StayDeltaHigh, StayDeltaHigh } }, ["δ low", "δ high"]),
        new MarkovChain(new[,] { { StayEta, 1 - StayEta }, { 1 - StayEta, StayEta } }, ["η low", "η high"]));

    public double[] Deltas => [DeltaLow, DeltaLow, DeltaHigh, DeltaHigh];
    public double[] Etas => [EtaLow, EtaHigh, EtaLow, EtaHigh];

    /// <summary>
    /// The labour endowment by age 1 … A (the paper's code): a quadratic hump from 0.6 at age 1 to 1.362 at A/2 until
    /// age ⌊2A/3⌋, then a linear fall to half that age's endowment by age ⌊5A/6⌋, flat afterwards.
    /// </summary>
    public double[] Labour()
    {
        int a = A, start = 2 * a / 3, end = 5 * a / 6;
        double half = a / 2.0, slope = 0.6 * 1.27 / (half * half);
        double Hump(int age) => 0.6 + slope * (half * half - (age - half) * (age - half));
        double peak = Hump(start);
        return Enumerable.Range(0, a).Select(age =>
            age < start ? Hump(age)
            : age < end ? peak - 0.5 * peak * (age - start) / Math.Max(1, end - 1 - start)
            : 0.5 * peak).ToArray();
    }
}
