using System.Globalization;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Diagnostics;

/// <summary>The thresholds a solution must meet to be called solved (each printed with the verdict).</summary>
public sealed record VerdictSpec
{
    /// <summary>Largest mean |residual| of any equation, on the fresh path and on the coverage sample.</summary>
    public double MeanResidual { get; init; } = 1e-3;

    /// <summary>Largest |residual| of any equation anywhere on either.</summary>
    public double MaxResidual { get; init; } = 1e-2;

    /// <summary>Economies drawn from the initial distributions for the coverage sample, each simulated <see cref="CoveragePeriods"/> periods.</summary>
    public int CoverageStarts { get; init; } = 256;

    public int CoveragePeriods { get; init; } = 10;

    /// <summary>
    /// Largest gap between the trained policy's slopes at the steady state and the first-order solution's, as a share
    /// of each policy's own scale (<see cref="Verdict"/> says how it is measured).
    /// </summary>
    public double SlopeTolerance { get; init; } = 0.01;

    /// <summary>
    /// Smallest share of the fresh path inside the box that holds this share of the training states (each state
    /// between the same tail quantiles: 0.5–99.5 % for one state, wider for many), widened by
    /// <see cref="RangeWidening"/> of its width on each side.
    /// </summary>
    public double InsideShare { get; init; } = 0.99;

    public double RangeWidening { get; init; } = 0.1;

    /// <summary>Largest share of the fresh path's periods at which a value read was clipped into its bounds.</summary>
    public double ClippedShare { get; init; } = 0.01;

    public void Validate()
    {
        if (!(MeanResidual > 0) || !(MaxResidual > 0)) throw new ArgumentException("the verdict's residual thresholds must be > 0");
        if (CoverageStarts < 1 || CoveragePeriods < 1) throw new ArgumentException("the coverage sample needs at least one start and one period");
        if (!(SlopeTolerance > 0)) throw new ArgumentException("the slope tolerance must be > 0");
        if (!(InsideShare is > 0 and <= 1) || !(ClippedShare is >= 0 and <= 1) || !(RangeWidening >= 0)) throw new ArgumentException("the verdict's shares must be in [0, 1]");
    }
}

/// <summary>Solved: every rule holds. Suspect: one does not — read the reasons. Failed: no usable solution.</summary>
public enum VerdictStatus { Solved, Suspect, Failed }

/// <summary>A rule's outcome.</summary>
public enum RuleOutcome { Pass, Fail, NotApplicable }

/// <summary>One check of the verdict: what was measured, against what, and what it means.</summary>
public sealed record VerdictRule(string Name, RuleOutcome Outcome, string Measured, string Threshold, string Detail);

/// <summary>
/// Whether a solution can be trusted, judged on what the method is known to get wrong, not only on small residuals:
/// residuals on a fresh path and on the region the initial distributions span (a path that collapses to a point checks
/// one state); the stability of the economy under the trained policy and its slopes against the first-order
/// perturbation at the steady state (explosive and spurious solutions also make the residuals small); whether the path
/// stays where the network was trained; clipping into bounds; a path that stays feasible.
/// </summary>
/// <remarks>
/// The slope gap: the trained policy's Jacobian Π (central differences at the steady state, so any policy function can
/// be judged) against the perturbation's P, row by row in value space: Σ_j |Π_ij − P_ij|·w_j / max(|p̄_i|, Σ_j |P_ij|·w_j),
/// where w_j is state j's half-range in the initial distribution — how much the two policies part over the region a
/// user asked about, relative to the policy's size. A global solution's slope at the deterministic steady state differs
/// from the certainty-equivalent one by terms of order σ², so the tolerance cannot be tight.
/// </remarks>
public sealed record Verdict(VerdictStatus Status, IReadOnlyList<string> Reasons, IReadOnlyList<VerdictRule> Rules, IReadOnlyList<string> Notes)
{
    public string Word => Status.ToString().ToLowerInvariant();

