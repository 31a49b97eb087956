using Deqn.Equilibrium.Solving;
using Deqn.Training.Optimization;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class SolverSpecTests
{
    [Fact]
    public void Fewer_episodes_keep_a_cosine_that_spanned_them_all_spanning_them_all()
    {
        var spec = new SolverSpec { Episodes = 2_000, Optimization = SolverSpec.AdamCosine(3e-3, 2_000) };
        var shorter = spec.WithEpisodes(150);
        Assert.Equal(150, shorter.Episodes);
        Assert.Equal(150, shorter.Optimization.Schedule.CosineEpochs);
        Assert.Equal(spec.Optimization.Optimizer, shorter.Optimization.Optimizer);
    }

    [Fact]
    public void A_schedule_of_its_own_length_is_left_as_it_is()
    {
        var spec = new SolverSpec { Episodes = 2_000, Optimization = SolverSpec.AdamCosine(3e-3, 500) };
        Assert.Equal(500, spec.WithEpisodes(150).Optimization.Schedule.CosineEpochs);
        // The default optimization is a cosine over however many episodes the spec has
        Assert.Equal(ScheduleKind.Cosine, new SolverSpec().WithEpisodes(10).Optimization.Schedule.Kind);
        Assert.Equal(10, new SolverSpec().WithEpisodes(10).Optimization.Schedule.CosineEpochs);
        Assert.Equal(3_000, new SolverSpec { Episodes = 3_000 }.Optimization.Schedule.CosineEpochs);
    }
}
