using Deqn.Equilibrium.Modeling;

namespace Deqn.Equilibrium.Models.Growth;

/// <summary>
/// The growth model with log utility (Brock–Mirman with depreciation δ and AR(1) log TFP): the defaults are the
/// workshop's calibration; (K, z) start uniformly in [k_low, k_high] × [z_low, z_high]. With σ = 0 and z_low = z_high = 1
/// it is the deterministic Brock–Mirman model (<see cref="BrockMirman"/>).
/// </summary>
public sealed record GrowthCalibration(
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.36,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.99,
    [Parameter("delta", "depreciation δ (1: the closed form holds)", Range = "(0, 1]")] double Delta = 0.1,
    [Parameter("rho", "persistence ρ of log TFP", Range = "(−1, 1)")] double Rho = 0.9,
    [Parameter("sigma", "standard deviation σ of the TFP innovation", Range = "≥ 0")] double Sigma = 0.04,
    [Parameter("k_low", "initial capital: lower end of the uniform draw", Range = "> 0, < k_high")] double CapitalLow = 0.9,
    [Parameter("k_high", "initial capital: upper end of the uniform draw", Range = "> k_low")] double CapitalHigh = 12,
    [Parameter("z_low", "initial TFP: lower end of the uniform draw", Range = "> 0, ≤ z_high")] double ProductivityLow = 0.7,
    [Parameter("z_high", "initial TFP: upper end of the uniform draw", Range = "≥ z_low")] double ProductivityHigh = 1.3) : Calibration
{
    /// <summary>Brock and Mirman (1972), deterministic: δ = 1, no TFP shocks (z = 1 throughout), K₀ ~ U[0.1, 1].</summary>
    public static GrowthCalibration BrockMirman { get; } = new(Delta: 1, Sigma: 0, CapitalLow: 0.1, CapitalHigh: 1, ProductivityLow: 1, ProductivityHigh: 1);

    /// <summary>Brock–Mirman with AR(1) log TFP and δ = 1 (closed form K' = αβzK^α), K₀ ~ U[0.1, 0.4].</summary>
    public static GrowthCalibration BrockMirmanStochastic { get; } = new(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4);

    public override void Validate()
    {
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha (α) must be in (0, 1) (got {Alpha})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta (β) must be in (0, 1) (got {Beta})");
        if (!(Delta > 0 && Delta <= 1)) throw new ArgumentException($"delta (δ) must be in (0, 1] (got {Delta})");
        if (!(Math.Abs(Rho) < 1)) throw new ArgumentException($"rho (ρ) must satisfy |ρ| < 1 (got {Rho})");
        if (!(Sigma >= 0) || !double.IsFinite(Sigma)) throw new ArgumentException($"sigma (σ) must be ≥ 0 (got {Sigma})");
        if (!(CapitalLow > 0)) throw new ArgumentException($"k_low must be > 0 (got {CapitalLow})");
        if (!(CapitalLow < CapitalHigh)) throw new ArgumentException($"k_low ({CapitalLow}) must be below k_high ({CapitalHigh})");
        if (!(ProductivityLow > 0)) throw new ArgumentException($"z_low must be > 0 (got {ProductivityLow})");
        if (!(ProductivityLow <= ProductivityHigh)) throw new ArgumentException($"z_low ({ProductivityLow}) must not be above z_high ({ProductivityHigh})");
    }

    /// <summary>Resources available for consumption and next-period capital: z·K^α + (1 − δ)K.</summary>
    public double Wealth(double k, double z) => z * Math.Pow(k, Alpha) + (1 - Delta) * k;

    /// <summary>The deterministic steady state, K* = (αβ / (1 − β(1 − δ)))^{1/(1−α)}.</summary>
    public double SteadyStateCapital => Math.Pow(Alpha * Beta / (1 - Beta * (1 - Delta)), 1 / (1 - Alpha));

    /// <summary>The closed form with δ = 1 (Brock–Mirman): K' = αβ·z·K^α. Null when δ &lt; 1.</summary>
    public double? ClosedFormNextCapital(double k, double z) => Delta == 1 ? Alpha * Beta * z * Math.Pow(k, Alpha) : null;
}

/// <summary>Lines the growth models share in their <see cref="Model.Formulas"/>.</summary>
internal static class GrowthFormulas
{
    /// <summary>TFP's law of motion, or that it is the constant 1 (σ = 0 and z₀ = 1).</summary>
    public static string Productivity(State z) => z.Constant is { } value
        ? $"z = {value:G6} (σ = 0: no TFP shocks, not a state)"
        : "ln z′ = ρ·ln z + ε′,  ε′ ~ N(0, σ²)";
}
