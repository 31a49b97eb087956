using Deqn.Training.Optimization;

namespace Deqn.Training.Tests.Optimization;

public sealed class OptimizerSpecTests
{
    // kind, convention → lr, momentum, beta1, beta2, rho, epsilon, weight decay, initial accumulator (the README's table)
    public static TheoryData<OptimizerKind, Convention, double[]> Defaults() => new()
    {
        { OptimizerKind.Sgd, Convention.Keras, [0.01, 0, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.Momentum, Convention.Keras, [0.01, 0.9, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.Nesterov, Convention.Keras, [0.01, 0.9, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.AdaGrad, Convention.Keras, [0.001, 0, 0, 0, 0, 1e-7, 0, 0.1] },
        { OptimizerKind.RmsProp, Convention.Keras, [0.001, 0, 0, 0, 0.9, 1e-7, 0, 0] },
        { OptimizerKind.Adam, Convention.Keras, [0.001, 0, 0.9, 0.999, 0, 1e-7, 0, 0] },
        { OptimizerKind.AdamW, Convention.Keras, [0.001, 0, 0.9, 0.999, 0, 1e-7, 0.004, 0] },
        { OptimizerKind.Lbfgs, Convention.Keras, [1, 0, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.Sgd, Convention.PyTorch, [0.01, 0, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.Momentum, Convention.PyTorch, [0.01, 0.9, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.Nesterov, Convention.PyTorch, [0.01, 0.9, 0, 0, 0, 0, 0, 0] },
        { OptimizerKind.AdaGrad, Convention.PyTorch, [0.01, 0, 0, 0, 0, 1e-10, 0, 0] },
        { OptimizerKind.RmsProp, Convention.PyTorch, [0.01, 0, 0, 0, 0.99, 1e-8, 0, 0] },
        { OptimizerKind.Adam, Convention.PyTorch, [0.001, 0, 0.9, 0.999, 0, 1e-8, 0, 0] },
        { OptimizerKind.AdamW, Convention.PyTorch, [0.001, 0, 0.9, 0.999, 0, 1e-8, 0.01, 0] },
        { OptimizerKind.Lbfgs, Convention.PyTorch, [1, 0, 0, 0, 0, 0, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Each_convention_resolves_to_the_documented_defaults(OptimizerKind kind, Convention convention, double[] expected)
    {
        // Given a spec with nothing but the kind and the convention
        var spec = new OptimizerSpec(kind) { Convention = convention };

        // When
        var r = spec.Resolve();

        // Then
        Assert.Equal(expected, new[] { r.LearningRate, r.Momentum, r.Beta1, r.Beta2, r.Rho, r.Epsilon, r.WeightDecay, r.InitialAccumulator });
        Assert.True(r.EpsilonInsideSqrt);
        Assert.Equal((100, 20, 1e-7, 1e-9), (r.HistorySize, r.MaxIterations, r.ToleranceGrad, r.ToleranceChange));
    }

    [Fact]
    public void The_default_spec_is_keras_adam()
    {
        // Given / When
        var r = new OptimizerSpec().Resolve();

        // Then
        Assert.Equal((OptimizerKind.Adam, Convention.Keras, 0.001, 1e-7), (r.Kind, r.Convention, r.LearningRate, r.Epsilon));
    }

    [Theory]
    [InlineData(Convention.Keras)]
    [InlineData(Convention.PyTorch)]
    public void Explicit_values_override_the_convention(Convention convention)
    {
        // Given every option of each family set explicitly
        var adamw = new OptimizerSpec(OptimizerKind.AdamW) { Convention = convention, LearningRate = 0.5, Beta1 = 0.8, Beta2 = 0.9, Epsilon = 1e-3, WeightDecay = 0.2, EpsilonInsideSqrt = false };
        var adagrad = new OptimizerSpec(OptimizerKind.AdaGrad) { Convention = convention, InitialAccumulator = 0.7, Epsilon = 1e-4 };
        var rmsprop = new OptimizerSpec(OptimizerKind.RmsProp) { Convention = convention, Rho = 0.5 };
        var nesterov = new OptimizerSpec(OptimizerKind.Nesterov) { Convention = convention, Momentum = 0.5 };
        var lbfgs = new OptimizerSpec(OptimizerKind.Lbfgs) { Convention = convention, LearningRate = 0.5, HistorySize = 7, MaxIterations = 3, ToleranceGrad = 1e-3, ToleranceChange = 1e-4 };

        // When
        var (a, g, r, n, l) = (adamw.Resolve(), adagrad.Resolve(), rmsprop.Resolve(), nesterov.Resolve(), lbfgs.Resolve());

        // Then
        Assert.Equal((0.5, 0.8, 0.9, 1e-3, 0.2, false), (a.LearningRate, a.Beta1, a.Beta2, a.Epsilon, a.WeightDecay, a.EpsilonInsideSqrt));
        Assert.Equal((0.7, 1e-4), (g.InitialAccumulator, g.Epsilon));
        Assert.Equal(0.5, r.Rho);
        Assert.Equal(0.5, n.Momentum);
        Assert.Equal((0.5, 7, 3, 1e-3, 1e-4), (l.LearningRate, l.HistorySize, l.MaxIterations, l.ToleranceGrad, l.ToleranceChange));
    }

    public static TheoryData<OptimizerSpec, string> BadSpecs() => new()
    {
        { new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = -1 }, "learning rate must be > 0 (got -1)" },
        { new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 0 }, "learning rate must be > 0 (got 0)" },
        { new OptimizerSpec(OptimizerKind.Adam) { LearningRate = double.NaN }, "learning rate must be > 0 (got NaN)" },
        { new OptimizerSpec(OptimizerKind.Momentum) { Momentum = 1 }, "momentum must be in [0, 1) (got 1)" },
        { new OptimizerSpec(OptimizerKind.Adam) { Beta1 = -0.1 }, "beta1 must be in [0, 1) (got -0.1)" },
        { new OptimizerSpec(OptimizerKind.AdamW) { Beta2 = 1.5 }, "beta2 must be in [0, 1) (got 1.5)" },
        { new OptimizerSpec(OptimizerKind.RmsProp) { Rho = 1 }, "rho must be in [0, 1) (got 1)" },
        { new OptimizerSpec(OptimizerKind.AdaGrad) { Epsilon = 0 }, "epsilon must be > 0 (got 0)" },
        { new OptimizerSpec(OptimizerKind.AdamW) { WeightDecay = -0.01 }, "weight decay must be >= 0 (got -0.01)" },
        { new OptimizerSpec(OptimizerKind.AdaGrad) { InitialAccumulator = -1 }, "initial accumulator must be >= 0 (got -1)" },
        { new OptimizerSpec(OptimizerKind.Lbfgs) { HistorySize = 0 }, "history size must be >= 1 (got 0)" },
        { new OptimizerSpec(OptimizerKind.Lbfgs) { MaxIterations = 0 }, "max iterations must be >= 1 (got 0)" },
        { new OptimizerSpec(OptimizerKind.Lbfgs) { ToleranceGrad = -1 }, "tolerance on the gradient must be >= 0 (got -1)" },
        { new OptimizerSpec(OptimizerKind.Lbfgs) { ToleranceChange = -1 }, "tolerance on the change must be >= 0 (got -1)" },
        { new OptimizerSpec(OptimizerKind.Sgd) { Momentum = 0.9 }, "momentum is not an option of sgd (got 0.9; it applies to momentum, nesterov)" },
        { new OptimizerSpec(OptimizerKind.Adam) { WeightDecay = 0.01 }, "weight decay is not an option of adam (got 0.01; it applies to adamw)" },
        { new OptimizerSpec(OptimizerKind.RmsProp) { Beta2 = 0.99 }, "beta2 is not an option of rmsprop (got 0.99; it applies to adam, adamw; rmsprop's decay is rho)" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Bad_values_give_a_one_line_error_naming_the_option(OptimizerSpec spec, string message)
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => spec.Resolve());

        // Then
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("sgd", OptimizerKind.Sgd)]
    [InlineData("Momentum", OptimizerKind.Momentum)]
    [InlineData("NESTEROV", OptimizerKind.Nesterov)]
    [InlineData("adagrad", OptimizerKind.AdaGrad)]
    [InlineData("RMSprop", OptimizerKind.RmsProp)]
    [InlineData("adam", OptimizerKind.Adam)]
    [InlineData("AdamW", OptimizerKind.AdamW)]
    [InlineData("lbfgs", OptimizerKind.Lbfgs)]
    [InlineData(" L-BFGS ", OptimizerKind.Lbfgs)]
    public void Optimizer_names_parse_case_insensitively(string name, OptimizerKind kind) =>
        Assert.Equal(kind, Optimizers.Parse(name));

    [Fact]
    public void An_unknown_optimizer_name_lists_the_valid_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Optimizers.Parse("adamax"));
        Assert.Equal("unknown optimizer 'adamax' (valid: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, lbfgs, lm)", e.Message);
    }

    [Fact]
    public void Every_kind_has_a_name_that_parses_back()
    {
        foreach (var kind in Enum.GetValues<OptimizerKind>())
            Assert.Equal(kind, Optimizers.Parse(Optimizers.Name(kind)));
    }
}
