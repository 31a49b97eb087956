using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Optimization;

public sealed class LevenbergMarquardtTests
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
        using var delta = LevenbergMarquardt.Direction(rt, jt, mu)!;
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
        var lm = new LevenbergMarquardt([w, c], damping: 1e-12);
        using var r0 = Residuals();
        double loss = lm.Step(r0, at, r0.square().sum().ToDouble(), () => { using var r = Residuals(); return r.square().sum().ToDouble(); });
        // Then θ solves the normal equations AᵀAθ = Aᵀb
        var solution = Explicit(a, b.Select(v => -v).ToArray(), 0);
        var theta = torch.cat([w.view(-1), c]).data<double>().ToArray();
        for (int k = 0; k < 5; k++) Assert.Equal(solution[k], theta[k], 8);
        using var rEnd = Residuals();
        Assert.Equal(rEnd.square().sum().ToDouble(), loss, 12);
        Assert.Equal(1e-12 / 3, lm.Damping, 1e-27);
    }

    [Fact]
    public void Rosenbrock_converges_and_the_damping_follows_accepted_and_rejected_steps()
    {
        // r = (10(y − x²), 1 − x) from the classic start (−1.2, 1); J = [[−20x, 10], [−1, 0]]
        using var theta = torch.tensor(new[] { -1.2, 1.0 }, dtype: ScalarType.Float64);
        Tensor R() { var x = theta[0]; var y = theta[1]; return torch.stack([(y - x * x) * 10, 1 - x]); }
        Tensor J() { double x = theta[0].ToDouble(); return torch.tensor(new double[,] { { -20 * x, 10 }, { -1, 0 } }, dtype: ScalarType.Float64); }
        var lm = new LevenbergMarquardt([theta], damping: 1e-3);
        double loss = R().square().sum().ToDouble();
        for (int step = 0; step < 100 && loss > 1e-24; step++)
        {
            double before = lm.Damping;
            long rejected = lm.Rejected;
            using var r = R();
            using var j = J();
            double after = lm.Step(r, j, loss, () => { using var rr = R(); return rr.square().sum().ToDouble(); });
            Assert.True(after <= loss);
            // Each rejection multiplied the damping by 4, the accepted step divided it by 3
            if (after < loss) Assert.Equal(before * Math.Pow(4, lm.Rejected - rejected) / 3, lm.Damping, 1e-12 * lm.Damping);
            loss = after;
        }
        Assert.Equal(1.0, theta[0].ToDouble(), 10);
        Assert.Equal(1.0, theta[1].ToDouble(), 10);
        Assert.True(lm.Taken > 0);
    }

    [Fact]
    public void A_step_that_helps_at_no_damping_leaves_the_parameters_unchanged()
    {
        using var theta = torch.tensor(new[] { 0.3, -0.2 }, dtype: ScalarType.Float64);
        var lm = new LevenbergMarquardt([theta]);
        using var r = torch.tensor(new[] { 1.0, 2.0 }, dtype: ScalarType.Float64);
        using var j = torch.eye(2, dtype: ScalarType.Float64);
        double loss = lm.Step(r, j, 5.0, () => 6.0);
        Assert.Equal(5.0, loss);
        Assert.Equal([0.3, -0.2], theta.data<double>().ToArray());
        Assert.Equal(0, lm.Taken);
    }
}
