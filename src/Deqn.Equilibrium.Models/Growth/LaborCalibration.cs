using Deqn.Equilibrium.Modeling;

namespace Deqn.Equilibrium.Models.Growth;

/// <summary>
/// Brock–Mirman with endogenous hours (the workshop's Day-2 exercise): utility ln C − ψ·L^{1+θ}/(1+θ), output
/// z·K^α·L^{1−α}, AR(1) log TFP. The defaults are the workshop's values with δ = 1, where the closed form holds; (K, z)
/// start uniformly in [k_low, k_high] × [z_low, z_high] around its ergodic set. TFP's box [0.65, 1.5] is about
/// exp(±4.4 σ_z), σ_z = σ/√(1 − ρ²) = 0.092 the stationary deviation of ln z, so that training sees the tails a
/// 10,000-period path reaches (z = 1.40 on the evaluation path); with [0.7, 1.3] the hours ceiling's largest
/// complementarity residual there was 4.6e-5 instead of 6.1e-6. The hours ceiling L̄ is used by the model with the
/// ceiling only (<c>brock-mirman-labor-ceiling</c>).
/// </summary>
public sealed record LaborCalibration(
    [Parameter("alpha", "capital share α", Range = "(0, 1)")] double Alpha = 0.36,
    [Parameter("beta", "discount factor β", Range = "(0, 1)")] double Beta = 0.99,
    [Parameter("delta", "depreciation δ (1: the closed form holds)", Range = "(0, 1]")] double Delta = 1,
    [Parameter("psi", "weight ψ of the disutility of hours", Range = "> 0")] double Psi = 1,
    [Parameter("theta", "curvature θ of the disutility of hours (Frisch elasticity 1/θ)", Range = "≥ 0")] double Theta = 1,
    [Parameter("l_bar", "hours ceiling L̄ (binds when below the unconstrained hours)", Range = "> 0")] double HoursCeiling = 0.95,
    [Parameter("rho", "persistence ρ of log TFP", Range = "(−1, 1)")] double Rho = 0.9,
    [Parameter("sigma", "standard deviation σ of the TFP innovation", Range = "≥ 0")] double Sigma = 0.04,
    [Parameter("k_low", "initial capital: lower end of the uniform draw", Range = "> 0, < k_high")] double CapitalLow = 0.1,
    [Parameter("k_high", "initial capital: upper end of the uniform draw", Range = "> k_low")] double CapitalHigh = 0.4,
    [Parameter("z_low", "initial TFP: lower end of the uniform draw", Range = "> 0, ≤ z_high")] double ProductivityLow = 0.65,
    [Parameter("z_high", "initial TFP: upper end of the uniform draw", Range = "≥ z_low")] double ProductivityHigh = 1.5) : Calibration
{
    public override void Validate()
    {
        if (!(Alpha > 0 && Alpha < 1)) throw new ArgumentException($"alpha (α) must be in (0, 1) (got {Alpha})");
        if (!(Beta > 0 && Beta < 1)) throw new ArgumentException($"beta (β) must be in (0, 1) (got {Beta})");
        if (!(Delta > 0 && Delta <= 1)) throw new ArgumentException($"delta (δ) must be in (0, 1] (got {Delta})");
        if (!(Psi > 0) || !double.IsFinite(Psi)) throw new ArgumentException($"psi (ψ) must be > 0 (got {Psi})");
        if (!(Theta >= 0) || !double.IsFinite(Theta)) throw new ArgumentException($"theta (θ) must be ≥ 0 (got {Theta})");
        if (!(HoursCeiling > 0) || !double.IsFinite(HoursCeiling)) throw new ArgumentException($"l_bar (L̄) must be > 0 (got {HoursCeiling})");
        if (!(Math.Abs(Rho) < 1)) throw new ArgumentException($"rho (ρ) must satisfy |ρ| < 1 (got {Rho})");
        if (!(Sigma >= 0) || !double.IsFinite(Sigma)) throw new ArgumentException($"sigma (σ) must be ≥ 0 (got {Sigma})");
        if (!(CapitalLow > 0)) throw new ArgumentException($"k_low must be > 0 (got {CapitalLow})");
        if (!(CapitalLow < CapitalHigh)) throw new ArgumentException($"k_low ({CapitalLow}) must be below k_high ({CapitalHigh})");
        if (!(ProductivityLow > 0)) throw new ArgumentException($"z_low must be > 0 (got {ProductivityLow})");
        if (!(ProductivityLow <= ProductivityHigh)) throw new ArgumentException($"z_low ({ProductivityLow}) must not be above z_high ({ProductivityHigh})");
    }

    /// <summary>
    /// Hours without a ceiling when δ = 1: with s = αβ the intratemporal condition ψ·L^θ = w/C reads
    /// ψ·L^{1+θ} = (1 − α)/(1 − αβ), so L* = [(1 − α)/(ψ(1 − αβ))]^{1/(1+θ)} in every state (0.99720 at the defaults).
    /// </summary>
    public double UnconstrainedHours => Math.Pow((1 - Alpha) / (Psi * (1 - Alpha * Beta)), 1 / (1 + Theta));
}
