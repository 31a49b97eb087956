using System.Collections.Concurrent;
using Deqn.Equilibrium.Perturbation;

namespace Deqn.Equilibrium.Models.Olg;

/// <summary>
/// Where the benchmark OLG economy lives: its deterministic steady state (the chain at its stationary mean), which
/// centres the initial distribution and is the steady-state solver's guess. It is found by Deqn's own Newton iteration
/// on the model's equations (<see cref="SteadyState"/>) from the life cycle of a one-asset economy — wealth earning R,
/// no borrowing, aggregate capital consistent with the prices it implies — once per calibration.
/// </summary>
public static class OlgBenchmarkSteadyState
{
    /// <summary>Holdings of ages 2 … A and the policies of ages 1 … A−1 (p the bond price).</summary>
    public sealed record Profile(double[] K, double[] B, double[] KNext, double[] Lambda, double[] Q, double[] Mu, double Price, bool Solved);

    private static readonly ConcurrentDictionary<OlgBenchmarkCalibration, Profile> Solved = new();

    /// <summary>The steady state when Newton finds it from the life cycle; the life cycle itself (Solved false) when not.</summary>
    public static Profile Of(OlgBenchmarkCalibration c) => Solved.GetOrAdd(c, Find);

    private static Profile Find(OlgBenchmarkCalibration c)
    {
        var guess = LifeCycle(c);
        var steady = SteadyState.Of(new OlgBenchmark(c, guess));
        if (!steady.Found) return guess;
        int n = c.A - 1;
        var x = steady.StateRow;
        var p = steady.PolicyRow;
        double[] Slice(double[] row, int block) => row.Skip(block * n).Take(n).ToArray();
        return new Profile(Slice(x, 0), Slice(x, 1), Slice(p, 0), Slice(p, 1), Slice(p, 2), Slice(p, 3), p[4 * n], true);
    }

    /// <summary>
    /// The life cycle of a one-asset economy with the chain at its stationary mean: wealth x = k + b earning R (bonds
    /// priced at 1/R, no adjustment cost), no borrowing (the collateral constraint bounds total wealth below by
    /// (1 − 1/κ)k′ ≥ 0), K = Σ x_a consistent with the prices it implies; all wealth held as capital.
    /// </summary>
    public static Profile LifeCycle(OlgBenchmarkCalibration c)
    {
        var stationary = c.Chain().Stationary;
        double eta = stationary.Select((p, i) => p * c.Etas[i]).Sum(), delta = stationary.Select((p, i) => p * c.Deltas[i]).Sum();
        var labour = c.Labour();
        double supply = labour.Sum();
        double capital = supply;   // a start with R well above 1
        var wealth = new double[c.A - 1];
        double r = 1;
        for (int iteration = 0; iteration < 2_000; iteration++)
        {
            r = c.Alpha * eta * Math.Pow(capital / supply, c.Alpha - 1) + 1 - delta;
            double w = (1 - c.Alpha) * eta * Math.Pow(capital / supply, c.Alpha);
            wealth = Household(c, labour, r, w);
            double next = wealth.Sum();
            if (Math.Abs(next - capital) <= 1e-12 * capital) break;
            capital = 0.5 * capital + 0.5 * Math.Max(next, 1e-6);
        }
        int n = c.A - 1;
        return new Profile(wealth, new double[n], wealth, Enumerable.Repeat(1e-3, n).ToArray(), wealth.Select(x => Math.Max(x, 1e-3)).ToArray(),
            Enumerable.Repeat(1e-3, n).ToArray(), 1 / r, false);
    }

    /// <summary>
    /// Wealth by age 2 … A of a household that cannot borrow: consumption grows at (βR)^(1/γ) from the first age s at
    /// which its plan keeps wealth non-negative to the end; before s it consumes its wage income.
    /// </summary>
    private static double[] Household(OlgBenchmarkCalibration c, double[] labour, double r, double w)
    {
        int a = c.A;
        double growth = Math.Pow(c.Beta * r, 1 / c.Gamma);
        for (int start = 0; start < a; start++)
        {
            double income = 0, weight = 0;
            for (int age = start; age < a; age++)
            {
                income += w * labour[age] / Math.Pow(r, age - start);
                weight += Math.Pow(growth / r, age - start);
            }
            double consumption = income / weight;
            var x = new double[a + 1];
            bool feasible = true;
            for (int age = start; age < a; age++)
            {
                x[age + 1] = r * x[age] + w * labour[age] - consumption * Math.Pow(growth, age - start);
                if (x[age + 1] < -1e-9) { feasible = false; break; }
            }
            if (feasible) return x.Skip(1).Take(a - 1).Select(v => Math.Max(v, 0)).ToArray();
        }
        return new double[a - 1];
    }
}
