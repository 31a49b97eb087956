using Deqn.Approximation.Study;
using Deqn.Cli.Commands;
using Deqn.Cli.Options;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Persistence;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;

namespace Deqn.Cli.Tests;

/// <summary>fit, approx and solve build the network and optimization specs in one place, and their defaults come from typed specs.</summary>
public sealed class SharedSpecsTests
{
    private static readonly (string Key, string Value)[] Shared =
    {
        ("layers", "32,16"), ("activation", "relu,swish"), ("init", "he_normal"), ("bias-init", "zeros"), ("precision", "float64"),
        ("optimizer", "rmsprop"), ("lr", "0.005"), ("rho", "0.95"), ("epsilon", "1e-6"), ("defaults", "pytorch"), ("epsilon-outside-sqrt", "true"),
        ("clip-value", "0.5"), ("clip-norm", "2"), ("schedule", "cosine"), ("cosine-epochs", "30"), ("min-lr", "1e-5"), ("warmup-epochs", "2"),
    };

    /// <summary>L-BFGS's settings, which solve has not (it cannot use L-BFGS) and approx defaults to its own values.</summary>
    private static readonly (string Key, string Value)[] Lbfgs = { ("lbfgs-history", "100"), ("lbfgs-iterations", "20") };

    private static Settings SettingsOf(CliCommand command, params (string Key, string Value)[] given)
    {
        var s = new Settings(command.AllOptions);
        foreach (var (key, value) in given) s.Set(key, value, "command line");
        return s;
    }

    [Fact]
    public void Fit_approx_and_solve_build_the_same_network_and_optimization_from_the_same_options()
    {
        // When the three commands are given the same network and optimizer options
        var fit = TrainingOptions.BuildSpec(SettingsOf(new FitCommand(), [.. Shared, .. Lbfgs]), TaskKind.Regression);
        var approx = ApproxCommand.BuildStudy(SettingsOf(new ApproxCommand(), [.. Shared, .. Lbfgs])).Configurations.Single().Spec;
        var solve = SolveCommand.BuildSolver(SettingsOf(new SolveCommand(), Shared));

        // Then they build equal records, the ones TrainingOptions builds from those options
        var settings = SettingsOf(new FitCommand(), Shared);
        var network = TrainingOptions.Network(settings);
        var optimization = TrainingOptions.Optimization(settings, 500);
        Assert.Equal([new LayerSpec(32, Activation.Relu), new LayerSpec(16, Activation.Swish)], network.Hidden);
        Assert.Equal(Precision.Float64, network.Precision);
        Assert.Equal(OptimizerKind.RmsProp, optimization.Optimizer.Kind);
        Assert.Equal((0.5, 2.0), (optimization.ClipValue, optimization.ClipNorm));
        Assert.Equal(30, optimization.Schedule.CosineEpochs);
        Assert.All(new[] { fit.Network, approx.Network, solve.Network }, n => Assert.Equal(network, n));
        Assert.All(new[] { fit.Optimization, approx.Optimization, solve.Optimization }, o => Assert.Equal(optimization, o));
    }

    [Fact]
    public void Approx_trains_by_default_with_the_typed_study_default_and_shows_its_values_as_option_defaults()
    {
        // When approx builds its study with nothing given
        var spec = ApproxCommand.BuildStudy(SettingsOf(new ApproxCommand())).Configurations.Single().Spec;
        // Then it is StudySpec.DefaultTraining (the command line names the regression loss explicitly)
        Assert.Equal(StudySpec.DefaultTraining, spec with { Training = spec.Training with { Loss = null } });
        // And every value of the typed default is the displayed default of its option
        var options = new ApproxCommand().AllOptions;
        foreach (var (key, value) in SpecSettings.Of(StudySpec.DefaultTraining))
            Assert.Equal((key, value), (key, options.Single(o => o.Name == key).Default));
        // And the learning rate follows the optimizer: L-BFGS's own default, 1
        Assert.Null(options.Single(o => o.Name == "lr").Default);
        Assert.Equal(1.0, spec.Optimization.Optimizer.Resolve().LearningRate);
    }

    [Fact]
    public void Solve_trains_by_default_with_new_SolverSpec_and_shows_its_values_as_option_defaults()
    {
        // When solve builds its spec with nothing given (and no model recommending other settings)
        var spec = SolveCommand.BuildSolver(SettingsOf(new SolveCommand()));
        // Then it is the library's default spec (whose optimization, a cosine over its episodes, is computed on reading)
        var library = new SolverSpec();
        Assert.Equal(library with { Optimization = library.Optimization }, spec);
        // And every value of the typed default is the displayed default of its option
        var options = new SolveCommand().AllOptions;
        foreach (var (key, value) in SolverSettings.Of(new SolverSpec()))
            Assert.Equal((key, value), (key, options.Single(o => o.Name == key).Default));
    }

    [Fact]
    public void A_spec_written_as_settings_reads_back_as_the_same_spec()
    {
        // Given a network and an optimization with non-default values
        var network = new NetworkBodySpec { Hidden = [new LayerSpec(8, Activation.Gelu, 0.1), new LayerSpec(4, Activation.Tanh, 0.1)], Precision = Precision.Float64 };
        var optimization = new OptimizationSpec
        {
            Optimizer = new OptimizerSpec(OptimizerKind.Lbfgs) { LearningRate = 0.5, HistorySize = 7, MaxIterations = 3 },
            Schedule = new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.3 },
            ClipNorm = 1.5,
        };
        // When they are written as fit's settings and parsed again
        var given = SpecSettings.Of(network).Concat(SpecSettings.Of(optimization, 500)).Select(kv => (kv.Key, kv.Value)).ToArray();
        var s = SettingsOf(new FitCommand(), given);
        // Then the records are equal
        Assert.Equal(network, TrainingOptions.Network(s));
        Assert.Equal(optimization, TrainingOptions.Optimization(s, 500));
    }
}
