using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Optimization;

public sealed class GaussNewtonTests
{
    private static double[] Explicit(double[,] j, double[] r, double mu)
    {
        // −(JᵀJ + μI)⁻¹ Jᵀr by Gaussian elimination, in plain arithmetic.
        int rows = j.GetLength(0), p = j.GetLength(1);
        var a = new double[p, p + 1];
        for (int u = 0; u < p; u++)
        {
            for (int v = 0; v < p; v++)
            {
                double sum = 0;
                for (int i = 0; i < rows; i++) sum += j[i, u] * j[i, v];
                a[u, v] = sum + (u == v ? mu : 0);
            }
            double g = 0;
            for (int i = 0; i < rows; i++) g += j[i, u] * r[i];
            a[u, p] = -g;
        }
        for (int c = 0; c < p; c++)
            for (int k = c + 1; k < p; k++)
            {
                double f = a[k, c] / a[c, c];
                for (int v = c; v <= p; v++) a[k, v] -= f * a[c, v];
            }
        var x = new double[p];
        for (int c = p - 1; c >= 0; c--)
        {
            double s = a[c, p];
            for (int v = c + 1; v < p; v++) s -= a[c, v] * x[v];
            x[c] = s / a[c, c];
        }
        return x;
    }

    [Theory]
    [InlineData(7, 3, 0.5)]     // more rows than parameters: (JᵀJ + μI) δ = −Jᵀr
    [InlineData(3, 7, 0.5)]     // fewer: (JJᵀ + μI) y = r, δ = −Jᵀy
    [InlineData(5, 5, 1e-6)]
    public void Direction_is_the_damped_gauss_newton_step_in_either_form(int rows, int parameters, double mu)
    {
        var random = new Random(rows * 31 + parameters);
        var j = new double[rows, parameters];
        for (int i = 0; i < rows; i++) for (int k = 0; k < parameters; k++) j[i, k] = random.NextDouble() * 2 - 1;
        var r = Enumerable.Range(0, rows).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        using var jt = torch.tensor(j, dtype: ScalarType.Float64);
        using var rt = torch.tensor(r, dtype: ScalarType.Float64);
        using var system = new ExplicitLinearization(rt, jt);
        using var delta = new GaussNewton([]).Direction(system, mu)!;
        var expected = Explicit(j, r, mu);
        var got = delta.data<double>().ToArray();
        for (int k = 0; k < parameters; k++) Assert.Equal(expected[k], got[k], 9);
    }

    [Fact]
    public void A_linear_least_squares_problem_is_solved_in_one_step_at_tiny_damping()
    {
        // r(θ) = Aθ − b with θ spread over a [2, 2] and a [1] tensor (flattened in order, row-major)
        double[,] a = { { 1, 2, 0, 1, 3 }, { 0, 1, 1, 2, 1 }, { 2, 0, 1, 1, 1 }, { 1, 1, 1, 0, 2 }, { 3, 1, 0, 1, 1 }, { 0, 2, 2, 1, 0 } };
        double[] b = [1, 2, 3, 4, 5, 6];
        using var w = torch.zeros(2, 2, dtype: ScalarType.Float64);
        using var c = torch.zeros(1, dtype: ScalarType.Float64);
        using var at = torch.tensor(a, dtype: ScalarType.Float64);
        using var bt = torch.tensor(b, dtype: ScalarType.Float64);
        Tensor Residuals() => at.matmul(torch.cat([w.view(-1), c])).sub(bt);
        var lm = new GaussNewton([w, c], damping: 1e-12);
        using var r0 = Residuals();
        using var system = new ExplicitLinearization(r0, at);
        double loss = lm.Step(system, r0.square().sum().ToDouble(), () => { using var r = Residuals(); return r.square().sum().ToDouble(); });
        // Then θ solves the normal equations AᵀAθ = Aᵀb
        var solution = Explicit(a, b.Select(v => -v).ToArray(), 0);
        var theta = torch.cat([w.view(-1), c]).data<double>().ToArray();
        for (int k = 0; k < 5; k++) Assert.Equal(solution[k], theta[k], 8);
        using var rEnd = Residuals();
        Assert.Equal(rEnd.square().sum().ToDouble(), loss, 12);
        // The linear model predicted the fall exactly (gain 1), so Nielsen's rule divides the damping by 3
        Assert.Equal(1e-12 / 3, lm.Damping, 1e-27);
    }

