using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Solving;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class CollapseTests
{
    private static SolverSpec Short => new()
    {
        Episodes = 12, Trajectories = 16, EpisodeLength = 10, BatchSize = 32, LogEvery = 4, Seed = 3,
        RedrawEachEpisode = false, Polish = new PolishSpec { Rounds = 1, States = 64, Steps = 2 },
    };

    [Fact]
    public void A_deterministic_economys_continuing_paths_are_found_collapsed_and_the_polish_redraws()
    {
        // Given deterministic Brock–Mirman (δ = 1), whose paths reach K* to round-off within a few dozen periods
        var result = Solver.Run(new StochasticGrowth(GrowthCalibration.BrockMirman), Short);
        using var policy = result.Policy;
        Assert.NotNull(result.CollapsedAt);
        Assert.InRange(result.CollapsedAt!.Value, 2, Short.Episodes + 1);
    }

    [Fact]
    public void A_stochastic_economy_never_collapses()
    {
        var result = Solver.Run(new StochasticGrowth(GrowthCalibration.BrockMirmanStochastic), Short);
        using var policy = result.Policy;
        Assert.Null(result.CollapsedAt);
    }

    [Fact]
    public void Refresh_one_restarts_everything_and_has_nothing_to_check()
    {
        var result = Solver.Run(new StochasticGrowth(GrowthCalibration.BrockMirman), Short with { Refresh = 1 });
        using var policy = result.Policy;
        Assert.Null(result.CollapsedAt);
    }
}
