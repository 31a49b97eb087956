using System.Globalization;
using Deqn.Equilibrium.Modeling;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Perturbation;

/// <summary>How the deterministic steady state is found.</summary>
public sealed record SteadyStateSpec
{
    /// <summary>How each Markov chain is treated (default: its values averaged under its stationary distribution).</summary>
    public ChainTreatment Chains { get; init; } = new();

    /// <summary>Damped Newton iterations per start.</summary>
    public int MaxIterations { get; init; } = 200;

    /// <summary>The largest |residual| (transition in logs for positive states, every equation element) that counts as solved.</summary>
    public double Tolerance { get; init; } = 1e-10;
}

/// <summary>Whether a steady state was found, does not exist for the model, or was not found.</summary>
public enum SteadyStateStatus { Found, None, Failed }

/// <summary>
/// The deterministic steady state: the states and policies (values, after each output's transform) at which the
/// transition returns the same states and every equation holds, with next period's shocks at zero and each Markov chain
/// frozen (<see cref="ChainTreatment"/>); every definition's value there, and how well the equations close.
/// </summary>
public sealed record SteadyState(
    SteadyStateStatus Status,
    string Message,
    IReadOnlyList<(string Name, double Value)> States,
    IReadOnlyList<(string Name, double Value)> Policies,
    IReadOnlyList<(string Name, double Value)> Definitions,
    IReadOnlyList<(string Name, double Residual)> Residuals,
    bool LeastSquares,
    IReadOnlyList<string> Chains)
{
    public bool Found => Status == SteadyStateStatus.Found;

    /// <summary>The state matrix's row at the steady state [StateWidth] (a held chain's state, 0 for an averaged one).</summary>
    public double[] StateRow { get; init; } = [];

    /// <summary>The policy values [PolicyWidth].</summary>
    public double[] PolicyRow { get; init; } = [];

    /// <summary>
    /// Finds the steady state of <paramref name="model"/> by damped Newton (Levenberg–Marquardt with a line search, exact
    /// Jacobians by autograd) on the transition's fixed point and the equations, from the model's guess or from its initial
    /// distributions' centers and each policy output's neutral value, then from other starts in the initial box. Positive
    /// states are solved in logs and policies in their raw (pre-transform) outputs, so no iterate leaves the feasible set.
    /// More equations than policies: solved in least squares, and said so.
    /// </summary>
    public static SteadyState Of(Model model, SteadyStateSpec? spec = null)
    {
        spec ??= new SteadyStateSpec();
        DeterministicSystem system;
        try { system = new DeterministicSystem(model, spec.Chains); }
        catch (Exception e) when (e is InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            return new SteadyState(SteadyStateStatus.Failed, $"the model could not be evaluated without shocks: {e.Message.Split('\n')[0].Trim()}", [], [], [], [], false, spec.Chains.Describe(model));
        }
        var chains = spec.Chains.Describe(model);
        if (!model.HasSteadyState)
            return new SteadyState(SteadyStateStatus.None, $"{model.Title} has no steady state (the model says so)", [], [], [], [], false, chains);
        try { return new Newton(system, spec).Solve(chains); }
        catch (Exception e) when (e is InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            return new SteadyState(SteadyStateStatus.Failed, $"the model could not be evaluated without shocks: {e.Message.Split('\n')[0].Trim()}", [], [], [], [], false, chains);
        }
    }

    public override string ToString() => Status switch
    {
        SteadyStateStatus.Found => string.Join(", ", States.Concat(Policies).Select(v => $"{v.Name} = {v.Value.ToString("G6", CultureInfo.InvariantCulture)}")),
        _ => Message,
    };

    /// <summary>The damped Newton iteration on u = (states in logs or levels, raw policy outputs).</summary>
    private sealed class Newton(DeterministicSystem system, SteadyStateSpec spec)
    {
        private readonly Model _model = system.Model;
        private readonly int[] _continuous = system.Continuous;
        private bool[] _logs = [];

        public SteadyState Solve(IReadOnlyList<string> chains)
        {
            var columns = _model.StateColumns;
            int nx = _continuous.Length, m = _model.PolicyWidth;
            var guess = new SteadyStateGuess(_model);
            _model.GuessSteadyStateAt(guess);
            var center = _continuous.Select(j => guess.State(j) ?? columns[j].Initial.Typical).ToArray();
            _logs = _continuous.Select((j, k) => columns[j].Initial.Low > 0 && center[k] > 0).ToArray();
            var neutral = Enumerable.Range(0, m).Select(i => guess.Policy(i) is { } v ? Raw(i, v) : 0.0).ToArray();
            (double[] U, double[] F, double Norm, int Iterations)? best = null;
            foreach (var start in Starts(center, neutral))
            {
                var result = Iterate(start);
                if (best is null || result.Norm < best.Value.Norm || double.IsNaN(best.Value.Norm)) best = result;
                if (result.Norm <= spec.Tolerance) break;
            }
            var (u, f, norm, iterations) = best!.Value;
            int equations = system.EquationNames.Count;
            bool leastSquares = equations > m;
            var names = _continuous.Select(j => $"transition of {columns[j].Name}").Concat(system.EquationNames).ToArray();
            var residuals = names.Zip(f, (n, r) => (n, r)).ToArray();
            var (x, p) = Values(u);
            bool solved = norm <= spec.Tolerance || (leastSquares && double.IsFinite(norm) && StationaryInLeastSquares(u));
            if (!solved)
            {
                var open = residuals.Where(r => !(Math.Abs(r.r) <= 1e-6)).OrderByDescending(r => double.IsFinite(r.r) ? Math.Abs(r.r) : double.MaxValue).ToArray();
                string which = string.Join(", ", open.Take(4).Select(r => $"{r.n} ({Format(r.r)})")) + (open.Length > 4 ? $" and {open.Length - 4} more" : "");
                return new SteadyState(SteadyStateStatus.Failed,
                    $"no steady state found: {(open.Length > 0 ? which : "the residuals stall at " + Format(norm))} do not close (best of the starts tried, {iterations} iterations); give the model a guess (GuessSteadyState)",
                    [], [], [], residuals, leastSquares, chains);
            }
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var xt = tensor(x, [1, nx], dtype: ScalarType.Float64);
            var pt = tensor(p, [1, m], dtype: ScalarType.Float64);
            var definitions = system.Definitions(xt, pt);
            var stateRow = system.StateMatrix(xt).flatten().data<double>().ToArray();
            string message = leastSquares
                ? $"solved in least squares: {equations} equation elements for {m} policies; largest |residual| {Format(norm)}"
                : $"found in {iterations} Newton iterations; largest |residual| {Format(norm)}";
            return new SteadyState(SteadyStateStatus.Found, message,
                _continuous.Select((j, k) => (columns[j].Name, x[k])).ToArray(),
                _model.PolicyColumns.Select((c, i) => (c.Name, p[i])).ToArray(),
                definitions, residuals, leastSquares, chains)
            { StateRow = stateRow, PolicyRow = p };
        }

        /// <summary>The guess first, then the box's quartiles with raw policies at −1, 0, 1: a few deterministic starts.</summary>
        private IEnumerable<double[]> Starts(double[] center, double[] neutral)
        {
            var columns = _model.StateColumns;
            double[] Point(Func<int, double> state, Func<int, double> policy) =>
                Enumerable.Range(0, _continuous.Length).Select(k => _logs[k] ? Math.Log(state(k)) : state(k))
                    .Concat(Enumerable.Range(0, neutral.Length).Select(policy)).ToArray();
            double Quantile(int k, double q)
            {
                var initial = columns[_continuous[k]].Initial;
                double v = initial.Low + q * (initial.High - initial.Low);
                return _logs[k] && !(v > 0) ? center[k] : v;
            }
            yield return Point(k => center[k], i => neutral[i]);
            foreach (var (q, r) in new[] { (0.25, 0.0), (0.75, 0.0), (0.5, -1.0), (0.5, 1.0), (0.1, -2.0), (0.9, 2.0) })
                yield return Point(k => Quantile(k, q), i => neutral[i] + r);
        }

        private (double[] U, double[] F, double Norm, int Iterations) Iterate(double[] u)
        {
            double mu = 0;
            double[] f = [];
            double norm = double.NaN;
            int it;
            for (it = 0; it < spec.MaxIterations; it++)
            {
                double[,] j;
                try { (f, j) = DeterministicSystem.Jacobian(Residual, u); }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or System.Runtime.InteropServices.ExternalException) { return (u, f, double.NaN, it); }
                norm = f.Length == 0 ? 0 : f.Max(Math.Abs);
                if (!double.IsFinite(norm) || !AllFinite(j)) return (u, f, double.NaN, it);
                // Newton converges quadratically near the answer: go on past the tolerance to rounding (stops when no step helps).
                if (norm <= 1e-3 * spec.Tolerance) break;
                double merit = f.Sum(v => v * v);
                bool accepted = false;
                for (int tries = 0; tries < (norm <= spec.Tolerance ? 1 : 8) && !accepted; tries++)
                {
                    var step = Step(j, f, mu);
                    for (double alpha = 1; alpha >= 1.0 / 1024 && !accepted; alpha /= 2)
                    {
                        var trial = u.Zip(step, (a, s) => a + alpha * s).ToArray();
                        var ft = Evaluate(trial);
                        if (ft is null) continue;
                        double m2 = ft.Sum(v => v * v);
                        if (double.IsFinite(m2) && m2 < merit * (1 - 1e-4 * alpha))
                        {
                            u = trial;
                            accepted = true;
                        }
                    }
                    mu = accepted ? mu / 10 : Math.Max(1e-8, mu * 100);
                }
                if (!accepted) break;
            }
            return (u, f, norm, it);
        }

        /// <summary>
        /// The Levenberg–Marquardt step: least squares on [J; √μ·D]·s = [−F; 0], D the Jacobian's column norms, solved in
        /// the scaled variables D·s by a managed SVD (minimum norm where J is rank-deficient; single-threaded, so the same
        /// bits every run). Scaled, a column is not dropped for being small: a slack multiplier under softplus has a
        /// derivative as small as its value, and the SVD's cut-off (relative to the largest singular value) had dropped
        /// such columns once the multipliers neared 1e-10, stalling Newton short of the tolerance.
        /// </summary>
        private static double[] Step(double[,] jacobian, double[] f, double mu)
        {
            int rows = jacobian.GetLength(0), cols = jacobian.GetLength(1);
            var scale = new double[cols];
            for (int c = 0; c < cols; c++)
            {
                double norm = 0;
                for (int r = 0; r < rows; r++) norm += jacobian[r, c] * jacobian[r, c];
                scale[c] = norm > 0 ? Math.Sqrt(norm) : 1;
            }
            var a = Matrix<double>.Build.Dense(rows + (mu > 0 ? cols : 0), cols);
            var b = Vector<double>.Build.Dense(a.RowCount);
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++) a[r, c] = jacobian[r, c] / scale[c];
                b[r] = -f[r];
            }
            if (mu > 0)
                for (int c = 0; c < cols; c++) a[rows + c, c] = Math.Sqrt(mu);
            var svd = a.Svd(computeVectors: true);
            double tolerance = svd.S.Count == 0 ? 0 : svd.S[0] * 1e-13 * Math.Max(a.RowCount, a.ColumnCount);
            var utb = svd.U.TransposeThisAndMultiply(b);
            var y = Vector<double>.Build.Dense(cols);
            for (int i = 0; i < svd.S.Count; i++)
                if (svd.S[i] > tolerance) y[i] = utb[i] / svd.S[i];
            var step = svd.VT.TransposeThisAndMultiply(y).ToArray();
            for (int c = 0; c < cols; c++) step[c] /= scale[c];
            return step;
        }

        /// <summary>A least-squares point is stationary when the gradient Jᵀ·F is negligible next to |J|·|F|.</summary>
        private bool StationaryInLeastSquares(double[] u)
        {
            var (f, j) = DeterministicSystem.Jacobian(Residual, u);
            double jf = 0, scale = 0;
            for (int c = 0; c < j.GetLength(1); c++)
            {
                double g = 0, col = 0;
                for (int r = 0; r < f.Length; r++) { g += j[r, c] * f[r]; col += j[r, c] * j[r, c]; }
                jf = Math.Max(jf, Math.Abs(g));
                scale = Math.Max(scale, Math.Sqrt(col));
            }
            return jf <= 1e-8 * Math.Max(1e-300, scale * Math.Sqrt(f.Sum(v => v * v)));
        }

        private double[]? Evaluate(double[] u)
        {
            try
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var f = Residual(tensor(u, [1, u.Length], dtype: ScalarType.Float64)).flatten().data<double>().ToArray();
                return f.All(double.IsFinite) ? f : null;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or System.Runtime.InteropServices.ExternalException) { return null; }
        }

        /// <summary>Rows of u → rows of residuals: the transition's fixed point (in logs for positive states), then every equation.</summary>
        private Tensor Residual(Tensor u)
        {
            int nx = _continuous.Length, m = _model.PolicyWidth;
            var y = u.narrow(1, 0, nx);
            var logs = tensor(_logs, dtype: ScalarType.Bool);
            var x = where(logs, y.exp(), y);
            var p = Transform(u.narrow(1, nx, m));
            var (next, residuals, _) = system.Evaluate(x, p, p);
            // The log only where it is taken: where() differentiates both branches, and a level state's next value at 0
            // (a holding that a softplus underflows to 0) would put 0·∞ = NaN into the Jacobian.
            var gap = where(logs, where(logs, next, next.ones_like()).log() - y, next - x);
            return cat([gap, residuals], 1);
        }

        private Tensor Transform(Tensor raw) =>
            cat(_model.Policies.Select(p => p.Transform(raw.narrow(1, p.Index, p.Size))).ToArray(), 1);

        private (double[] X, double[] P) Values(double[] u)
        {
            int nx = _continuous.Length;
            var x = u.Take(nx).Select((y, k) => _logs[k] ? Math.Exp(y) : y).ToArray();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var p = Transform(tensor(u.Skip(nx).ToArray(), [1, u.Length - nx], dtype: ScalarType.Float64)).flatten().data<double>().ToArray();
            return (x, p);
        }

        /// <summary>The raw output that gives policy column <paramref name="i"/> the value <paramref name="value"/>.</summary>
        private double Raw(int i, double value) => PolicyOutputs.Inverse(_model.PolicyColumns[i].Policy, value);

        private static bool AllFinite(double[,] m)
        {
            foreach (var v in m) if (!double.IsFinite(v)) return false;
            return true;
        }
    }

    internal static string Format(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}

