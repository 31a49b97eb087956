using System.Runtime;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using TorchSharp;

namespace Deqn.Training.Tests;

public sealed class EngineTests
{
    [Fact]
    public void Background_collections_are_off_in_the_tests_the_cli_and_after_the_engine_asks()
    {
        // The runtimeconfig of the tests and of deqn (copied beside them) turn it off; AvoidBackgroundCollections does at run time.
        Assert.False(GCSettings.IsServerGC);
        Assert.Equal("false", AppContext.GetData("System.GC.Concurrent")?.ToString()?.ToLowerInvariant());
        TorchEngine.AvoidBackgroundCollections();
        Assert.Equal(GCLatencyMode.Batch, GCSettings.LatencyMode);
    }

    [Fact]
    public void A_small_network_runs_forward_and_backward_on_this_machine()
    {
        // Given a 3-64-64-1 network (the patched native library must load for this to run at all)
        using var g = new torch.Generator(1);
        using var net = new Network(NetworkSpec.Dense(3, new[] { 64, 64 }, 1), g);
        using var x = torch.rand(8, 3, generator: g);

        // When
        using var loss = net.forward(x).square().mean();
        loss.backward();

        // Then
        Assert.All(net.parameters(), p => Assert.NotNull(p.grad));
        Assert.True(double.IsFinite(loss.item<float>()));
    }
}
