using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Loop;
using Deqn.Training.Networks;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class TargetEquationsTests
{
    private static SolverSpec Spec(double target, params string[] equations) => new()
    {
        Network = SolverSpec.DefaultNetwork with { Hidden = [new LayerSpec(8, Activation.Tanh)] },
        Episodes = 20, Trajectories = 8, EpisodeLength = 2, LogEvery = 5, HistogramEvery = 0, CheckpointEvery = 0,
        TargetEulerError = target, TargetEquations = equations,
    };

    [Theory]
    [InlineData("euler")]
    [InlineData("euler[2]")]
    public void The_target_watches_the_named_equation_or_element(string watched)
    {
        var model = new AnalyticOlg(new OlgCalibration());
        // A target every residual meets: the run stops at the first evaluation point, naming the watched metric
        var result = Solver.Run(model, Spec(10, watched));
        using var _ = result.Policy;
        Assert.Equal(StopReason.TargetReached, result.Stop);
        Assert.True(result.Episodes < 20, $"ran {result.Episodes} episodes");
        var record = result.History[^1];
        // The watched value is the named block's mean |residual| (or the element's)
        Assert.Equal(record.Value($"mean_abs_{watched}"), record.Value(EpisodeWorkload.ResidualTargetMetric));
        Assert.True(record.Metrics.ContainsKey("mean_abs_euler[5]") && record.Metrics.ContainsKey("max_abs_euler"));
    }

    [Fact]
    public void An_equation_the_model_does_not_have_is_named_with_the_ones_it_has()
    {
        var model = new AnalyticOlg(new OlgCalibration());
        var e = Assert.Throws<ArgumentException>(() => Solver.Run(model, Spec(10, "budget")).Policy.Dispose());
        Assert.Contains("'budget'", e.Message);
        Assert.Contains("euler", e.Message);
    }
}
