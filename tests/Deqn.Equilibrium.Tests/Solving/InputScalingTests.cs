using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class InputScalingTests
{
    private static PolicyNetwork Network(Deqn.Equilibrium.Modeling.Model model, InputScaling scaling)
    {
        using var generator = TorchEngine.Generator(1);
        var spec = PolicyNetwork.SpecFor(model, new NetworkBodySpec { Hidden = [new LayerSpec(8, Activation.Tanh)], Precision = Precision.Float64 });
        return new PolicyNetwork(model, new Network(spec, generator), scaling);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void Running_statistics_over_batches_equal_those_of_all_states_at_once(long seed)
    {
        // Given the growth model's states in three batches of different sizes
        var model = new StochasticGrowth(new GrowthCalibration());
        var random = new StandardNormalStream(seed);
        using var scope = NewDisposeScope();
        var batches = new[] { 7, 50, 23 }.Select(n => Simulator.DrawInitial(model, n, random, ScalarType.Float64, CPU)).ToArray();
        using var byBatch = Network(model, InputScaling.Simulated);
        using var atOnce = Network(model, InputScaling.Simulated);
        // When one network observes them batch by batch and another all at once
        foreach (var b in batches) byBatch.Observe(b);
        atOnce.Observe(torch.cat(batches, 0));
        // Then both scale by the same mean and standard deviation, which are the sample's
        var (c1, h1) = byBatch.CurrentScaling();
        var (c2, h2) = atOnce.CurrentScaling();
        for (int j = 0; j < 2; j++)
        {
            Assert.Equal(c2[j], c1[j], 12);
            Assert.Equal(h2[j], h1[j], 12);
        }
        var all = Tensors.ToArray(torch.cat(batches, 0));
        var k = Enumerable.Range(0, 80).Select(i => all[i, 0]).ToArray();
        Assert.Equal(k.Average(), c2[0], 12);
        Assert.Equal(Math.Sqrt(k.Select(x => (x - k.Average()) * (x - k.Average())).Average()), h2[0], 12);
    }

    [Fact]
    public void Box_scaling_keeps_the_states_but_scales_features_by_the_simulated_states()
    {
        // Given the OLG model, whose aggregate capital and incomes are features
        var model = new AnalyticOlg(new OlgCalibration());
        using var network = Network(model, InputScaling.InitialBox);
        Assert.Equal(5 + 1 + 6 + 4, PolicyNetwork.InputWidth(model));
        Assert.Equal(["k[1]", "k[2]", "k[3]", "k[4]", "k[5]", "K", "income[1]"], PolicyNetwork.InputNames(model).Take(7));
        var (before, _) = network.CurrentScaling();
        using var scope = NewDisposeScope();
        // When it observes simulated states
        network.Observe(Simulator.DrawInitial(model, 100, new StandardNormalStream(5), ScalarType.Float64, CPU));
        var (after, _) = network.CurrentScaling();
        // Then the states keep their box centers and the features are centered on their means
        Assert.Equal(before.Take(5), after.Take(5));
        Assert.True(after[5] > 0, $"mean aggregate capital {after[5]}");
        Assert.NotEqual(0.0, after[6]);
    }
}

public sealed class TinyInputScalingTests
{
    [Fact]
    public void Inputs_of_tiny_size_are_scaled_by_their_own_spread()
    {
        // Given the 40-generation OLG economy, whose oldest hold about 1e-14
        var model = new AnalyticOlg(new OlgCalibration(Generations: 40));
        using var generator = TorchEngine.Generator(1);
        var spec = PolicyNetwork.SpecFor(model, new NetworkBodySpec { Hidden = [new LayerSpec(8, Activation.Tanh)], Precision = Precision.Float64 });
        using var network = new PolicyNetwork(model, new Network(spec, generator), InputScaling.Simulated);
        using var scope = NewDisposeScope();
        // When it observes initial draws
        network.Observe(Simulator.DrawInitial(model, 256, new StandardNormalStream(3), ScalarType.Float64, CPU));
        // Then every holding is scaled by a spread of its own size, none left at unit spread (which would hide it)
        var (center, half) = network.CurrentScaling();
        for (int j = 0; j < 39; j++)
        {
            Assert.True(half[j] < 1, $"k[{j + 1}]: spread {half[j]:E2}");
            Assert.True(half[j] > 0.05 * center[j], $"k[{j + 1}]: spread {half[j]:E2} for mean {center[j]:E2}");
        }
    }
}
