using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Diagnostics;

/// <summary>How a solution is checked: a fresh path (its own seed, many periods) and a quadrature finer than training's.</summary>
public sealed record DiagnosticsSpec
{
    public int Periods { get; init; } = 10_000;

    /// <summary>Periods simulated and dropped before the path starts, so it starts in the ergodic set.</summary>
    public int BurnIn { get; init; } = 500;

    public QuadratureSpec Quadrature { get; init; } = new(QuadratureKind.Auto, 10);

    /// <summary>Points per state of the comparison grid (product grid).</summary>
    public int GridPoints { get; init; } = 50;

    /// <summary>
    /// Up to this many continuous states the policy is compared on a product grid; beyond, a grid of
    /// GridPoints^states is out of reach, and the comparison uses <see cref="SampleSize"/> states of the ergodic set.
    /// </summary>
    public int MaxGridStates { get; init; } = 3;

    /// <summary>States sampled from the reference's simulated ergodic set when there are too many states for a grid.</summary>
    public int SampleSize { get; init; } = 10_000;

    public long Seed { get; init; } = 20_261_127;

    public void Validate()
    {
        if (Periods < 10) throw new ArgumentException($"the evaluation path needs at least 10 periods (got {Periods})");
        if (BurnIn < 0) throw new ArgumentException($"burn-in must be ≥ 0 (got {BurnIn})");
        if (GridPoints < 2) throw new ArgumentException($"the grid needs at least 2 points per state (got {GridPoints})");
        if (MaxGridStates < 1) throw new ArgumentException($"the grid needs at least 1 state (got {MaxGridStates})");
        if (SampleSize < 10) throw new ArgumentException($"the ergodic sample needs at least 10 states (got {SampleSize})");
    }
}

/// <summary>
/// Where a policy is compared with its reference: a product grid over the ergodic box (few states), or states sampled
/// from the reference's simulated ergodic set (many states), with the box they span.
/// </summary>
public sealed record ComparisonSet(string Where, double[,] States, IReadOnlyList<(string State, double Low, double High)> Box);

/// <summary>Mean and max of |policy / reference − 1| on a grid, an ergodic sample or along the path (|policy| where the reference is 0).</summary>
public sealed record PolicyComparison(string Policy, string Where, double Mean, double Max);

/// <summary>A policy along one state, the other states held at their path medians, with the reference where there is one.</summary>
public sealed record PolicySlice(string State, string Policy, double[] X, double[] Solution, double[]? Reference);

/// <summary>
/// What economists publish about a solution: Euler-error statistics on a fresh simulated path, the policy against a
/// closed form or reference solution on a grid and along the path, and the path itself with every variable.
/// </summary>
public sealed record SolutionReport(
    string Quadrature,
    IReadOnlyDictionary<string, EulerErrorStatistics> Errors,
    string? ReferenceName,
    IReadOnlyList<PolicyComparison> Comparisons,
    IReadOnlyList<string> PathColumns,
    double[,] Path,
    IReadOnlyList<(string State, double Low, double High)> GridBox,
    IReadOnlyList<PolicySlice> Slices)
{
    /// <summary>Where the fresh path left the feasible set (a non-finite state); null when it stayed in it. <see cref="Path"/> then ends before it.</summary>
    public string? Failure { get; init; }

    /// <summary>Periods of the path at which a value read was clipped into its bounds (today's, or next period's at a node).</summary>
    public int ClippedPeriods { get; init; }

    /// <summary>The clipped variables with the periods each was clipped in (next period's values marked ′).</summary>
    public IReadOnlyList<(string Variable, int Periods)> ClippedVariables { get; init; } = [];

    /// <summary>Periods the path has (fewer than asked when it failed).</summary>
    public int Periods => Path.GetLength(0);
}

