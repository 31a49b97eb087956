using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Models.Growth;

/// <summary>
/// The planner's solution by time iteration (<see cref="TimeIteration"/>) as the reference a growth model's policy is
/// checked against: next period's capital K′(K, z) = s_W·(Y + (1 − δ)K), expressed in the model's own policy by
/// <c>policy(K, z, K′)</c> (the share of resources, or the share of output, …). Solved once, on a grid over the
/// calibration's initial box, to a change below 1e-10.
/// </summary>
public sealed class TimeIterationReference : IPolicyReference
{
    private readonly GrowthCalibration _calibration;
    private readonly SavingsPolicy _policy;
    private readonly State _k, _z;
    private readonly Func<double, double, double, double> _translate;

    /// <param name="calibration">The model.</param>
    /// <param name="k">The capital state (a column of the states the policy is asked at).</param>
    /// <param name="z">TFP: a state, or a constant when σ = 0 (then the grid has one TFP point and one quadrature node).</param>
    /// <param name="capitalPoints">Grid points for capital over [k_low, k_high].</param>
    /// <param name="productivityPoints">Grid points for TFP over [z_low, z_high].</param>
    /// <param name="nodes">Gauss–Hermite nodes for the expectation.</param>
    /// <param name="policy">The model's policy at (K, z) given the planner's K′.</param>
    /// <param name="describe">Added to the name, e.g. ", as the share of output".</param>
    public TimeIterationReference(GrowthCalibration calibration, State k, State z, int capitalPoints, int productivityPoints, int nodes,
        Func<double, double, double, double> policy, string describe = "")
    {
        _calibration = calibration;
        _k = k;
        _z = z;
        _translate = policy;
        var c = calibration;
        // Without shocks TFP stays where it starts: one grid point for a constant z.
        if (z.Constant is not null) productivityPoints = 1;
        var capital = Enumerable.Range(0, capitalPoints).Select(i => c.CapitalLow + (c.CapitalHigh - c.CapitalLow) * i / (capitalPoints - 1.0)).ToArray();
        var (zLow, zHigh) = ProductivityRange(c);
        // The same spacing as the requested points over the initial range, over the whole range.
        if (productivityPoints > 1 && c.ProductivityHigh > c.ProductivityLow)
            productivityPoints = (int)Math.Ceiling((productivityPoints - 1) * (zHigh - zLow) / (c.ProductivityHigh - c.ProductivityLow)) + 1;
        var productivity = productivityPoints == 1
            ? [c.ProductivityLow]
            : Enumerable.Range(0, productivityPoints).Select(j => zLow + (zHigh - zLow) * j / (productivityPoints - 1.0)).ToArray();
        if (c.Sigma == 0) nodes = 1;
        var result = TimeIteration.Solve(c, capital, productivity, Quadratures.GaussHermite(nodes, c.Sigma), tolerance: 1e-10);
        if (!result.Converged) throw new InvalidOperationException($"time iteration did not converge ({result.Iterations} iterations, change {result.Change:G3})");
        _policy = result.Policy;
        Name = $"time iteration ({capitalPoints} × {productivityPoints} grid, Gauss–Hermite {nodes}, {result.Iterations} iterations{describe})";
    }

    public string Name { get; }

    /// <summary>
    /// TFP's grid: the initial range widened to ln z within ±4.5 stationary standard deviations σ/√(1 − ρ²), where the
    /// evaluation path goes. A 10,000-period path of stochastic-growth reached z = 1.40 beyond the initial 1.3, where an
    /// interpolated policy only extrapolates: its 2e-4 "policy error" there was the reference's, not the network's.
    /// </summary>
    public static (double Low, double High) ProductivityRange(GrowthCalibration c)
    {
        if (!(c.Sigma > 0)) return (c.ProductivityLow, c.ProductivityHigh);
        double spread = 4.5 * c.Sigma / Math.Sqrt(1 - c.Rho * c.Rho);
        return (Math.Min(c.ProductivityLow, Math.Exp(-spread)), Math.Max(c.ProductivityHigh, Math.Exp(spread)));
    }

    /// <summary>The planner's next-period capital at (K, z), interpolated from the grid.</summary>
    public double NextCapital(double k, double z) => _policy.At(k, z) * _calibration.Wealth(k, z);

    public double[,] PolicyAt(double[,] states)
    {
        var result = new double[states.GetLength(0), 1];
        for (int i = 0; i < states.GetLength(0); i++)
        {
            double k = states[i, _k.Index], z = _z.Constant ?? states[i, _z.Index];
            result[i, 0] = _translate(k, z, NextCapital(k, z));
        }
        return result;
    }
}
