using Deqn.Training.Ensembles;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Ensembles;

public sealed class NetworkStackTests
{
    private static readonly long[] Seeds = [11, 22, 33];

    private static NetworkSpec Spec(double dropout = 0, Activation output = Activation.Linear) =>
        NetworkSpec.Dense(3, [8, 5], 2, Activation.Tanh, dropout) with { Precision = Precision.Float64, OutputActivation = output };

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    [Fact]
    public void Each_member_starts_with_exactly_the_weights_of_a_network_built_from_its_seed()
    {
        // Given
        var spec = Spec() with { BiasInitializer = Deqn.Training.Initialization.InitializerSpec.GlorotUniform };

        // When
        using var stack = NetworkStack.FromSeeds(spec, Seeds);

        // Then extracting member k gives, bit for bit, new Network(spec, seed k)
        for (int k = 0; k < Seeds.Length; k++)
        {
            using var expected = new Network(spec, new Generator((ulong)Seeds[k]));
            using var extracted = stack.Extract(k);
            var want = expected.state_dict();
            foreach (var (name, t) in extracted.state_dict())
                Assert.True(Same(t, want[name]), $"member {k}, {name} differs");
        }
    }

    [Fact]
    public void Parameters_are_stacked_per_layer_with_network_names()
    {
        // Given / When
        using var stack = NetworkStack.FromSeeds(Spec(), Seeds);

        // Then
        var shapes = stack.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 3, 3, 8 }, shapes["dense_1.weight"]);
        Assert.Equal(new long[] { 3, 1, 8 }, shapes["dense_1.bias"]);
        Assert.Equal(new long[] { 3, 8, 5 }, shapes["dense_2.weight"]);
        Assert.Equal(new long[] { 3, 5, 2 }, shapes["output.weight"]);
        Assert.Equal(new long[] { 3, 1, 2 }, shapes["output.bias"]);
        Assert.Equal(6, shapes.Count);
    }

    [Theory]
    [InlineData(Activation.Linear)]
    [InlineData(Activation.Softmax)]
    public void Forward_gives_each_member_the_output_of_its_own_network(Activation output)
    {
        // Given a stack and inputs that differ per member
        var spec = Spec(output: output);
        using var stack = NetworkStack.FromSeeds(spec, Seeds);
        stack.eval();
        using var x = torch.randn(3, 7, 3, dtype: ScalarType.Float64, generator: new Generator(5));

        // When
        using var y = stack.forward(x);

        // Then (a batched product may sum in another order: 1e-12 relative)
        Assert.Equal(new long[] { 3, 7, 2 }, y.shape);
        for (int k = 0; k < Seeds.Length; k++)
        {
            using var net = new Network(spec, new Generator((ulong)Seeds[k]));
            net.eval();
            using var want = net.forward(x[k]);
            double rel = (y[k] - want).abs().max().ToDouble() / want.abs().max().ToDouble();
            Assert.True(rel <= 1e-12, $"member {k}: relative difference {rel:G3} > 1e-12");
        }
    }

    [Fact]
    public void Dropout_masks_drawn_from_member_generators_match_single_networks_with_the_same_generators()
    {
        // Given a stack with dropout, in training mode, with one dropout generator per member
        var spec = Spec(dropout: 0.3);
        using var stack = NetworkStack.FromSeeds(spec, Seeds);
        stack.train();
        stack.DropoutGenerators = [new Generator(100), new Generator(200), new Generator(300)];
        using var x = torch.randn(3, 6, 3, dtype: ScalarType.Float64, generator: new Generator(5));

        // When two forward passes run (the second draws fresh masks)
        using var y1 = stack.forward(x);
        using var y2 = stack.forward(x);

        // Then each member's outputs equal its single network's with the same dropout seed (1e-12 relative)
        ulong[] dropSeeds = [100, 200, 300];
        for (int k = 0; k < Seeds.Length; k++)
        {
            using var net = new Network(spec, new Generator((ulong)Seeds[k])) { DropoutGenerator = new Generator(dropSeeds[k]) };
            net.train();
            using var w1 = net.forward(x[k]);
            using var w2 = net.forward(x[k]);
            foreach (var (got, want) in new[] { (y1[k], w1), (y2[k], w2) })
            {
                double rel = (got - want).abs().max().ToDouble() / want.abs().max().ToDouble();
                Assert.True(rel <= 1e-12, $"member {k}: relative difference {rel:G3} > 1e-12");
            }
        }
        Assert.False(Same(y1, y2), "the second pass should draw new masks");
    }

    [Fact]
    public void Batch_normalization_is_refused_with_a_reason()
    {
        // Given
        var spec = NetworkSpec.Dense(3, [8], 1, batchNorm: new BatchNormSpec());

        // When
        var e = Assert.Throws<NotSupportedException>(() => NetworkStack.FromSeeds(spec, Seeds));

        // Then
        Assert.Contains("batch normalization", e.Message);
    }

    [Fact]
    public void Extract_returns_an_independent_network_and_insert_writes_one_member_only()
    {
        // Given
        var spec = Spec();
        using var stack = NetworkStack.FromSeeds(spec, Seeds);
        using var before = stack.Extract(1);
        using var other = new Network(spec, new Generator(999));

        // When the extracted copy is changed, and another network is inserted as member 0
        using (torch.no_grad()) foreach (var p in before.parameters()) p.add_(1.0);
        stack.Insert(0, other);

        // Then member 1 is untouched, member 0 is the inserted network, member 2 still its seed's network
        using var fresh1 = new Network(spec, new Generator((ulong)Seeds[1]));
        using var fresh2 = new Network(spec, new Generator((ulong)Seeds[2]));
        using var got0 = stack.Extract(0);
        using var got1 = stack.Extract(1);
        using var got2 = stack.Extract(2);
        foreach (var (got, want) in new[] { (got0, other), (got1, fresh1), (got2, fresh2) })
        {
            var w = want.state_dict();
            foreach (var (name, t) in got.state_dict()) Assert.True(Same(t, w[name]), name);
        }
    }
}
