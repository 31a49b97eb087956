using Deqn.Training.Networks;
using TorchSharp;

namespace Deqn.Training.Tests;

public sealed class EngineTests
{
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