    /// <summary>A verdict of failure before any check could run (training or evaluation stopped).</summary>
    public static Verdict Failure(string reason) => new(VerdictStatus.Failed, [reason], [], []);

    /// <summary>
    /// Judges <paramref name="policy"/>: <paramref name="report"/> is its fresh-path diagnostics, <paramref name="linear"/>
    /// the model's first-order solution (with its steady state), <paramref name="trainingStates"/> where it was trained
    /// (empty: not recorded), <paramref name="diagnostics"/> the evaluation's quadrature and seed.
    /// </summary>
    public static Verdict Judge(Model model, IPolicyFunction policy, SolutionReport report, LinearSolution linear, double[,] trainingStates,
        DiagnosticsSpec diagnostics, VerdictSpec? spec = null, ScalarType dtype = ScalarType.Float64, PolishGuard? polish = null)
    {
        spec ??= new VerdictSpec();
        spec.Validate();
        var rules = new List<VerdictRule>();
        var notes = new List<string>();
        using var noGrad = no_grad();

        // Feasibility first: without a whole path nothing else is worth reading.
        bool pathFinite = report.Failure is null && report.Errors.Values.All(e => e.AllFinite);
        rules.Add(new VerdictRule("feasible path", pathFinite ? RuleOutcome.Pass : RuleOutcome.Fail,
            report.Failure ?? (pathFinite ? $"{report.Periods:N0} periods, all finite" : NonFiniteDetail(report.Errors)),
            "every state and residual finite", "the economy simulated under the policy stays where the model is defined"));

        rules.Add(ResidualRule("residuals on the fresh path", report.Errors, spec,
            $"{report.Periods:N0} periods of a fresh path (seed {diagnostics.Seed}, expectations by {report.Quadrature})"));
        if (Collapsed(model, report) is { } collapse) notes.Add(collapse);

        var coverage = Coverage(model, policy, diagnostics, spec, dtype);
        rules.Add(coverage.Failure is { } coverageFailure
            ? new VerdictRule("residuals on the initial region", RuleOutcome.Fail, coverageFailure, "every short path feasible", "")
            : ResidualRule("residuals on the initial region", coverage.Errors, spec,
                $"{spec.CoverageStarts} economies drawn from the initial distributions, {spec.CoveragePeriods} periods each"));

        rules.AddRange(SteadyStateRules(model, policy, linear, spec));
        rules.Add(PolishRule(polish));
        rules.Add(RangeRule(model, report, trainingStates, spec));
        double clipped = report.Periods == 0 ? 0 : (double)report.ClippedPeriods / report.Periods;
        rules.Add(new VerdictRule("bounds clipping", clipped <= spec.ClippedShare ? RuleOutcome.Pass : RuleOutcome.Fail,
            $"{Percent(clipped)} of periods" + (report.ClippedVariables.Count > 0 ? $" ({string.Join(", ", report.ClippedVariables.OrderByDescending(v => v.Periods).Take(4).Select(v => $"{v.Variable} {v.Periods:N0}"))})" : ""),
            $"≤ {Percent(spec.ClippedShare)}", "values clipped into their bounds are not the model's: the equations hold for other numbers"));

        var failed = rules.Where(r => r.Outcome == RuleOutcome.Fail).ToArray();
        var status = !pathFinite ? VerdictStatus.Failed : failed.Length > 0 ? VerdictStatus.Suspect : VerdictStatus.Solved;
        var reasons = failed.Select(r => $"{r.Name}: {r.Measured} (needs {r.Threshold})").ToArray();
        return new Verdict(status, reasons, rules, notes);
    }

    private static string NonFiniteDetail(IReadOnlyDictionary<string, EulerErrorStatistics> errors) =>
        "non-finite residuals: " + string.Join(", ", errors.Where(e => !e.Key.Contains('[') && !e.Value.AllFinite).Select(e => $"{e.Key} at {e.Value.NonFinite:N0} of {e.Value.Count:N0} periods"));

