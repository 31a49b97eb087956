using Deqn.Training.Optimization;
using static Deqn.Training.Tests.Optimization.OptimizerTestProblems;

namespace Deqn.Training.Tests.Optimization;

public sealed class OptimizerConvergenceTests
{
    /// <summary>
    /// Every optimizer on both problems, with its own learning rate, number of steps and tolerance on the Euclidean
    /// distance to the minimizer. Other hyper-parameters are the Keras defaults. Nothing is excluded; a looser tolerance
    /// carries its reason. Parabola: Σ c_i (w_i − m_i)², c = (1, 10), from (0, 0) to (1, −2). Rosenbrock: from (−1.2, 1) to (1, 1).
    /// </summary>
    public static TheoryData<string, OptimizerKind, double, int, double, string> Table() => new()
    {
        { "parabola", OptimizerKind.Sgd, 0.03, 500, 1e-8, "" },
        { "parabola", OptimizerKind.Momentum, 0.01, 500, 1e-8, "" },
        { "parabola", OptimizerKind.Nesterov, 0.01, 500, 1e-8, "" },
        { "parabola", OptimizerKind.AdaGrad, 0.3, 1000, 1e-8, "" },
        { "parabola", OptimizerKind.RmsProp, 0.01, 1000, 1e-6, "" },
        { "parabola", OptimizerKind.Adam, 0.03, 1000, 1e-8, "" },
        { "parabola", OptimizerKind.AdamW, 0.03, 2000, 1e-4, "weight decay 1e-4 shrinks toward 0, which moves the fixed point off the minimizer" },
        { "parabola", OptimizerKind.Lbfgs, 1.0, 5, 1e-5, "stops once the directional derivative is below tolerance_change 1e-9 (PyTorch's rule)" },
        { "rosenbrock", OptimizerKind.Sgd, 0.002, 8000, 5e-3, "plain gradient descent crawls along the curved valley; lr above 2/λmax ≈ 0.002 diverges" },
        { "rosenbrock", OptimizerKind.Momentum, 0.001, 2000, 1e-3, "" },
        { "rosenbrock", OptimizerKind.Nesterov, 0.001, 2000, 1e-3, "" },
        { "rosenbrock", OptimizerKind.AdaGrad, 0.5, 8000, 5e-3, "the growing accumulator shrinks steps like 1/sqrt(t)" },
        { "rosenbrock", OptimizerKind.RmsProp, 0.003, 5000, 2e-2, "normalized steps of size ~lr keep hovering around the minimum at a constant lr" },
        { "rosenbrock", OptimizerKind.Adam, 0.03, 3000, 1e-4, "" },
        { "rosenbrock", OptimizerKind.AdamW, 0.03, 3000, 2e-3, "weight decay 1e-4 moves the fixed point off the minimizer" },
        { "rosenbrock", OptimizerKind.Lbfgs, 1.0, 5, 1e-4, "stops once the directional derivative is below tolerance_change 1e-9 (PyTorch's rule)" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Every_optimizer_reaches_the_minimum_of_a_parabola_and_of_rosenbrock(string problem, OptimizerKind kind, double lr, int steps, double tolerance, string why)
    {
        // Given
        bool parabola = problem == "parabola";
        using var w = parabola ? Param(0.0, 0.0) : Param(-1.2, 1.0);
        var minimizer = parabola ? ParabolaMinimum : new[] { 1.0, 1.0 };
        var spec = new OptimizerSpec(kind) { LearningRate = lr };
        if (kind == OptimizerKind.AdamW) spec = spec with { WeightDecay = 1e-4 };
        using var opt = Optimizers.Create(spec, new[] { w });
        var closure = parabola ? Parabola(w) : Rosenbrock(w);

        // When
        for (int s = 0; s < steps; s++) opt.Step(closure);

        // Then
        var v = Values(w);
        double distance = Math.Sqrt(v.Zip(minimizer, (a, b) => (a - b) * (a - b)).Sum());
        Assert.True(distance <= tolerance, $"{kind} on {problem}: distance {distance:E3} > tolerance {tolerance:E1} after {steps} steps at lr {lr} ({why})");
    }
}
