using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// KKT conditions as residuals. "a ≥ 0, b ≥ 0, a·b = 0" (a constraint's slack and its multiplier, or a marginal
/// condition and a bound) holds exactly where the Fischer–Burmeister function FB(a, b) = a + b − √(a² + b²) is zero,
/// so a complementarity condition becomes one equation of the model:
/// <code>yield return ("hours_ceiling", Complementarity.FischerBurmeister(t[_wage] / (t[_c] * psi * t[_l].pow(theta)) - 1, ceiling - t[_l]));</code>
/// A multiplier policy is made nonnegative with <see cref="PolicyOutput.Softplus"/>.
/// </summary>
public static class Complementarity
{
    /// <summary>
    /// FB(a, b) = a + b − √(a² + b² + ε²); zero exactly when a ≥ 0, b ≥ 0 and a·b = 0 (for ε = 0). A positive
    /// <paramref name="smoothing"/> ε keeps the gradient defined at a = b = 0, at the price of solving a·b = ε²/2 instead.
    /// </summary>
    public static Tensor FischerBurmeister(Tensor a, Tensor b, double smoothing = 0.0)
    {
        if (!(smoothing >= 0 && double.IsFinite(smoothing))) throw new ArgumentException($"smoothing must be >= 0 (got {smoothing})");
        var squares = a.square() + b.square();
        if (smoothing > 0) squares = squares + smoothing * smoothing;
        return a + b - squares.sqrt();
    }

    /// <summary>The product form a·b (with a ≥ 0 and b ≥ 0 enforced elsewhere, e.g. by bounds), as the DEQN paper's OLG benchmark writes its KKT conditions.</summary>
    public static Tensor Product(Tensor a, Tensor b) => a * b;
}