    /// <summary>Every equation (a vector equation pooled over its elements): mean |residual| and max |residual| under the thresholds.</summary>
    private static VerdictRule ResidualRule(string name, IReadOnlyDictionary<string, EulerErrorStatistics> errors, VerdictSpec spec, string where)
    {
        var blocks = errors.Where(e => !e.Key.Contains('[')).ToArray();
        if (blocks.Length == 0) return new VerdictRule(name, RuleOutcome.Fail, "no residuals", "", where);
        var worstMean = blocks.OrderByDescending(e => double.IsFinite(e.Value.Mean) ? e.Value.Mean : double.MaxValue).First();
        var worstMax = blocks.OrderByDescending(e => double.IsFinite(e.Value.Max) ? e.Value.Max : double.MaxValue).First();
        bool pass = blocks.All(e => e.Value.Mean <= spec.MeanResidual && e.Value.Max <= spec.MaxResidual);
        return new VerdictRule(name, pass ? RuleOutcome.Pass : RuleOutcome.Fail,
            $"largest mean {F(worstMean.Value.Mean)} ({worstMean.Key}), largest max {F(worstMax.Value.Max)} ({worstMax.Key})",
            $"mean ≤ {F(spec.MeanResidual)} and max ≤ {F(spec.MaxResidual)} for every equation", where);
    }

    /// <summary>A fresh path whose continuous states all stay within a millionth of their initial spread: it checked one state.</summary>
    private static string? Collapsed(Model model, SolutionReport report)
    {
        int n = report.Periods;
        if (n < 10) return null;
        var columns = model.StateColumns;
        foreach (var j in Enumerable.Range(0, columns.Count).Where(j => columns[j].State.Chain is null))
        {
            double lo = double.MaxValue, hi = double.MinValue;
            for (int i = n / 2; i < n; i++) { lo = Math.Min(lo, report.Path[i, j + 1]); hi = Math.Max(hi, report.Path[i, j + 1]); }
            if (hi - lo > 1e-6 * columns[j].Initial.HalfWidth) return null;
        }
        return "the fresh path collapses to a point (every state still after half of it): it checks the solution at one state, which is why the initial region is checked too";
    }

    private sealed record CoverageResult(IReadOnlyDictionary<string, EulerErrorStatistics> Errors, string? Failure);

    /// <summary>Residuals on economies drawn from the initial distributions and a few periods simulated from each.</summary>
    private static CoverageResult Coverage(Model model, IPolicyFunction policy, DiagnosticsSpec diagnostics, VerdictSpec spec, ScalarType dtype)
    {
        var random = new StandardNormalStream(Seeds.Derive(diagnostics.Seed, "coverage"));
        using var quadrature = new QuadratureTensors(diagnostics.Quadrature.Build(model.ShockCholesky, Seeds.Derive(diagnostics.Seed, "quadrature")), model.ChainStates, dtype);
        var errors = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var blocks = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        var x = Simulator.DrawInitial(model, spec.CoverageStarts, random, dtype, CPU);
        var periods = new List<Tensor>();
        for (int t = 0; t < spec.CoveragePeriods; t++)
        {
            if (!x.isfinite().all().item<bool>())
                return new CoverageResult(errors.ToDictionary(e => e.Key, e => EulerErrorStatistics.Of(e.Value)),
                    $"economies drawn from the initial distributions left the feasible set in period {t}");
            periods.Add(x);
            if (t < spec.CoveragePeriods - 1) x = Simulator.Step(model, x, policy, random);
        }
        var states = cat(periods.ToArray(), 0);
        int chunk = Math.Clamp(200_000 / quadrature.Count, 16, 2000);
        for (long start = 0; start < states.shape[0]; start += chunk)
        {
            using var inner = NewDisposeScope();
            var residuals = Evaluation.Evaluate(model, states.narrow(0, start, Math.Min(chunk, states.shape[0] - start)), policy, quadrature);
            foreach (var (name, block, residual) in residuals.Elements())
            {
                var values = residual.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                if (!errors.TryGetValue(name, out var list)) errors[name] = list = [];
                list.AddRange(values);
                if (name != block)
                {
                    if (!blocks.TryGetValue(block, out var pooled)) blocks[block] = pooled = [];
                    pooled.AddRange(values);
                }
            }
        }
        return new CoverageResult(errors.Concat(blocks).ToDictionary(e => e.Key, e => EulerErrorStatistics.Of(e.Value), StringComparer.Ordinal), null);
    }

