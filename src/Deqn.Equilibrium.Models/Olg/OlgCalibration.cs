using Deqn.Equilibrium.Modeling;

namespace Deqn.Equilibrium.Models.Olg;

/// <summary>
/// The analytic OLG economy of Krueger and Kubler (2004), the DEQN paper's appendix benchmark: A generations, log
/// utility, labour at age 1 only; each period one of four equally likely shocks to productivity η ∈ {η_low, η_high}
/// and depreciation δ ∈ {δ_low, δ_high}, independent over time.
/// </summary>
public sealed record OlgCalibration(
    [Parameter("generations", "number of generations A", Range = "integer from 2 to 1000")] double Generations = 6,
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.3,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.7,
    [Parameter("eta_low", "productivity η in the low state", Range = "> 0")] double EtaLow = 0.95,
    [Parameter("eta_high", "productivity η in the high state", Range = "> 0")] double EtaHigh = 1.05,
    [Parameter("delta_low", "depreciation δ in the low state", Range = "[0, 1]")] double DeltaLow = 0.5,
    [Parameter("delta_high", "depreciation δ in the high state", Range = "[0, 1]")] double DeltaHigh = 0.9) : Calibration
{
    public int A => (int)Generations;

    public override void Validate()
    {
        if (!(Generations >= 2 && Generations <= 1000 && Generations == Math.Floor(Generations))) throw new ArgumentException($"generations must be an integer from 2 to 1000 (got {Generations})");
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha (α) must be in (0, 1) (got {Alpha})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta (β) must be in (0, 1) (got {Beta})");
        if (!(EtaLow > 0 && EtaHigh > 0) || !double.IsFinite(EtaLow + EtaHigh)) throw new ArgumentException($"eta_low and eta_high must be > 0 (got {EtaLow}, {EtaHigh})");
        if (!(DeltaLow >= 0 && DeltaLow <= 1 && DeltaHigh >= 0 && DeltaHigh <= 1)) throw new ArgumentException($"delta_low and delta_high must be in [0, 1] (got {DeltaLow}, {DeltaHigh})");
    }

    /// <summary>
    /// The closed-form savings rates out of income by age h = 1 … A−1: β_h = β(1 − β^{A−h})/(1 − β^{A−h+1}) (the oldest
    /// saves nothing).
    /// </summary>
    public double[] SavingsRates() =>
        Enumerable.Range(1, A - 1).Select(h => Beta * (1 - Math.Pow(Beta, A - h)) / (1 - Math.Pow(Beta, A - h + 1))).ToArray();

    /// <summary>
    /// Capital holdings by age 2 … A where the economy with the mean shock (η, δ averaged) settles under the closed
    /// form: where the simulated economy lives, so the initial draws start near it.
    /// </summary>
    public double[] SteadyStateHoldings()
    {
        double eta = 0.5 * (EtaLow + EtaHigh), delta = 0.5 * (DeltaLow + DeltaHigh);
        var rates = SavingsRates();
        var k = Enumerable.Repeat(0.1 / (A - 1), A - 1).ToArray();
        for (int iteration = 0; iteration < 100_000; iteration++)
        {
            double capital = k.Sum();
            double r = Alpha * eta * Math.Pow(capital, Alpha - 1) + 1 - delta, w = (1 - Alpha) * eta * Math.Pow(capital, Alpha);
            var next = new double[A - 1];
            next[0] = rates[0] * w;
            for (int h = 1; h < A - 1; h++) next[h] = rates[h] * r * k[h - 1];
            // Relative: the holdings of the old are many orders of magnitude below the young's.
            double change = next.Zip(k, (a, b) => Math.Abs(a - b) / Math.Max(Math.Abs(a), double.Epsilon)).Max();
            k = next;
            if (change < 1e-12) break;
        }
        return k;
    }
}