public static class SolutionDiagnostics
{
    /// <summary>Runs every check on <paramref name="policy"/>; <paramref name="reference"/> defaults to the model's closed form or reference solution.</summary>
    public static SolutionReport Run(Model model, IPolicyFunction policy, DiagnosticsSpec spec, ScalarType dtype = ScalarType.Float64, IPolicyReference? reference = null)
    {
        spec.Validate();
        using var noGrad = torch.no_grad();
        using var quadrature = new QuadratureTensors(spec.Quadrature.Build(model.ShockCholesky, Seeds.Derive(spec.Seed, "quadrature")), model.ChainStates, dtype);
        var (states, failure) = Simulator.PathsUntilInfeasible(model, policy, 1, spec.Periods, spec.BurnIn, Seeds.Derive(spec.Seed, "path"), dtype);
        int periods = (int)states.shape[0];

        // Every variable along the path (by element), and the residuals there.
        var columns = new List<string> { "period" };
        columns.AddRange(model.StateColumns.Select(s => s.Name));
        columns.AddRange(model.PolicyColumns.Select(p => p.Name));
        columns.AddRange(model.Definitions.SelectMany(d => d.ElementNames));
        var equationNames = new List<string>();
        var rows = new List<double[]>(periods);
        // Next period's states of a chunk are rows × nodes: keep them near 200,000 (many shocks, many nodes).
        int chunk = Math.Clamp(200_000 / quadrature.Count, 16, 2000);
        var errors = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var blocks = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        int clippedPeriods = 0;
        var clippedVariables = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int start = 0; start < periods; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            int n = Math.Min(chunk, periods - start);
            var x = states.narrow(0, start, n);
            var residuals = Evaluation.Evaluate(model, x, policy, quadrature);
            var now = residuals.Now;
            foreach (var d in model.Definitions) _ = now[d];
            var (clipped, clippedNames) = now.Clipped();
            clippedPeriods += (int)clipped.sum().item<long>();
            foreach (var (name, which) in clippedNames) clippedVariables[name] = clippedVariables.GetValueOrDefault(name) + (int)which.sum().item<long>();
            var parts = new List<Tensor> { x, policy.Values(x) };
            parts.AddRange(model.Definitions.Select(d => d.IsVector ? now[d].t() : now[d].unsqueeze(1)));
            foreach (var (name, block, residual) in residuals.Elements())
            {
                if (start == 0) equationNames.Add(name);
                parts.Add(residual.unsqueeze(1));
                var values = residual.cpu().to_type(ScalarType.Float64).data<double>().ToArray();
                if (!errors.TryGetValue(name, out var list)) errors[name] = list = [];
                list.AddRange(values);
                if (name != block)
                {
                    if (!blocks.TryGetValue(block, out var pooled)) blocks[block] = pooled = [];
                    pooled.AddRange(values);
                }
            }
            var block_ = Tensors.ToArray(torch.cat(parts.ToArray(), 1));
            for (int i = 0; i < n; i++)
            {
                var row = new double[block_.GetLength(1) + 1];
                row[0] = start + i;
                for (int j = 0; j < block_.GetLength(1); j++) row[j + 1] = block_[i, j];
                rows.Add(row);
            }
        }
        columns.AddRange(equationNames.Select(n => $"error_{n}"));
        var path = new double[rows.Count, columns.Count];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < columns.Count; j++) path[i, j] = rows[i][j];
        // Each element's statistics, then each vector equation's over all its elements.
        var statistics = errors.Concat(blocks).ToDictionary(e => e.Key, e => EulerErrorStatistics.Of(e.Value), StringComparer.Ordinal);
        if (periods == 0)
        {
            states.Dispose();
            return new SolutionReport(quadrature.Description, statistics, null, [], columns, path, GridBox(model, path), []) { Failure = failure };
        }

        reference ??= DefaultReference(model);
        var comparisons = new List<PolicyComparison>();
        var pathStates = Column(path, 1, model.StateWidth);
        IReadOnlyList<(string State, double Low, double High)> box;
        if (reference is not null && failure is null)
        {
            var set = Comparison(model, reference, spec, dtype, spec.GridPoints);
            box = set.Box;
            comparisons.AddRange(Compare(model, policy, reference, set.States, set.Where, dtype));
            comparisons.AddRange(Compare(model, policy, reference, pathStates, "path", dtype));
        }
        else box = GridBox(model, path);
        var slices = Slices(model, policy, reference, box, pathStates, dtype);
        states.Dispose();
        return new SolutionReport(quadrature.Description, statistics, reference?.Name, comparisons, columns, path, box, slices)
        {
            Failure = failure,
            ClippedPeriods = clippedPeriods,
            ClippedVariables = clippedVariables.Select(v => (v.Key, v.Value)).ToArray(),
        };
    }

    /// <summary>
    /// Where to compare a policy with <paramref name="reference"/>: a grid of <paramref name="points"/> per continuous
    /// state (every state of each Markov chain) over the reference's ergodic box when there are at most
    /// <see cref="DiagnosticsSpec.MaxGridStates"/> continuous states; otherwise a seeded sample of the reference's own
    /// simulated ergodic set (a deterministic model's: uniform draws over the initial ranges).
    /// </summary>
    public static ComparisonSet Comparison(Model model, IPolicyReference reference, DiagnosticsSpec spec, ScalarType dtype, int points)
    {
        var (box, visited) = ReferenceSet(model, reference, spec, dtype);
        int continuous = model.StateColumns.Count(c => c.State.Chain is null);
        if (continuous <= spec.MaxGridStates)
        {
            return new ComparisonSet("grid", ProductGrid(model, box, points), box);
        }
        return new ComparisonSet("ergodic sample", Sample(model, visited, box, spec.SampleSize, Seeds.Derive(spec.Seed, "ergodic-sample")), box);
    }

    /// <summary>The model's reference solution (time iteration…) or, failing that, its closed form; null when it has neither.</summary>
    public static IPolicyReference? DefaultReference(Model model) => model.Reference() ?? (model.HasClosedForm ? new ClosedFormReference(model) : null);

    /// <summary>
    /// The box where a policy is compared with <paramref name="reference"/>: the ergodic set of the reference's own
    /// path (independent of the solution being judged), or the initial ranges for a deterministic model.
    /// </summary>
    public static IReadOnlyList<(string State, double Low, double High)> ReferenceBox(Model model, IPolicyReference reference, DiagnosticsSpec spec, ScalarType dtype) =>
        ReferenceSet(model, reference, spec, dtype).Box;

    private static (IReadOnlyList<(string State, double Low, double High)> Box, double[,] Visited) ReferenceSet(Model model, IPolicyReference reference, DiagnosticsSpec spec, ScalarType dtype)
    {
        // 10,000 states from 20 paths of 500 periods (after the burn-in), fixed so the box does not move with the
        // evaluation path's length; side by side they cost a twentieth of the steps of one long path.
        using var path = Simulator.Paths(model, new ReferencePolicy(reference), 20, 500, spec.BurnIn, Seeds.Derive(spec.Seed, "reference-box"), dtype);
        var values = Tensors.ToArray(path);
        var withPeriod = new double[values.GetLength(0), values.GetLength(1) + 1];
        for (int i = 0; i < values.GetLength(0); i++)
            for (int j = 0; j < values.GetLength(1); j++) withPeriod[i, j + 1] = values[i, j];
        return (GridBox(model, withPeriod), values);
    }

    /// <summary>
    /// A probe for the solver's <c>SolveOptions.Probe</c>: the mean and max relative error of each policy against
    /// <paramref name="reference"/> on a grid over <paramref name="box"/> (metrics policy_mean_rel_error_&lt;p&gt;, policy_max_rel_error_&lt;p&gt;,
    /// and policy_max_rel_error over all policies).
    /// </summary>
    public static Func<IPolicyFunction, IReadOnlyDictionary<string, double>> ReferenceProbe(Model model, IPolicyReference reference,
        IReadOnlyList<(string State, double Low, double High)> box, int points, ScalarType dtype) =>
        ReferenceProbe(model, reference, ProductGrid(model, box, points), dtype);

    /// <summary>The probe on given states (a <see cref="ComparisonSet"/>'s grid or ergodic sample).</summary>
    public static Func<IPolicyFunction, IReadOnlyDictionary<string, double>> ReferenceProbe(Model model, IPolicyReference reference, double[,] grid, ScalarType dtype)
    {
        var exact = reference.PolicyAt(grid);
        return policy =>
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var c in RelativeErrors(model, policy.Values(Tensors.FromArray(grid, dtype)), exact, "grid"))
            {
                metrics[$"policy_mean_rel_error_{c.Policy}"] = c.Mean;
                metrics[$"policy_max_rel_error_{c.Policy}"] = c.Max;
            }
            metrics["policy_max_rel_error"] = model.PolicyColumns.Max(p => metrics[$"policy_max_rel_error_{p.Name}"]);
            return metrics;
        };
    }

    /// <summary>A reference (arrays in, arrays out) as a policy function: to simulate the economy under it, or to judge it.</summary>
    public static IPolicyFunction AsPolicy(IPolicyReference reference) => new ReferencePolicy(reference);

    private sealed class ReferencePolicy(IPolicyReference reference) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => Tensors.FromArray(reference.PolicyAt(Tensors.ToArray(states)), states.dtype).to(states.device);
    }

    /// <summary>A fresh path of one economy from the middle of the initial distributions: [periods, states].</summary>
    public static Tensor SimulatePath(Model model, IPolicyFunction policy, DiagnosticsSpec spec, ScalarType dtype) =>
        Simulator.Paths(model, policy, 1, spec.Periods, spec.BurnIn, Seeds.Derive(spec.Seed, "path"), dtype);

    /// <summary>
    /// Where to compare policies: with shocks, each state element's range on the path (0.5 % to 99.5 %), i.e. the
    /// ergodic set; a deterministic model's path collapses to its steady state, so there the initial distribution's
    /// range is used. A Markov chain's range is all its states.
    /// </summary>
    private static IReadOnlyList<(string State, double Low, double High)> GridBox(Model model, double[,] path)
    {
        var box = new List<(string, double, double)>();
        var columns = model.StateColumns;
        for (int j = 0; j < columns.Count; j++)
        {
            var (name, state, initial) = columns[j];
            if (state.Chain is { } chain)
            {
                box.Add((name, 0, chain.Count - 1));
                continue;
            }
            if (!model.IsStochastic || path.GetLength(0) == 0)
            {
                box.Add((name, initial.Low, initial.High));
                continue;
            }
            var values = Enumerable.Range(0, path.GetLength(0)).Select(i => path[i, j + 1]).Order().ToArray();
            double lo = values[(int)(0.005 * (values.Length - 1))], hi = values[(int)Math.Ceiling(0.995 * (values.Length - 1))];
            if (!(hi > lo)) (lo, hi) = (initial.Low, initial.High);
            box.Add((name, lo, hi));
        }
        return box;
    }

    /// <summary>A product grid: <paramref name="points"/> per continuous state over <paramref name="box"/>, every state of each Markov chain.</summary>
    internal static double[,] ProductGrid(Model model, IReadOnlyList<(string State, double Low, double High)> box, int points)
    {
        var columns = model.StateColumns;
        int d = box.Count;
        var sizes = Enumerable.Range(0, d).Select(j => columns[j].State.Chain?.Count ?? points).ToArray();
        long total = sizes.Aggregate(1L, (a, b) => a * b);
        if (total > 5_000_000) throw new ArgumentException($"a grid of {string.Join(" × ", sizes)} = {total:N0} states is too large; compare on an ergodic sample (fewer grid states)");
        var grid = new double[total, d];
        for (long i = 0; i < total; i++)
        {
            long rest = i;
            for (int j = d - 1; j >= 0; j--)
            {
                int k = (int)(rest % sizes[j]);
                rest /= sizes[j];
                grid[i, j] = columns[j].State.Chain is not null ? k : box[j].Low + (box[j].High - box[j].Low) * k / (points - 1.0);
            }
        }
        return grid;
    }

    /// <summary>
    /// <paramref name="size"/> states drawn (seeded, with replacement) from the reference's visited states; a
    /// deterministic model, whose path collapses to its steady state, draws uniformly over the box instead.
    /// </summary>
    private static double[,] Sample(Model model, double[,] visited, IReadOnlyList<(string State, double Low, double High)> box, int size, long seed)
    {
        var random = new StandardNormalStream(seed);
        int d = box.Count, rows = visited.GetLength(0);
        var columns = model.StateColumns;
        var sample = new double[size, d];
        for (int i = 0; i < size; i++)
        {
            int from = Math.Min(rows - 1, (int)(random.Uniform() * rows));
            for (int j = 0; j < d; j++)
                sample[i, j] = model.IsStochastic ? visited[from, j]
                    : columns[j].State.Chain is not null ? columns[j].Initial.Draw(random.Uniform())
                    : box[j].Low + (box[j].High - box[j].Low) * random.Uniform();
        }
        return sample;
    }

    private static IEnumerable<PolicyComparison> Compare(Model model, IPolicyFunction policy, IPolicyReference reference, double[,] states, string where, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        return RelativeErrors(model, policy.Values(Tensors.FromArray(states, dtype)), reference.PolicyAt(states), where);
    }

    /// <summary>Mean and max of |policy / reference − 1| per policy.</summary>
    private static List<PolicyComparison> RelativeErrors(Model model, Tensor policies, double[,] exact, string where)
    {
        var mine = Tensors.ToArray(policies);
        int n = mine.GetLength(0);
        var result = new List<PolicyComparison>();
        var names = model.PolicyColumns;
        for (int p = 0; p < names.Count; p++)
        {
            double sum = 0, max = 0;
            for (int i = 0; i < n; i++)
            {
                // A reference of exactly 0 (a multiplier of a constraint that does not bind) has no relative error: the absolute one stands in.
                double e = exact[i, p] == 0 ? Math.Abs(mine[i, p]) : Math.Abs(mine[i, p] / exact[i, p] - 1);
                sum += e;
                max = Math.Max(max, e);
            }
            result.Add(new PolicyComparison(names[p].Name, where, sum / n, max));
        }
        return result;
    }

    private static List<PolicySlice> Slices(Model model, IPolicyFunction policy, IPolicyReference? reference,
        IReadOnlyList<(string State, double Low, double High)> box, double[,] pathStates, ScalarType dtype)
    {
        const int points = 101;
        var columns = model.StateColumns;
        int d = columns.Count;
        var medians = Enumerable.Range(0, d).Select(j => Enumerable.Range(0, pathStates.GetLength(0)).Select(i => pathStates[i, j]).Order().ElementAt(pathStates.GetLength(0) / 2)).ToArray();
        var policyColumns = Shown(model.Policies).ToArray();
        var slices = new List<PolicySlice>();
        // A vector's first, middle and last elements stand for it: slices of every element of a long vector would bury the report.
        foreach (int j in Shown(model.States))
        {
            bool discrete = columns[j].State.Chain is not null;
            int count = discrete ? columns[j].State.Chain!.Count : points;
            var states = new double[count, d];
            var x = new double[count];
            for (int i = 0; i < count; i++)
            {
                for (int k = 0; k < d; k++) states[i, k] = medians[k];
                x[i] = states[i, j] = discrete ? i : box[j].Low + (box[j].High - box[j].Low) * i / (points - 1.0);
            }
            using var scope = torch.NewDisposeScope();
            var mine = Tensors.ToArray(policy.Values(Tensors.FromArray(states, dtype)));
            var exact = reference?.PolicyAt(states);
            foreach (int p in policyColumns)
                slices.Add(new PolicySlice(columns[j].Name, model.PolicyColumns[p].Name, x,
                    Enumerable.Range(0, count).Select(i => mine[i, p]).ToArray(),
                    exact is null ? null : Enumerable.Range(0, count).Select(i => exact[i, p]).ToArray()));
        }
        return slices;
    }

    /// <summary>The columns to show of each variable: all of a scalar's or a short vector's, the first, middle and last of a long one.</summary>
    private static IEnumerable<int> Shown<T>(IReadOnlyList<T> variables) where T : Variable
    {
        foreach (var v in variables)
        {
            if (v.Size <= 3) { for (int e = 0; e < v.Size; e++) yield return v.Index + e; }
            else { yield return v.Index; yield return v.Index + v.Size / 2; yield return v.Index + v.Size - 1; }
        }
    }

    private static double[,] Column(double[,] m, int from, int count)
    {
        var result = new double[m.GetLength(0), count];
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < count; j++) result[i, j] = m[i, from + j];
        return result;
    }

    /// <summary>The model's closed form as a reference at given states.</summary>
    private sealed class ClosedFormReference(Model model) : IPolicyReference
    {
        private readonly ClosedFormPolicy _policy = new(model);

        public string Name => "closed form";

        public double[,] PolicyAt(double[,] states)
        {
            using var scope = torch.NewDisposeScope();
            return Tensors.ToArray(_policy.Values(Tensors.FromArray(states, ScalarType.Float64)));
        }
    }
}
