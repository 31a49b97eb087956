using Deqn.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static Deqn.Training.Tests.Optimization.OptimizerTestProblems;

namespace Deqn.Training.Tests.Optimization;

/// <summary>Saving and resuming, tensor lifetimes, stacked parameters and dtypes.</summary>
public sealed class OptimizerStateTests
{
    // lm steps on least-squares residuals, not a closure: LevenbergMarquardtTests (and StackedLevenbergMarquardtTests).
    public static TheoryData<OptimizerKind> AllKinds() => new(Enum.GetValues<OptimizerKind>().Where(k => k != OptimizerKind.Lm));

    public static TheoryData<OptimizerKind> FirstOrderKinds() => new(Enum.GetValues<OptimizerKind>().Where(k => k is not (OptimizerKind.Lbfgs or OptimizerKind.Lm)));

    /// <summary>Two stacked tanh layers (K = 2, 3 → 4) fitted to fixed targets: W [2, 3, 4], b [2, 1, 4].</summary>
    private sealed class StackedProblem : IDisposable
    {
        private readonly Tensor _x, _y;

        public StackedProblem(ScalarType dtype = ScalarType.Float64)
        {
            using var g = new Generator(42);
            _x = torch.randn(new long[] { 2, 5, 3 }, dtype, generator: g);
            _y = torch.randn(new long[] { 2, 5, 4 }, dtype, generator: g);
            Initial = new[] { torch.randn(new long[] { 2, 3, 4 }, dtype, generator: g), torch.randn(new long[] { 2, 1, 4 }, dtype, generator: g) };
        }

        public Tensor[] Initial { get; }

        public Parameter[] Parameters(Tensor[]? values = null) => (values ?? Initial).Select(t => new Parameter(t.detach().clone())).ToArray();