    [Fact]
    public void Rosenbrock_converges_and_the_damping_follows_nielsens_rule()
    {
        // r = (10(y − x²), 1 − x) from the classic start (−1.2, 1); J = [[−20x, 10], [−1, 0]]
        using var theta = torch.tensor(new[] { -1.2, 1.0 }, dtype: ScalarType.Float64);
        Tensor R() { var x = theta[0]; var y = theta[1]; return torch.stack([(y - x * x) * 10, 1 - x]); }
        Tensor J() { double x = theta[0].ToDouble(); return torch.tensor(new double[,] { { -20 * x, 10 }, { -1, 0 } }, dtype: ScalarType.Float64); }
        var lm = new GaussNewton([theta], damping: 1e-3);
        double loss = R().square().sum().ToDouble();
        for (int step = 0; step < 100 && loss > 1e-24; step++)
        {
            double before = lm.Damping;
            long rejected = lm.Rejected;
            using var r = R();
            using var j = J();
            using var system = new ExplicitLinearization(r, j);
            double after = lm.Step(system, loss, () => { using var rr = R(); return rr.square().sum().ToDouble(); });
            Assert.True(after <= loss);
            // Rejections in a row multiply the damping by 2, 4, 8 …; a taken step by max(1/3, 1 − (2ρ − 1)³) ∈ [1/3, 2]
            long n = lm.Rejected - rejected;
            double grown = before * Math.Pow(2, n * (n + 1) / 2.0);
            if (after < loss) Assert.InRange(lm.Damping / grown, 1.0 / 3 - 1e-12, 2 + 1e-12);
            loss = after;
        }
        Assert.Equal(1.0, theta[0].ToDouble(), 10);
        Assert.Equal(1.0, theta[1].ToDouble(), 10);
        Assert.True(lm.Taken > 0);
    }

    [Theory]
    [InlineData(1.0, 1.0 / 3)]      // the model predicted the fall exactly
    [InlineData(0.5, 1.0)]          // half of it: keep μ
    [InlineData(0.25, 1.125)]       // 1 − (−0.5)³
    [InlineData(0.0, 2.0)]          // no fall at all: double
    [InlineData(5.0, 1.0 / 3)]      // better than predicted: at most ÷3
    public void Nielsens_rule_scales_the_damping_by_the_gain_ratio(double gain, double factor)
    {
        var damping = new NielsenDamping(2, 0.1);
        damping.Taken(1, gain);
        Assert.Equal(0.1 * factor, damping[1], 1e-15);
        Assert.Equal(0.1, damping[0]);
        // Rejections in a row multiply it by 2, then 4, then 8; a taken step resets the growth
        damping.Rejected(0);
        damping.Rejected(0);
        damping.Rejected(0);
        Assert.Equal(0.1 * 64, damping[0], 1e-12);
        damping.Taken(0, 1);
        damping.Rejected(0);
        Assert.Equal(0.1 * 64 / 3 * 2, damping[0], 1e-12);
        Assert.Equal(0.5, NielsenDamping.Gain(4, 3, 2));
        Assert.Equal(double.PositiveInfinity, NielsenDamping.Gain(4, 3, 0));
    }

    /// <summary>A linearization that hides its Jacobian, as a matrix-free one does.</summary>
    private sealed class Hidden(Tensor r, Tensor j) : ILinearization
    {
        public Tensor Residuals => r;
        public long Columns => j.shape[1];
        public Tensor Times(Tensor v) => j.mv(v);
        public Tensor TransposeTimes(Tensor u) => j.t().mv(u);
        public Tensor ColumnSquares() => j.square().sum([0L]);
        public Tensor? Explicit => null;
        public void Dispose() { }
    }

    [Theory]
    [InlineData(40, 15, 1e-3)]
    [InlineData(12, 30, 1e-2)]
    [InlineData(200, 60, 1e-8)]
    public void Conjugate_gradients_give_the_cholesky_step(int rows, int parameters, double mu)
    {
        // Given a badly scaled Jacobian (columns spanning four orders of magnitude, as a network's layers do)
        var random = new Random(rows + 7 * parameters);
        var j = new double[rows, parameters];
        for (int i = 0; i < rows; i++) for (int k = 0; k < parameters; k++) j[i, k] = (random.NextDouble() * 2 - 1) * Math.Pow(10, -4.0 * k / parameters);
        var r = Enumerable.Range(0, rows).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        using var jt = torch.tensor(j, dtype: ScalarType.Float64);
        using var rt = torch.tensor(r, dtype: ScalarType.Float64);
        // When the direction is solved by Cholesky on the stored J, by conjugate gradients on it, and matrix-free
        using var stored = new ExplicitLinearization(rt, jt);
        using var cholesky = new GaussNewton([]).Direction(stored, mu)!;
        var cg = new GaussNewton([]) { GramLimit = 0, Tolerance = 1e-14, MaxIterations = 10_000, Progress = 0 };
        using var onStored = cg.Direction(stored, mu)!;
        Assert.Equal("cg", cg.LastSolver);
        using var matrixFree = cg.Direction(new Hidden(rt, jt), mu)!;
        // Then all three agree to 1e-10 of the step's size
        double size = cholesky.abs().max().ToDouble();
        Assert.True(onStored.sub(cholesky).abs().max().ToDouble() <= 1e-10 * size, "CG on the stored Jacobian");
        Assert.True(matrixFree.sub(cholesky).abs().max().ToDouble() <= 1e-10 * size, "matrix-free CG");
        Assert.Equal(Explicit(j, r, mu), cholesky.data<double>().ToArray(), new Tolerance(1e-9 * size));
    }

