using System.Globalization;

namespace Deqn.Equilibrium.Shocks;

/// <summary>
/// A discrete exogenous process on states 0 … n−1: row i of <see cref="Transition"/> is the distribution of next
/// period's state given state i. An expectation over it is the exact probability-weighted sum over the n next states
/// (no quadrature error); simulation draws the next state from the current row.
/// </summary>
public sealed class MarkovChain
{
    private readonly double[,] _transition;
    private readonly double[,] _cumulative;

    public MarkovChain(double[,] transition, IReadOnlyList<string>? labels = null)
    {
        int n = transition.GetLength(0);
        if (n < 1 || transition.GetLength(1) != n) throw new ArgumentException($"a transition matrix is square with at least one state (got {transition.GetLength(0)} × {transition.GetLength(1)})");
        _transition = (double[,])transition.Clone();
        _cumulative = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                double p = transition[i, j];
                if (!(p >= 0 && p <= 1)) throw new ArgumentException($"transition[{i + 1}, {j + 1}] = {p.ToString(CultureInfo.InvariantCulture)} is not a probability");
                sum += p;
                _cumulative[i, j] = sum;
            }
            if (Math.Abs(sum - 1) > 1e-10) throw new ArgumentException($"row {i + 1} of the transition matrix sums to {sum.ToString("R", CultureInfo.InvariantCulture)}, not 1");
            _cumulative[i, n - 1] = 1;
        }
        if (labels is not null && labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} states");
        Labels = labels ?? Enumerable.Range(1, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        Stationary = StationaryDistribution(_transition);
    }

    /// <summary>Independent draws every period: every row is <paramref name="probabilities"/>.</summary>
    public static MarkovChain Iid(IReadOnlyList<double> probabilities, IReadOnlyList<string>? labels = null)
    {
        int n = probabilities.Count;
        var p = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) p[i, j] = probabilities[j];
        return new MarkovChain(p, labels);
    }

    /// <summary>Two independent chains as one on their product states (first-major: state i·n₂ + j is (i, j)).</summary>
    public static MarkovChain Product(MarkovChain first, MarkovChain second)
    {
        int a = first.Count, b = second.Count;
        var p = new double[a * b, a * b];
        var labels = new string[a * b];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
            {
                labels[i * b + j] = $"{first.Labels[i]}·{second.Labels[j]}";
                for (int k = 0; k < a; k++)
                    for (int l = 0; l < b; l++) p[i * b + j, k * b + l] = first._transition[i, k] * second._transition[j, l];
            }
        return new MarkovChain(p, labels);
    }

    public int Count => _transition.GetLength(0);

    /// <summary>[n, n]: row i is the distribution of next period's state given state i.</summary>
    public double[,] Transition => (double[,])_transition.Clone();

    public double this[int from, int to] => _transition[from, to];

    public IReadOnlyList<string> Labels { get; }

    /// <summary>The long-run distribution π = πP (power iteration from the uniform distribution).</summary>
    public IReadOnlyList<double> Stationary { get; }

    /// <summary>Whether every row is the same (independent draws): then an expectation's weights do not depend on today's state.</summary>
    public bool IsIid
    {
        get
        {
            for (int i = 1; i < Count; i++)
                for (int j = 0; j < Count; j++)
                    if (_transition[i, j] != _transition[0, j]) return false;
            return true;
        }
    }

    /// <summary>The next state from state <paramref name="from"/> and a uniform draw in (0, 1) (inverse of the row's distribution).</summary>
    public int Next(int from, double uniform)
    {
        for (int j = 0; j < Count - 1; j++)
            if (uniform < _cumulative[from, j]) return j;
        return Count - 1;
    }

    /// <summary>A state drawn from <paramref name="probabilities"/> with one uniform draw.</summary>
    public static int Draw(IReadOnlyList<double> probabilities, double uniform)
    {
        double sum = 0;
        for (int j = 0; j < probabilities.Count - 1; j++)
        {
            sum += probabilities[j];
            if (uniform < sum) return j;
        }
        return probabilities.Count - 1;
    }

    /// <summary>The cumulative rows [n, n] row by row (last column exactly 1), for drawing next states as tensors.</summary>
    internal double[] CumulativeRows => _cumulativeRows ??= _cumulative.Cast<double>().ToArray();

    private double[]? _cumulativeRows;

    private static double[] StationaryDistribution(double[,] p)
    {
        int n = p.GetLength(0);
        var pi = Enumerable.Repeat(1.0 / n, n).ToArray();
        for (int iteration = 0; iteration < 100_000; iteration++)
        {
            var next = new double[n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) next[j] += pi[i] * p[i, j];
            double change = 0;
            for (int j = 0; j < n; j++) change = Math.Max(change, Math.Abs(next[j] - pi[j]));
            // A periodic chain never settles under pure iteration; averaging with the previous step (a lazy chain) does.
            for (int j = 0; j < n; j++) pi[j] = 0.5 * (pi[j] + next[j]);
            if (change < 1e-15) break;
        }
        double total = pi.Sum();
        return pi.Select(x => x / total).ToArray();
    }
}