    /// <summary>Stability of the economy under the policy at the steady state, and its slopes there against the perturbation's.</summary>
    private static IEnumerable<VerdictRule> SteadyStateRules(Model model, IPolicyFunction policy, LinearSolution linear, VerdictSpec spec)
    {
        var steady = linear.SteadyState;
        if (steady.Status == SteadyStateStatus.None)
        {
            yield return new VerdictRule("stability at the steady state", RuleOutcome.NotApplicable, "no steady state", "", steady.Message);
            yield return new VerdictRule("slopes against the first-order solution", RuleOutcome.NotApplicable, "no steady state", "", steady.Message);
            yield break;
        }
        if (!steady.Found)
        {
            yield return new VerdictRule("stability at the steady state", RuleOutcome.Fail, "steady state not found", "a steady state", steady.Message);
            yield return new VerdictRule("slopes against the first-order solution", RuleOutcome.Fail, "steady state not found", "a steady state", steady.Message);
            yield break;
        }
        var system = new DeterministicSystem(model, linear.Chains);
        int nx = system.Continuous.Length, m = model.PolicyWidth;
        var x0 = system.Continuous.Select(j => steady.StateRow[j]).ToArray();
        var frozen = new FrozenChainPolicy(model, policy, system);
        var slopes = frozen.Jacobian(x0);
        var p0 = frozen.At(x0);
        // H = T_x + T_p·Π at the steady state under the trained policy.
        var (_, t) = DeterministicSystem.Jacobian(u => system.Next(u.narrow(1, 0, nx), u.narrow(1, nx, m)), x0.Concat(p0).ToArray());
        var h = new double[nx, nx];
        for (int i = 0; i < nx; i++)
            for (int c = 0; c < nx; c++)
            {
                double v = t[i, c];
                for (int k = 0; k < m; k++) v += t[i, nx + k] * slopes[k, c];
                h[i, c] = v;
            }
        double radius = SpectralRadius(h);
        yield return new VerdictRule("stability at the steady state", radius < 1 ? RuleOutcome.Pass : RuleOutcome.Fail,
            $"spectral radius {radius.ToString("G4", CultureInfo.InvariantCulture)}", "< 1",
            "the eigenvalues of ∂x′/∂x under the policy at the steady state: at or above 1 the economy drifts away from it (an explosive or spurious solution)");

        if (!linear.Solved)
        {
            yield return new VerdictRule("slopes against the first-order solution", RuleOutcome.NotApplicable, "no first-order solution", "", linear.Message);
            yield break;
        }
        var weights = SlopeHalfRanges(model, system, steady);
        double worst = 0;
        string worstPolicy = "";
        var skipped = new List<string>();
        for (int i = 0; i < m; i++)
        {
            double gap = 0, size = Math.Abs(steady.PolicyRow[i]);
            double reach = 0;
            for (int j = 0; j < nx; j++)
            {
                gap += Math.Abs(slopes[i, j] - linear.PolicySlopes[i, j]) * weights[j];
                reach += Math.Abs(linear.PolicySlopes[i, j]) * weights[j];
            }
            if (!(Math.Max(size, reach) > ZeroAtFirstOrder)) { skipped.Add(linear.Policies[i]); continue; }
            double relative = gap / Math.Max(size, reach);
            if (!(relative <= worst)) { worst = relative; worstPolicy = linear.Policies[i]; }
        }
        if (skipped.Count == m)
        {
            yield return new VerdictRule("slopes against the first-order solution", RuleOutcome.NotApplicable, "every policy is zero at first order", "",
                "no policy moves at first order, so there is no slope to compare");
            yield break;
        }
        yield return new VerdictRule("slopes against the first-order solution", worst <= spec.SlopeTolerance ? RuleOutcome.Pass : RuleOutcome.Fail,
            $"largest gap {Percent(worst)} ({worstPolicy})" + (skipped.Count > 0 ? $"; {string.Join(", ", skipped)} zero at first order, not compared" : ""), $"≤ {Percent(spec.SlopeTolerance)}",
            "the policy's change across the initial region at the steady state, against the perturbation's: far apart, the network found another solution of the equations");
    }