        public Func<double> Closure(Parameter[] p) => () =>
        {
            var loss = (torch.tanh(_x.matmul(p[0]) + p[1]) - _y).square().mean();
            loss.backward();
            return loss.ToDouble();
        };

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
            foreach (var t in Initial) t.Dispose();
        }
    }

    private static OptimizerSpec SpecFor(OptimizerKind kind) =>
        kind == OptimizerKind.Lbfgs ? new OptimizerSpec(kind) { MaxIterations = 4 } : new OptimizerSpec(kind) { LearningRate = 0.05 };

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void Training_resumed_from_a_saved_state_is_bit_identical(OptimizerKind kind)
    {
        // Given 5 steps, a learning rate changed on the way (as a schedule would), and the state saved
        using var problem = new StackedProblem();
        var a = problem.Parameters();
        using var optA = Optimizers.Create(SpecFor(kind), a);
        var closureA = problem.Closure(a);
        for (int s = 0; s < 5; s++)
        {
            if (s == 3) optA.LearningRate *= 0.5;
            optA.Step(closureA);
        }
        using var saved = new MemoryStream();
        optA.SaveState(saved);
        var b = problem.Parameters(a);
        var c = problem.Parameters(a);

        // When A runs 5 more steps, B resumes from the saved state in a fresh optimizer, C starts fresh without it
        for (int s = 0; s < 5; s++) optA.Step(closureA);
        saved.Position = 0;
        using var optB = Optimizers.Create(SpecFor(kind), b);
        optB.LoadState(saved);
        var closureB = problem.Closure(b);
        for (int s = 0; s < 5; s++) optB.Step(closureB);
        using var optC = Optimizers.Create(SpecFor(kind), c);
        optC.LearningRate = optA.LearningRate;
        var closureC = problem.Closure(c);
        for (int s = 0; s < 5; s++) optC.Step(closureC);

        // Then B equals A bit for bit; C differs for every optimizer that has state, so the comparison can fail
        Assert.Equal(optA.StepCount, optB.StepCount);
        Assert.Equal(optA.LearningRate, optB.LearningRate);
        for (int i = 0; i < a.Length; i++) Assert.True(SameBits(a[i], b[i]), $"{kind}: parameter {i} differs after resuming");
        if (kind != OptimizerKind.Sgd) Assert.False(a.Zip(c).All(p => SameBits(p.First, p.Second)), $"{kind}: a fresh optimizer gave the same weights");
    }

    private static bool SameBits(Tensor x, Tensor y) =>
        x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.bytes.SequenceEqual(y.bytes);

    [Fact]
    public void A_saved_state_is_refused_by_another_optimizer_kind()
    {
        // Given
        using var problem = new StackedProblem();
        var p = problem.Parameters();
        using var adam = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), p);
        adam.Step(problem.Closure(p));
        using var saved = new MemoryStream();
        adam.SaveState(saved);
        saved.Position = 0;
        using var rmsprop = Optimizers.Create(new OptimizerSpec(OptimizerKind.RmsProp), p);

        // When / Then
        var e = Assert.Throws<InvalidDataException>(() => rmsprop.LoadState(saved));
        Assert.Equal("the saved optimizer state is for adam, not rmsprop", e.Message);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 1000)]
    [InlineData(OptimizerKind.Lbfgs, 30)]
    public void Many_steps_leave_the_live_tensor_count_unchanged(OptimizerKind kind, int steps)
    {
        // Given an optimizer that has warmed up (state exists, L-BFGS history filled in)
        using var problem = new StackedProblem();
        var p = problem.Parameters();
        // a short history, so that it is full before counting (a growing history is state, not a leak)
        using var opt = Optimizers.Create(SpecFor(kind) with { HistorySize = 3 }, p);
        var closure = problem.Closure(p);
        for (int s = 0; s < 5; s++) opt.Step(closure);
        var stats = DisposeScopeManager.Statistics;
        long before = stats.ThreadTotalLiveCount;

        // When
        for (int s = 0; s < steps; s++) opt.Step(closure);

        // Then (counted on this thread, so neither the garbage collector nor parallel tests affect it)
        long grown = stats.ThreadTotalLiveCount - before;
        Assert.True(grown <= 4, $"{kind}: {grown} more live tensors after {steps} steps");
    }

    [Fact]
    public void An_optimizer_built_inside_a_dispose_scope_keeps_its_state_after_the_scope()
    {
        // Given Adam built and stepped inside a scope that then ends
        using var problem = new StackedProblem();
        var p = problem.Parameters();
        Optimizer opt;
        using (torch.NewDisposeScope())
        {
            opt = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), p);
            opt.Step(problem.Closure(p));
        }

        // When / Then stepping and saving still work
        opt.Step(problem.Closure(p));
        using var saved = new MemoryStream();
        opt.SaveState(saved);
        Assert.Equal(2, opt.StepCount);
        opt.Dispose();
    }

    [Theory]
    [MemberData(nameof(FirstOrderKinds))]
    public void Stacked_float32_parameters_are_updated_like_separate_networks(OptimizerKind kind)
    {
        // Given one [3, 2, 4] float32 parameter and three [2, 4] copies of its slices, with the same separable loss
        using var g = new Generator(7);
        using var start = torch.randn(new long[] { 3, 2, 4 }, ScalarType.Float32, generator: g);
        using var c = torch.rand(new long[] { 3, 2, 4 }, ScalarType.Float32, generator: g);
        using var d = torch.randn(new long[] { 3, 2, 4 }, ScalarType.Float32, generator: g);
        var stacked = new Parameter(start.clone());
        var slices = Enumerable.Range(0, 3).Select(k => new Parameter(start[k].clone())).ToArray();
        var spec = new OptimizerSpec(kind) { LearningRate = 0.05 };
        using var one = Optimizers.Create(spec, new[] { stacked });
        using var three = Optimizers.Create(spec, slices);

        // When
        for (int s = 0; s < 3; s++)
        {
            one.Step(() => { var l = (c * stacked * stacked).sum() + (d * stacked).sum(); l.backward(); return l.ToDouble(); });
            three.Step(() =>
            {
                var l = Enumerable.Range(0, 3).Select(k => (c[k] * slices[k] * slices[k]).sum() + (d[k] * slices[k]).sum()).Aggregate((x, y) => x + y);
                l.backward();
                return l.ToDouble();
            });
        }

        // Then (float32: tolerance 1e-6 relative, as vectorized and scalar kernels may round differently)
        Assert.Equal(ScalarType.Float32, stacked.dtype);
        for (int k = 0; k < 3; k++)
            Assert.True(torch.allclose(stacked[k], slices[k], rtol: 1e-6, atol: 1e-7), $"{kind}: slice {k} differs");
        Assert.False(torch.allclose(stacked, start), $"{kind}: nothing moved");
    }

    [Fact]
    public void Lbfgs_handles_mixed_float32_and_float64_parameters()
    {
        // Given the parabola split over a float32 and a float64 parameter
        var x = new Parameter(torch.tensor(new[] { 0.0f }));
        var y = Param(0.0);
        using var opt = Optimizers.Create(new OptimizerSpec(OptimizerKind.Lbfgs), new[] { x, y });

        // When
        for (int s = 0; s < 3; s++)
            opt.Step(() => { var l = (x - 1).square().sum() + 10 * (y + 2).square().sum(); l.backward(); return l.ToDouble(); });

        // Then (float32 resolution)
        Assert.Equal(1.0, Values(x)[0], 1e-5);
        Assert.Equal(-2.0, Values(y)[0], 1e-5);
        Assert.Equal(ScalarType.Float32, x.dtype);
    }

    [Theory]
    [InlineData(0.0, 2.0)]
    [InlineData(2.0, 0.0)]
    public void Cubic_interpolation_finds_the_minimizer_of_a_cubic(double x1, double x2)
    {
        // Given f(x) = x³ − 3x, local minimizer 1, sampled with slopes at x1 and x2
        static double F(double x) => x * x * x - 3 * x;
        static double G(double x) => 3 * x * x - 3;

        // When
        double x = LbfgsOptimizer.Cubic(x1, F(x1), G(x1), x2, F(x2), G(x2), 0, 2);

        // Then
        Assert.Equal(1.0, x, 1e-12);
    }

    [Fact]
    public void A_non_leaf_parameter_is_refused()
    {
        using var w = Param(1.0);
        var copy = new Parameter(w.clone());
        Assert.Equal("parameters must be leaf tensors (build them from detach()ed values)",
            Assert.Throws<ArgumentException>(() => Optimizers.Create(new OptimizerSpec(), new[] { copy })).Message);
    }

    [Fact]
    public void An_optimizer_refuses_an_empty_or_repeated_parameter_list()
    {
        using var w = Param(1.0);
        Assert.Equal("an optimizer needs at least one parameter", Assert.Throws<ArgumentException>(() => Optimizers.Create(new OptimizerSpec(), Array.Empty<Parameter>())).Message);
        Assert.Equal("the same parameter is listed twice", Assert.Throws<ArgumentException>(() => Optimizers.Create(new OptimizerSpec(), new[] { w, w })).Message);
    }

    [Fact]
    public void The_learning_rate_can_be_set_between_steps_but_not_to_a_negative_value()
    {
        // Given
        using var w = Param(1.0);
        using var opt = Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 0.1 }, new[] { w });

        // When a schedule sets it to 0, the step does not move the weights
        opt.LearningRate = 0;
        opt.Step(() => { var l = w.square().sum(); l.backward(); return l.ToDouble(); });

        // Then
        Assert.Equal(1.0, Values(w)[0]);
        Assert.Equal("learning rate must be >= 0 (got -0.1)", Assert.Throws<ArgumentException>(() => opt.LearningRate = -0.1).Message);
    }
}