/// <summary>A model's guess of its steady state, by handle (values, not raw outputs); unset entries use the defaults.</summary>
public sealed class SteadyStateGuess
{
    private readonly Model _model;
    private readonly Dictionary<int, double> _states = [];
    private readonly Dictionary<int, double> _policies = [];

    internal SteadyStateGuess(Model model) => _model = model;

    /// <summary>Guesses a state (every element, or one value per element).</summary>
    public SteadyStateGuess Set(State state, params double[] values) => Put(state, values, _states);

    /// <summary>Guesses a policy's value (every element, or one value per element).</summary>
    public SteadyStateGuess Set(Policy policy, params double[] values) => Put(policy, values, _policies);

    private SteadyStateGuess Put(Variable variable, double[] values, Dictionary<int, double> into)
    {
        _model.CheckOwns(variable);
        if (values.Length != 1 && values.Length != variable.Size)
            throw new ArgumentException($"a steady-state guess of {variable.Name} has one value or {variable.Size} (got {values.Length})");
        for (int e = 0; e < variable.Size; e++) into[variable.Index + e] = values[values.Length == 1 ? 0 : e];
        return this;
    }

    internal double? State(int column) => _states.TryGetValue(column, out var v) ? v : null;
    internal double? Policy(int column) => _policies.TryGetValue(column, out var v) ? v : null;
}