    private static double SpectralRadius(double[,] h) => h.Length == 0 ? 0
        : MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfArray(h).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Asymmetric).EigenValues.Max(z => z.Magnitude);

    /// <summary>
    /// Whether the equations alone, in the polish (which has no slope anchor), kept to the first-order solution's slopes:
    /// the slope check cannot tell on its own, since the episodes' anchor pulls the network toward those very slopes.
    /// </summary>
    private static VerdictRule PolishRule(PolishGuard? polish)
    {
        const string name = "polish kept the first-order slopes";
        const string needs = "no polish that moves the slopes past the guard and lowers the residuals on fresh states";
        if (polish is null || polish.RoundsChecked == 0 && polish.Halt is null)
            return new VerdictRule(name, RuleOutcome.NotApplicable, "no guarded polish", "", "no polish ran, or no slope anchor held the episodes");
        if (polish.Halt is not { } halt)
            return new VerdictRule(name, RuleOutcome.Pass, $"{polish.RoundsChecked} round(s), slopes within the guard", needs,
                "the polish left the slopes at the steady state near the first-order solution's");
        string moved = $"the polish ({halt.Round} round(s)) moved the slopes {Percent(halt.Gap)} away and took the mean squared residual on fresh draws from {F(halt.FreshLossBefore)} to {F(halt.FreshLossAfter)}";
        return halt.EquationsPull
            ? new VerdictRule(name, RuleOutcome.Fail, moved + "; it was undone, so the solution kept is the anchored one", needs,
                "the equations favour slopes other than the first-order solution's: a spurious root, or a model whose solution near the steady state is not its first-order one (a constraint that binds nearby); compare with --slope-anchor 0")
            : new VerdictRule(name, RuleOutcome.Pass, moved + ": it over-fitted its samples and was undone", needs,
                "a polish that fits its samples better but the equations elsewhere worse says nothing against the anchored solution");
    }

    /// <summary>
    /// At least <see cref="VerdictSpec.InsideShare"/> of the fresh path inside the box that holds that share of the
    /// training states, widened by <see cref="VerdictSpec.RangeWidening"/> of its width on each side.
    /// </summary>
    /// <remarks>
    /// The box takes each state between its a and 1 − a quantiles in the training sample, with a chosen so that the
    /// box holds <see cref="VerdictSpec.InsideShare"/> of the training states jointly. With one state that is the
    /// 0.5–99.5 % range; with many, a per-state 0.5–99.5 % range would put only 0.99^d of draws from the training
    /// distribution itself inside (37 % at d = 100), failing every high-dimensional model; correlated states (the
    /// capital of neighbouring ages) need less widening than independent ones, which the joint share measures.
    /// </remarks>
    private static VerdictRule RangeRule(Model model, SolutionReport report, double[,] training, VerdictSpec spec)
    {
        const string name = "path inside the training region";
        int n = training.GetLength(0);
        if (n < 100 || training.GetLength(1) != model.StateWidth)
            return new VerdictRule(name, RuleOutcome.NotApplicable, "no training states recorded", "", "a policy judged without its training run (e.g. a closed form)");
        if (report.Periods == 0) return new VerdictRule(name, RuleOutcome.Fail, "no path", "", "");
        var columns = model.StateColumns;
        var continuous = Enumerable.Range(0, columns.Count).Where(j => columns[j].State.Chain is null).ToArray();
        var box = TrainingBox(training, continuous, spec.InsideShare);
        var ranges = continuous.Select((j, k) =>
        {
            double lo = box.Low[k], hi = box.High[k];
            double widen = Math.Max(spec.RangeWidening * (hi - lo), 1e-9 * Math.Max(1, Math.Abs(hi) + Math.Abs(lo)));
            return (Column: j, Low: lo - widen, High: hi + widen);
        }).ToArray();
        int inside = 0;
        var outside = new int[continuous.Length];
        for (int i = 0; i < report.Periods; i++)
        {
            bool all = true;
            for (int k = 0; k < ranges.Length; k++)
            {
                double v = report.Path[i, ranges[k].Column + 1];
                if (v < ranges[k].Low || v > ranges[k].High) { all = false; outside[k]++; }
            }
            if (all) inside++;
        }
        double share = (double)inside / report.Periods;
        var worst = Enumerable.Range(0, ranges.Length).Where(k => outside[k] > 0).OrderByDescending(k => outside[k]).Take(3)
            .Select(k => $"{columns[ranges[k].Column].Name} outside [{F(ranges[k].Low)}, {F(ranges[k].High)}] in {outside[k]:N0} periods").ToArray();
        string quantiles = string.Create(CultureInfo.InvariantCulture, $"{100 * box.Tail:G3}–{100 - 100 * box.Tail:G4} %");
        return new VerdictRule(name, share >= spec.InsideShare ? RuleOutcome.Pass : RuleOutcome.Fail,
            string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(10000 * share) / 100:0.##} % of periods inside") + (worst.Length > 0 ? $"; {string.Join("; ", worst)}" : ""),
            $"≥ {Percent(spec.InsideShare)} inside the box holding {Percent(spec.InsideShare)} of the training states (each state's {quantiles} range) widened by {Percent(spec.RangeWidening)}",
            $"{n:N0} of the most recent training states: beyond them the network extrapolates");
    }

    /// <summary>
    /// Each column's a and 1 − a quantiles of <paramref name="training"/>, for the largest a ≤ (1 − share)/2 whose box
    /// holds at least <paramref name="share"/> of the rows (bisection: the held share falls as a grows).
    /// </summary>
    internal static (double[] Low, double[] High, double Tail) TrainingBox(double[,] training, int[] columns, double share)
    {
        int n = training.GetLength(0);
        var sorted = columns.Select(j =>
        {
            var values = new double[n];
            for (int i = 0; i < n; i++) values[i] = training[i, j];
            Array.Sort(values);
            return values;
        }).ToArray();
        (double[] Low, double[] High) At(double a) =>
            (sorted.Select(v => v[(int)(a * (n - 1))]).ToArray(), sorted.Select(v => v[(int)Math.Ceiling((1 - a) * (n - 1))]).ToArray());
        double Held(double a)
        {
            var (low, high) = At(a);
            int held = 0;
            for (int i = 0; i < n; i++)
            {
                bool all = true;
                for (int k = 0; k < columns.Length && all; k++)
                    all = training[i, columns[k]] >= low[k] && training[i, columns[k]] <= high[k];
                if (all) held++;
            }
            return (double)held / n;
        }
        double lo = 0, hi = (1 - share) / 2;
        if (Held(hi) >= share) lo = hi;
        else
            for (int step = 0; step < 30 && hi - lo > 0.5 / n; step++)
            {
                double mid = (lo + hi) / 2;
                if (Held(mid) >= share) lo = mid; else hi = mid;
            }
        var (l, h) = At(lo);
        return (l, h, lo);
    }

    internal static string F(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G3", CultureInfo.InvariantCulture);
    /// <summary>
    /// A policy whose steady-state value and first-order slopes (scaled by the initial half-ranges) are all below this
    /// is zero at first order — a slack constraint's multiplier — and has no scale to measure a slope gap against.
    /// </summary>
    public const double ZeroAtFirstOrder = 1e-10;

    /// <summary>
    /// What a slope gap is measured across: each continuous state's half-range in the initial distribution (a fixed start:
    /// a thousandth of its steady-state value), shared by this check and the solver's slope anchor.
    /// </summary>
    internal static double[] SlopeHalfRanges(Model model, DeterministicSystem system, SteadyState steady)
    {
        var columns = model.StateColumns;
        return system.Continuous.Select(j => columns[j].Initial.High > columns[j].Initial.Low
            ? columns[j].Initial.HalfWidth : Math.Max(1e-3 * Math.Abs(steady.StateRow[j]), 1e-12)).ToArray();
    }

    /// <summary>A share as a percentage: "2.4 %", "0.0042 %", and "&lt; 0.0001 %" for round-off rather than "6.3E-15 %".</summary>
    public static string Percent(double share) => 100 * share < 1e-4 ? "< 0.0001 %"
        : (100 * share).ToString(share < 0.001 ? "G2" : "0.#", CultureInfo.InvariantCulture) + " %";
}

