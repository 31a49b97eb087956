using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Tests.Growth;

/// <summary>A simulated path of the growth model under a policy: capital and productivity in each period.</summary>
internal sealed record GrowthPath(double[] Capital, double[] Productivity);

/// <summary>Test scaffolding: the growth model simulated in plain doubles, independent of the tensor simulator.</summary>
internal static class GrowthSimulation
{
    /// <summary>
    /// Simulates <paramref name="periods"/> periods from (K₀, z₀) under <paramref name="nextCapital"/>, with
    /// ln z' = ρ ln z + σε and ε drawn from a seeded standard normal (SplitMix64 and Box–Muller, so paths never change
    /// across platforms).
    /// </summary>
    public static GrowthPath Simulate(GrowthCalibration c, Func<double, double, double> nextCapital, double k0, double z0, int periods, long seed)
    {
        c.Validate();
        if (periods < 1) throw new ArgumentException($"a path needs at least 1 period (got {periods})");
        if (!(k0 > 0) || !(z0 > 0)) throw new ArgumentException($"initial capital and productivity must be > 0 (got {k0}, {z0})");
        var k = new double[periods];
        var z = new double[periods];
        k[0] = k0;
        z[0] = z0;
        var normal = new StandardNormalStream(seed);
        for (int t = 1; t < periods; t++)
        {
            double eps = normal.Next();
            k[t] = nextCapital(k[t - 1], z[t - 1]);
            z[t] = Math.Exp(c.Rho * Math.Log(z[t - 1]) + c.Sigma * eps);
            if (!(k[t] > 0) || !double.IsFinite(k[t]))
                throw new InvalidOperationException($"the policy left the feasible set in period {t}: K = {k[t]}");
        }
        return new GrowthPath(k, z);
    }
}
