using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Networks;

public sealed class NetworkPrecisionTests
{
    [Theory]
    [InlineData(Precision.Float32, ScalarType.Float32)]
    [InlineData(Precision.Float64, ScalarType.Float64)]
    public void Parameters_buffers_and_outputs_have_the_dtype_of_the_precision(Precision precision, ScalarType expected)
    {
        // Given a network with batch norm, dropout and a softmax output
        using var g = new torch.Generator(1);
        var spec = NetworkSpec.Dense(3, new[] { 6, 5 }, 4, Activation.Swish, dropout: 0.1, batchNorm: new BatchNormSpec()) with
        {
            Precision = precision,
            OutputActivation = Activation.Softmax,
        };
        using var net = new Network(spec, g);
        using var x = torch.rand(new long[] { 8, 3 }, dtype: expected, generator: g);

        // When
        using var y = net.forward(x);
        using var logits = net.Logits(x);

        // Then
        Assert.Equal(expected, net.DType);
        Assert.All(net.named_parameters(), p => Assert.Equal(expected, p.parameter.dtype));
        Assert.All(net.named_buffers().Where(b => !b.name.EndsWith("num_batches_tracked")), b => Assert.Equal(expected, b.buffer.dtype));
        Assert.Equal(expected, y.dtype);
        Assert.Equal(expected, logits.dtype);
        Assert.Equal(precision, net.Summary().Precision);
    }

    [Fact]
    public void Logits_stop_before_the_softmax_and_the_softmax_of_the_logits_is_the_output()
    {
        using var g = new torch.Generator(2);
        using var net = new Network(NetworkSpec.Dense(3, new[] { 4 }, 3) with { OutputActivation = Activation.Softmax, Precision = Precision.Float64 }, g);
        using var x = torch.randn(new long[] { 6, 3 }, dtype: ScalarType.Float64, generator: g);
        using var y = net.forward(x);
        using var logits = net.Logits(x);
        Assert.True(logits.softmax(-1).allclose(y, rtol: 1e-12, atol: 0), "softmax(logits) differs from the output");
        Assert.True(y.sum(-1).allclose(torch.ones(6, dtype: ScalarType.Float64), rtol: 1e-12, atol: 1e-12), "outputs are not probabilities");
    }
}
