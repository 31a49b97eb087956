namespace Deqn.Training.Optimization;

/// <summary>
/// The damping of a Levenberg–Marquardt iteration for each of K members, by Nielsen's rule (Nielsen 1999; Madsen, Nielsen
/// &amp; Tingleff, <i>Methods for non-linear least squares problems</i>, 2004): a taken step with gain ratio ρ (the actual
/// fall of the loss over the fall the linearized model predicts) sets μ ← μ·max(1/3, 1 − (2ρ − 1)³) and ν ← 2; a rejected
/// one sets μ ← μ·ν and ν ← 2ν.
/// </summary>
/// <remarks>
/// Measured against the fixed ×4 / ÷3 rule on the approx study (docs/approx-defaults.md): 59 against 109 rejected steps
/// for the same fits. μ is relative: the systems scale it by the mean diagonal of JᵀJ, so it means the same whatever the
/// residuals' scale.
/// </remarks>
public sealed class NielsenDamping
{
    public const double Initial = 1e-3;
    public const double Min = 1e-15, Max = 1e15;

    private readonly double[] _mu, _nu;

    public NielsenDamping(int members, double initial = Initial)
    {
        if (members < 1) throw new ArgumentException($"members must be at least 1 (got {members})");
        if (!(initial > 0) || !double.IsFinite(initial)) throw new ArgumentException($"the initial damping must be finite and > 0 (got {initial})");
        _mu = Enumerable.Repeat(initial, members).ToArray();
        _nu = Enumerable.Repeat(2.0, members).ToArray();
    }

    public double this[int member] => _mu[member];

    public double[] Values => (double[])_mu.Clone();

    /// <summary>A member's μ and ν, for a checkpoint.</summary>
    public (double Mu, double Nu) State(int member) => (_mu[member], _nu[member]);

    /// <summary>Puts back what <see cref="State"/> read (a resumed run continues with the damping it stopped at).</summary>
    public void Restore(int member, double mu, double nu)
    {
        if (!(mu >= Min && mu <= Max) || !(nu >= 2 && double.IsFinite(nu)))
            throw new ArgumentException($"not a damping state: μ = {mu}, ν = {nu}");
        _mu[member] = mu;
        _nu[member] = nu;
    }

    /// <summary>A step was taken with gain ratio <paramref name="gain"/> (not finite, or a non-positive predicted fall: treated as a perfect model).</summary>
    public void Taken(int member, double gain)
    {
        double factor = double.IsFinite(gain) ? Math.Max(1.0 / 3, 1 - Math.Pow(2 * gain - 1, 3)) : 1.0 / 3;
        _mu[member] = Math.Clamp(_mu[member] * factor, Min, Max);
        _nu[member] = 2;
    }

    public void Rejected(int member)
    {
        _mu[member] = Math.Min(_mu[member] * _nu[member], Max);
        _nu[member] = Math.Min(_nu[member] * 2, 1e15);
    }

    /// <summary>
    /// The gain ratio: the actual fall <paramref name="before"/> − <paramref name="after"/> over the predicted fall (both in
    /// the loss's units); infinite when the model predicted no fall.
    /// </summary>
    public static double Gain(double before, double after, double predicted) =>
        predicted > 0 ? (before - after) / predicted : double.PositiveInfinity;
}