/// <summary>
/// A policy function read at continuous states with the Markov chains frozen as the steady state treats them: a held
/// chain at its state, an averaged one as the policy's average over the chain's states under its stationary distribution.
/// </summary>
internal sealed class FrozenChainPolicy(Model model, IPolicyFunction policy, DeterministicSystem system)
{
    /// <summary>The policy values [policies] at continuous states <paramref name="x"/>.</summary>
    public double[] At(double[] x) => Values(tensor(x, [1, x.Length], dtype: ScalarType.Float64)).flatten().data<double>().ToArray();

    /// <summary>∂p/∂x [policies, continuous states] by central differences (any policy function, autograd or not).</summary>
    public double[,] Jacobian(double[] x)
    {
        int n = x.Length, m = model.PolicyWidth;
        var jacobian = new double[m, n];
        if (n == 0) return jacobian;
        var columns = model.StateColumns;
        var rows = new double[2 * n, n];
        var h = new double[n];
        for (int j = 0; j < n; j++)
        {
            var initial = columns[system.Continuous[j]].Initial;
            h[j] = 1e-5 * Math.Max(Math.Abs(x[j]), initial.High > initial.Low ? initial.HalfWidth : 1e-3);
            for (int k = 0; k < n; k++) rows[2 * j, k] = rows[2 * j + 1, k] = x[k];
            rows[2 * j, j] += h[j];
            rows[2 * j + 1, j] -= h[j];
        }
        using var scope = NewDisposeScope();
        var values = Tensors.ToArray(Values(Tensors.FromArray(rows, ScalarType.Float64)));
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) jacobian[i, j] = (values[2 * j, i] - values[2 * j + 1, i]) / (2 * h[j]);
        return jacobian;
    }

    internal Tensor Values(Tensor continuous)
    {
        var states = system.StateMatrix(continuous);
        var averaged = model.ChainStates.Where(c => !system.Chains.Held.ContainsKey(c.Name)).ToArray();
        if (averaged.Length == 0) return policy.Values(states).to_type(ScalarType.Float64).cpu();
        // Every combination of the averaged chains' states, weighted by the product of their stationary probabilities.
        Tensor? sum = null;
        int combinations = averaged.Aggregate(1, (a, c) => a * c.Chain!.Count);
        for (int combination = 0; combination < combinations; combination++)
        {
            var at = states.clone();
            double weight = 1;
            int rest = combination;
            foreach (var chain in averaged)
            {
                int j = rest % chain.Chain!.Count;
                rest /= chain.Chain.Count;
                at.select(1, chain.Index).fill_(j);
                weight *= chain.Chain.Stationary[j];
            }
            var term = policy.Values(at).to_type(ScalarType.Float64).cpu().mul(weight);
            sum = sum is null ? term : sum.add(term);
        }
        return sum!;
    }
}