/// <summary>Each policy output's transform, inverted and differentiated, for anchoring raw outputs at given values.</summary>
internal static class PolicyOutputs
{
    /// <summary>The raw output whose transform is <paramref name="value"/>, held a little inside an open range (a multiplier at 0 under softplus is a large negative raw value, not −∞).</summary>
    public static double Inverse(Policy policy, double value)
    {
        switch (policy.Output)
        {
            case PolicyOutput.Linear: return value;
            case PolicyOutput.Implied:
                double lo = policy.Bounds!.Lower!.Value, hi = policy.Bounds.Upper!.Value;
                double share = Math.Clamp((value - lo) / (hi - lo), 1e-9, 1 - 1e-9);
                return Math.Log(share / (1 - share));
            case PolicyOutput.Softplus:
                double v = Math.Max(value, RawFloorValue);
                return v > 30 ? v : Math.Log(Math.Exp(v) - 1);
            case PolicyOutput.Exp: return Math.Log(Math.Max(value, RawFloorValue));
            default: throw new ArgumentOutOfRangeException(nameof(policy));
        }
    }

    /// <summary>d(value)/d(raw) at a raw output.</summary>
    public static double Slope(Policy policy, double raw) => policy.Output switch
    {
        PolicyOutput.Linear => 1,
        PolicyOutput.Implied => (policy.Bounds!.Upper!.Value - policy.Bounds.Lower!.Value) * Sigmoid(raw) * (1 - Sigmoid(raw)),
        PolicyOutput.Softplus => Sigmoid(raw),
        PolicyOutput.Exp => Math.Exp(raw),
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };

    /// <summary>The smallest value a positive output is anchored at: e^−6 ≈ 0.0025, where softplus still has slope 0.0025.</summary>
    public static readonly double RawFloorValue = Math.Exp(-6);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