    [Fact]
    public void Conjugate_gradients_stop_once_the_model_stops_falling()
    {
        // Given a Jacobian whose columns span six orders of magnitude, on which CG converges slowly in its residual
        var random = new Random(11);
        int rows = 400, parameters = 300;
        var j = new double[rows, parameters];
        for (int i = 0; i < rows; i++) for (int k = 0; k < parameters; k++) j[i, k] = (random.NextDouble() * 2 - 1) * Math.Pow(10, -6.0 * k / parameters);
        var r = Enumerable.Range(0, rows).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        using var jt = torch.tensor(j, dtype: ScalarType.Float64);
        using var rt = torch.tensor(r, dtype: ScalarType.Float64);
        using var stored = new ExplicitLinearization(rt, jt);
        const double mu = 1e-10;
        double Model(Tensor d) => 0.5 * (jt.mv(d).square().sum().ToDouble() + mu * d.square().sum().ToDouble()) + jt.t().mv(rt).dot(d).ToDouble();
        // When the direction is solved exactly, by CG to a relative residual of 1e-12, and by CG with the progress rule
        using var exact = new GaussNewton([]).Direction(stored, mu)!;
        var full = new GaussNewton([]) { GramLimit = 0, Tolerance = 1e-12, MaxIterations = 2_000, Progress = 0 };
        using var converged = full.Direction(stored, mu)!;
        var truncated = new GaussNewton([]) { GramLimit = 0, Tolerance = 1e-12, MaxIterations = 2_000 };
        using var early = truncated.Direction(stored, mu)!;
        // Then the rule stops in a fraction of the iterations with 99 % of the exact step's decrease of the model
        Assert.True(truncated.Iterations < full.Iterations / 2, $"{truncated.Iterations} iterations with the rule, {full.Iterations} without");
        Assert.True(Model(early) <= 0.99 * Model(exact), $"model {Model(early):E4} against {Model(exact):E4} at the exact step");
        Assert.True(Model(converged) <= 0.9999 * Model(exact));
    }

    private sealed class Tolerance(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(double x) => 0;
    }

    [Fact]
    public void A_matrix_free_step_fits_a_linear_problem_as_the_stored_one_does()
    {
        double[,] a = { { 1, 2, 0 }, { 0, 1, 1 }, { 2, 0, 1 }, { 1, 1, 1 }, { 3, 1, 0 } };
        double[] b = [1, 2, 3, 4, 5];
        using var theta = torch.zeros(3, dtype: ScalarType.Float64);
        using var at = torch.tensor(a, dtype: ScalarType.Float64);
        using var bt = torch.tensor(b, dtype: ScalarType.Float64);
        Tensor Residuals() => at.mv(theta).sub(bt);
        var lm = new GaussNewton([theta], damping: 1e-12) { GramLimit = 0, Tolerance = 1e-14, Progress = 0 };
        using var r0 = Residuals();
        lm.Step(new Hidden(r0, at), r0.square().sum().ToDouble(), () => { using var r = Residuals(); return r.square().sum().ToDouble(); });
        var solution = Explicit(a, b.Select(v => -v).ToArray(), 0);
        Assert.Equal(solution, theta.data<double>().ToArray(), new Tolerance(1e-9));
        Assert.True(lm.Iterations is > 0 and <= 4, $"{lm.Iterations} iterations for 3 unknowns");
    }

    [Fact]
    public void A_step_that_helps_at_no_damping_leaves_the_parameters_unchanged()
    {
        using var theta = torch.tensor(new[] { 0.3, -0.2 }, dtype: ScalarType.Float64);
        var lm = new GaussNewton([theta]);
        using var r = torch.tensor(new[] { 1.0, 2.0 }, dtype: ScalarType.Float64);
        using var j = torch.eye(2, dtype: ScalarType.Float64);
        using var system = new ExplicitLinearization(r, j);
        double loss = lm.Step(system, 5.0, () => 6.0);
        Assert.Equal(5.0, loss);
        Assert.Equal([0.3, -0.2], theta.data<double>().ToArray());
        Assert.Equal(0, lm.Taken);
    }
}
