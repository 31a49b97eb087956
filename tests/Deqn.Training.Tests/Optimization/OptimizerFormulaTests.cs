using Deqn.Training.Optimization;
using static Deqn.Training.Tests.Optimization.OptimizerTestProblems;

namespace Deqn.Training.Tests.Optimization;

/// <summary>Two steps on f(w) = ½ wᵀ diag(a) w − bᵀw against the lecture's formulas evaluated in plain doubles.</summary>
public sealed class OptimizerFormulaTests
{
    private static readonly double[] A = { 1.5, 2.0, 0.5 };
    private static readonly double[] B = { 1.0, -0.5, 0.25 };
    private static readonly double[] W0 = { 0.3, -0.7, 1.1 };
    private const double RelativeTolerance = 1e-12;

    // Deliberately far from the defaults, and a large epsilon so that its placement changes the result visibly.
    private static OptimizerSpec Spec(OptimizerKind kind, bool inside) => kind switch
    {
        OptimizerKind.Sgd => new(kind) { LearningRate = 0.1 },
        OptimizerKind.Momentum or OptimizerKind.Nesterov => new(kind) { LearningRate = 0.1, Momentum = 0.8 },
        OptimizerKind.AdaGrad => new(kind) { LearningRate = 0.1, InitialAccumulator = 0.2, Epsilon = 1e-2, EpsilonInsideSqrt = inside },
        OptimizerKind.RmsProp => new(kind) { LearningRate = 0.1, Rho = 0.7, Epsilon = 1e-2, EpsilonInsideSqrt = inside },
        OptimizerKind.Adam => new(kind) { LearningRate = 0.1, Beta1 = 0.85, Beta2 = 0.95, Epsilon = 1e-2, EpsilonInsideSqrt = inside },
        OptimizerKind.AdamW => new(kind) { LearningRate = 0.1, Beta1 = 0.85, Beta2 = 0.95, Epsilon = 1e-2, WeightDecay = 0.3, EpsilonInsideSqrt = inside },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The lecture's table, element by element.</summary>
    private static double[][] ByHand(ResolvedOptimizer r, int steps)
    {
        int n = W0.Length;
        var w = W0.ToArray();
        var v = new double[n];
        var m = new double[n];
        var acc = Enumerable.Repeat(r.InitialAccumulator, n).ToArray();
        double eta = r.LearningRate, eps = r.Epsilon;
        double Denominator(double x) => r.EpsilonInsideSqrt ? Math.Sqrt(x + eps) : Math.Sqrt(x) + eps;
        var result = new double[steps][];
        for (int t = 1; t <= steps; t++)
        {
            for (int i = 0; i < n; i++)
            {
                double g = A[i] * w[i] - B[i];
                switch (r.Kind)
                {
                    case OptimizerKind.Sgd:
                        w[i] -= eta * g;
                        break;
                    case OptimizerKind.Momentum:
                        v[i] = r.Momentum * v[i] - eta * g;
                        w[i] += v[i];
                        break;
                    case OptimizerKind.Nesterov:
                        v[i] = r.Momentum * v[i] - eta * g;
                        w[i] += r.Momentum * v[i] - eta * g;
                        break;
                    case OptimizerKind.AdaGrad:
                        acc[i] += g * g;
                        w[i] -= eta * g / Denominator(acc[i]);
                        break;
                    case OptimizerKind.RmsProp:
                        acc[i] = r.Rho * acc[i] + (1 - r.Rho) * g * g;
                        w[i] -= eta * g / Denominator(acc[i]);
                        break;
                    case OptimizerKind.Adam or OptimizerKind.AdamW:
                        if (r.Kind == OptimizerKind.AdamW) w[i] -= eta * r.WeightDecay * w[i];
                        m[i] = r.Beta1 * m[i] + (1 - r.Beta1) * g;
                        v[i] = r.Beta2 * v[i] + (1 - r.Beta2) * g * g;
                        double mHat = m[i] / (1 - Math.Pow(r.Beta1, t)), vHat = v[i] / (1 - Math.Pow(r.Beta2, t));
                        w[i] -= eta * mHat / Denominator(vHat);
                        break;
                }
            }
            result[t - 1] = w.ToArray();
        }
        return result;
    }

    public static TheoryData<OptimizerKind, bool> FirstOrder() => new()
    {
        { OptimizerKind.Sgd, true }, { OptimizerKind.Momentum, true }, { OptimizerKind.Nesterov, true },
        { OptimizerKind.AdaGrad, true }, { OptimizerKind.AdaGrad, false }, { OptimizerKind.RmsProp, true }, { OptimizerKind.RmsProp, false },
        { OptimizerKind.Adam, true }, { OptimizerKind.Adam, false }, { OptimizerKind.AdamW, true }, { OptimizerKind.AdamW, false },
    };

    [Theory]
    [MemberData(nameof(FirstOrder))]
    public void Two_steps_on_a_quadratic_equal_the_lecture_formulas(OptimizerKind kind, bool epsilonInside)
    {
        // Given
        var spec = Spec(kind, epsilonInside);
        var expected = ByHand(spec.Resolve(), 2);
        using var w = Param(W0);
        using var opt = Optimizers.Create(spec, new[] { w });
        var closure = Quadratic(w, A, B);

        for (int step = 0; step < 2; step++)
        {
            // When
            double loss = opt.Step(closure);

            // Then the weights match the table, and the reported loss is the one before the step
            AssertClose(expected[step], Values(w), $"{kind} step {step + 1}");
            var before = step == 0 ? W0 : expected[0];
            Assert.Equal(Enumerable.Range(0, 3).Sum(i => 0.5 * A[i] * before[i] * before[i] - B[i] * before[i]), loss, 1e-12);
        }
        Assert.Equal(2, opt.StepCount);
    }

    [Theory]
    [InlineData(OptimizerKind.AdaGrad)]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Adam)]
    public void The_two_epsilon_placements_give_different_steps(OptimizerKind kind)
    {
        // Given the hand formulas with epsilon inside and outside the square root
        var inside = ByHand(Spec(kind, true).Resolve(), 1)[0];
        var outside = ByHand(Spec(kind, false).Resolve(), 1)[0];

        // Then they differ by far more than the test tolerance, so the placement test above can fail
        Assert.True(Enumerable.Range(0, 3).Max(i => Math.Abs(inside[i] - outside[i])) > 1e-4);
    }

    [Fact]
    public void Two_lbfgs_steps_of_one_iteration_equal_the_two_loop_recursion_by_hand()
    {
        // Given one iteration per step, so each step is one quasi-Newton direction and one line search
        var spec = new OptimizerSpec(OptimizerKind.Lbfgs) { MaxIterations = 1 };
        using var w = Param(W0);
        using var opt = Optimizers.Create(spec, new[] { w });
        var closure = Quadratic(w, A, B);

        // By hand: step 1 goes along −g with the first trial length min(1, 1/‖g‖₁) ...
        var w0 = W0;
        var g0 = Grad(w0);
        double t0 = Math.Min(1, 1 / g0.Sum(Math.Abs));
        var d0 = g0.Select(x => -x).ToArray();
        AssertStrongWolfe(w0, d0, t0);
        var w1 = Axpy(t0, d0, w0);
        // ... step 2 along −H g1 from one (s, y) pair with H₀ = sᵀy/yᵀy, trial length 1
        var g1 = Grad(w1);
        var s = d0.Select(x => t0 * x).ToArray();
        var y = g1.Zip(g0, (p, q) => p - q).ToArray();
        double ys = Dot(y, s), rho = 1 / ys, h = ys / Dot(y, y);
        var q = g1.Select(x => -x).ToArray();
        double alpha = rho * Dot(s, q);
        q = Axpy(-alpha, y, q);
        var r = q.Select(x => h * x).ToArray();
        double beta = rho * Dot(y, r);
        var d1 = Axpy(alpha - beta, s, r);
        AssertStrongWolfe(w1, d1, 1.0);
        var w2 = Axpy(1.0, d1, w1);

        // When / Then
        opt.Step(closure);
        AssertClose(w1, Values(w), "lbfgs step 1");
        opt.Step(closure);
        AssertClose(w2, Values(w), "lbfgs step 2");
    }

    private static double F(double[] w) => Enumerable.Range(0, 3).Sum(i => 0.5 * A[i] * w[i] * w[i] - B[i] * w[i]);
    private static double[] Grad(double[] w) => Enumerable.Range(0, 3).Select(i => A[i] * w[i] - B[i]).ToArray();
    private static double Dot(double[] x, double[] y) => x.Zip(y, (p, q) => p * q).Sum();
    private static double[] Axpy(double a, double[] x, double[] y) => x.Zip(y, (p, q) => a * p + q).ToArray();

    /// <summary>The hand reference assumes the line search accepts its first trial; check that it must.</summary>
    private static void AssertStrongWolfe(double[] w, double[] d, double t)
    {
        double gtd = Dot(Grad(w), d);
        var next = Axpy(t, d, w);
        Assert.True(F(next) <= F(w) + 1e-4 * t * gtd, "sufficient decrease fails: the hand reference would be wrong");
        Assert.True(Math.Abs(Dot(Grad(next), d)) <= -0.9 * gtd, "curvature condition fails: the hand reference would be wrong");
    }

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= RelativeTolerance * Math.Abs(expected[i]),
                $"{what}, w[{i}]: expected {expected[i]:R}, got {actual[i]:R} (relative tolerance {RelativeTolerance})");
    }
}
