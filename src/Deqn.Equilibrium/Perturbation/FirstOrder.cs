using System.Globalization;
using System.Numerics;
using Deqn.Equilibrium.Modeling;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Perturbation;

/// <summary>Whether the first-order solution exists and was found.</summary>
public enum PerturbationStatus
{
    Solved,
    /// <summary>No steady state (none, or not found): nothing to linearize around.</summary>
    NoSteadyState,
    /// <summary>An equation is not differentiable at the steady state (a complementarity at its kink).</summary>
    NotLinearizable,
    /// <summary>Not as many equation elements as policies: the linear system is not square.</summary>
    NotSquare,
    /// <summary>Blanchard–Kahn fails: too few stable roots (explosive) or too many (indeterminate), or a singular system.</summary>
    BlanchardKahn,
}

/// <summary>
/// The first-order perturbation solution around the deterministic steady state: policies p = p̄ + P·(x − x̄) over the
/// continuous states x, the law of motion x′ − x̄ = H·(x − x̄) + G·ε it implies, and the generalized eigenvalues with
/// the Blanchard–Kahn count. Markov chains are frozen at their steady-state treatment (zero slope).
/// </summary>
public sealed record LinearSolution(
    PerturbationStatus Status,
    string Message,
    SteadyState SteadyState,
    IReadOnlyList<string> States,
    IReadOnlyList<string> Policies,
    double[,] PolicySlopes,
    double[,] LawOfMotion,
    double[,] ShockLoading,
    IReadOnlyList<Complex> Eigenvalues,
    int StableRoots)
{
    public bool Solved => Status == PerturbationStatus.Solved;

    /// <summary>The spectral radius of <see cref="LawOfMotion"/>: below 1 for a stable linear economy.</summary>
    public double SpectralRadius => Eigenvalues.Where(l => l.Magnitude < 1).Select(l => l.Magnitude).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Linearizes the model at its steady state (found with <paramref name="spec"/> unless given) and solves for the stable
    /// linear policy: the transition and the equations are differentiated by autograd with today's and next period's
    /// policies as separate arguments and next period's shocks at zero; the pencil A·z′ = B·z in z = (x, p), with
    /// A = [I 0; 0 R_p′] and B = [T_x T_p; −R_x −R_p], is solved by the eigenvectors of (B − sA)⁻¹A for a shift s (its
    /// eigenvalues μ = 1/(λ − s) map every generalized root λ, infinite ones to μ = 0), keeping those with |λ| &lt; 1.
    /// </summary>
    public static LinearSolution Of(Model model, SteadyState? steady = null, SteadyStateSpec? spec = null)
    {
        spec ??= new SteadyStateSpec();
        return Solve(model, steady ?? SteadyState.Of(model, spec), spec) with { Chains = spec.Chains };
    }

    /// <summary>How the Markov chains were treated (the steady state's and the linearization's).</summary>
    public ChainTreatment Chains { get; init; } = new();

    private static LinearSolution Solve(Model model, SteadyState steady, SteadyStateSpec spec)
    {
        var states = model.StateColumns.Where(c => c.State.Chain is null).Select(c => c.Name).ToArray();
        var policies = model.PolicyColumns.Select(p => p.Name).ToArray();
        int nx = states.Length, m = policies.Length, d = model.Shocks.Count;
        LinearSolution Fail(PerturbationStatus status, string message, IReadOnlyList<Complex>? roots = null, int stable = 0) =>
            new(status, message, steady, states, policies, new double[m, nx], new double[nx, nx], new double[nx, d], roots ?? [], stable);
        if (!steady.Found)
            return Fail(PerturbationStatus.NoSteadyState, steady.Status == SteadyStateStatus.None ? "not applicable: the model has no steady state" : $"not computed: {steady.Message}");
        var system = new DeterministicSystem(model, spec.Chains);
        int q = system.EquationNames.Count;
        if (q != m)
            return Fail(PerturbationStatus.NotSquare, $"not computed: {q} equation elements for {m} policies (the first-order solution needs as many as there are policies)");

        var x0 = system.Continuous.Select(j => steady.StateRow[j]).ToArray();
        var p0 = steady.PolicyRow;
        // Rows of (x, p, p′, ε) → rows of (x′, residuals).
        Tensor F(Tensor u)
        {
            var (next, residuals, _) = system.Evaluate(u.narrow(1, 0, nx), u.narrow(1, nx, m), u.narrow(1, nx + m, m));
            var shocked = d == 0 ? next : system.Next(u.narrow(1, 0, nx), u.narrow(1, nx, m), u.narrow(1, nx + 2 * m, d));
            return cat([shocked, residuals], 1);
        }
        var point = x0.Concat(p0).Concat(p0).Concat(new double[d]).ToArray();
        var (_, jacobian) = DeterministicSystem.Jacobian(F, point);
        var kinks = Kinks(F, point, jacobian);
        if (kinks.Length > 0)
        {
            var names = kinks.Select(r => r < nx ? $"transition of {states[r]}" : system.EquationNames[r - nx]).ToArray();
            return Fail(PerturbationStatus.NotLinearizable,
                $"not linearizable: {string.Join(", ", names)} {(names.Length == 1 ? "is" : "are")} not differentiable at the steady state " +
                "(a complementarity whose pair is (0, 0) there is a kink; Complementarity.FischerBurmeister(a, b, smoothing) with a small smoothing makes it differentiable)");
        }
        double J(int row, int column) => jacobian[row, column];
        // Column blocks: x [0, nx), p [nx, nx + m), p′ [nx + m, nx + 2m), ε after.
        int n = nx + m;
        var a = new double[n, n];
        var b = new double[n, n];
        for (int i = 0; i < nx; i++)
        {
            a[i, i] = 1;
            for (int c = 0; c < n; c++) b[i, c] = J(i, c);
        }
        for (int i = 0; i < m; i++)
        {
            for (int c = 0; c < m; c++) a[nx + i, nx + c] = J(nx + i, nx + m + c);
            for (int c = 0; c < n; c++) b[nx + i, c] = -J(nx + i, c);
        }
        var loading = new double[nx, d];
        for (int i = 0; i < nx; i++)
            for (int c = 0; c < d; c++) loading[i, c] = J(i, nx + 2 * m + c);

        var roots = GeneralizedEigen(a, b);
        if (roots is null)
            return Fail(PerturbationStatus.BlanchardKahn, "no unique solution: the linearized system is singular for every root (a policy enters no equation, or equations repeat one another)");
        var (lambdas, vectors) = roots.Value;
        var stable = Enumerable.Range(0, n).Where(i => lambdas[i].Magnitude < 1 - 1e-10).ToArray();
        var sorted = lambdas.OrderBy(l => l.Magnitude).ToArray();
        var unit = lambdas.Where(l => Math.Abs(l.Magnitude - 1) <= 1e-6).ToArray();
        string unitNote = unit.Length > 0 ? $"; {unit.Length} root(s) on the unit circle ({string.Join(", ", unit.Select(Format))}), counted as unstable" : "";
        if (stable.Length != nx)
        {
            string message = stable.Length < nx
                ? $"Blanchard–Kahn fails: {stable.Length} stable root(s) for {nx} state(s): no stable solution, the linearized economy explodes (roots by modulus: {string.Join(", ", sorted.Take(nx + 2).Select(Format))}){unitNote}"
                : $"Blanchard–Kahn fails: {stable.Length} stable roots for {nx} state(s): indeterminate, a continuum of stable solutions (roots by modulus: {string.Join(", ", sorted.Take(stable.Length + 1).Select(Format))}){unitNote}";
            return Fail(PerturbationStatus.BlanchardKahn, message, sorted, stable.Length);
        }
        var slopes = StableSlopes(vectors, stable, nx, m);
        if (slopes is null)
            return Fail(PerturbationStatus.BlanchardKahn, "no unique solution: the stable roots' eigenvectors do not span the states (a defective root)", sorted, stable.Length);
        var law = new double[nx, nx];
        for (int i = 0; i < nx; i++)
            for (int c = 0; c < nx; c++)
            {
                double v = J(i, c);
                for (int k = 0; k < m; k++) v += J(i, nx + k) * slopes[k, c];
                law[i, c] = v;
            }
        double residual = LinearResidual(J, slopes, law, nx, m);
        return new LinearSolution(PerturbationStatus.Solved,
            $"Blanchard–Kahn holds: {stable.Length} stable root(s) for {nx} state(s); largest stable |λ| {(stable.Length == 0 ? "—" : stable.Max(i => lambdas[i].Magnitude).ToString("G4", CultureInfo.InvariantCulture))}; linearized equations hold to {residual:G2}{unitNote}",
            steady, states, policies, slopes, law, loading, sorted, stable.Length);
    }

    /// <summary>
    /// The rows whose derivative is not defined at the point: not finite, or jumping under a step of 1e-7 of the point's
    /// scale (a smooth row's Jacobian moves by about that much; a kink's, such as Fischer–Burmeister's at (0, 0) where
    /// Newton leaves both arguments at rounding level, by order one).
    /// </summary>
    private static int[] Kinks(Func<Tensor, Tensor> f, double[] point, double[,] jacobian)
    {
        int rows = jacobian.GetLength(0), columns = jacobian.GetLength(1);
        var kinked = new HashSet<int>();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                if (!double.IsFinite(jacobian[r, c])) kinked.Add(r);
        var random = new Shocks.StandardNormalStream(20_261_207);
        for (int probe = 0; probe < 4; probe++)
        {
            var moved = point.Select(v => v + 1e-7 * Math.Max(1, Math.Abs(v)) * random.Next()).ToArray();
            var (_, other) = DeterministicSystem.Jacobian(f, moved);
            for (int r = 0; r < rows; r++)
            {
                double scale = 1, change = 0;
                for (int c = 0; c < columns; c++)
                {
                    scale = Math.Max(scale, Math.Abs(jacobian[r, c]));
                    change = Math.Max(change, Math.Abs(other[r, c] - jacobian[r, c]));
                }
                if (!(change <= 1e-3 * scale)) kinked.Add(r);
            }
        }
        return kinked.Order().ToArray();
    }

    /// <summary>
    /// The generalized eigenvalues λ of B·v = λ·A·v and a real basis of each one's invariant subspace (a complex pair's
    /// two columns hold the real and imaginary parts, both belonging to either root), or null when B − sA is singular for
    /// every shift tried. Managed and single-threaded (Math.NET), so every run gives the same bits.
    /// </summary>
    private static (Complex[] Lambdas, double[,] Vectors)? GeneralizedEigen(double[,] a, double[,] b)
    {
        int n = a.GetLength(0);
        if (n == 0) return ([], new double[0, 0]);
        var am = Matrix<double>.Build.DenseOfArray(a);
        var bm = Matrix<double>.Build.DenseOfArray(b);
        foreach (double shift in new[] { 1.7320508, -2.2360680, 3.1415927, -0.5772157, 7.3890561 })
        {
            var shifted = bm - am * shift;
            var singular = shifted.Svd(computeVectors: false).S;
            if (!(singular[singular.Count - 1] > 1e-10 * Math.Max(singular[0], 1e-300))) continue;
            var evd = shifted.Solve(am).Evd(Symmetricity.Asymmetric);
            var mu = evd.EigenValues;
            double scale = mu.Select(z => z.Magnitude).DefaultIfEmpty(0).Max();
            var lambdas = mu.Select(z => z.Magnitude <= 1e-13 * Math.Max(scale, 1e-300) ? new Complex(double.PositiveInfinity, 0) : shift + 1 / z).ToArray();
            return (lambdas, evd.EigenVectors.ToArray());
        }
        return null;
    }

    /// <summary>P = V_p·V_x⁻¹ over the stable roots' real basis, or null when V_x is singular.</summary>
    private static double[,]? StableSlopes(double[,] vectors, int[] stable, int nx, int m)
    {
        var slopes = new double[m, nx];
        if (nx == 0) return slopes;
        var vx = Matrix<double>.Build.Dense(nx, nx, (r, c) => vectors[r, stable[c]]);
        var vp = Matrix<double>.Build.Dense(m, nx, (r, c) => vectors[nx + r, stable[c]]);
        var singular = vx.Svd(computeVectors: false).S;
        if (!(singular[singular.Count - 1] > 1e-12 * singular[0])) return null;
        // P·V_x = V_p  ⇔  V_xᵀ·Pᵀ = V_pᵀ.
        var p = vx.Transpose().Solve(vp.Transpose()).Transpose();
        for (int r = 0; r < m; r++)
            for (int c = 0; c < nx; c++) slopes[r, c] = p[r, c];
        return slopes;
    }

    /// <summary>The largest |entry| of R_x + R_p·P + R_p′·P·H: how well the linear policy solves the linearized equations.</summary>
    private static double LinearResidual(Func<int, int, double> j, double[,] slopes, double[,] law, int nx, int m)
    {
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int c = 0; c < nx; c++)
            {
                double v = j(nx + i, c);
                for (int k = 0; k < m; k++) v += j(nx + i, nx + k) * slopes[k, c];
                for (int k = 0; k < m; k++)
                {
                    double ph = 0;
                    for (int l = 0; l < nx; l++) ph += slopes[k, l] * law[l, c];
                    v += j(nx + i, nx + m + k) * ph;
                }
                worst = Math.Max(worst, Math.Abs(v));
            }
        return worst;
    }

    private static string Format(Complex l) => double.IsInfinity(l.Real) ? "∞"
        : Math.Abs(l.Imaginary) < 1e-12 ? l.Real.ToString("G4", CultureInfo.InvariantCulture)
        : $"{l.Real.ToString("G4", CultureInfo.InvariantCulture)}{(l.Imaginary < 0 ? "−" : "+")}{Math.Abs(l.Imaginary).ToString("G4", CultureInfo.InvariantCulture)}i";
}
