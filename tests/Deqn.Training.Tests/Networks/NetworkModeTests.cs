using Deqn.Testing;
using Deqn.Training.Initialization;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Networks;

/// <summary>Dropout and batch normalization in training and evaluation mode.</summary>
public sealed class NetworkModeTests
{
    private const double Rate = 0.3;
    private const int Width = 1000;

    /// <summary>
    /// 1 → 1000 (linear, dropout) → 1 with every weight 1 and biases 0: for input 1 the output is the sum of the
    /// hidden units after dropout, so (1 − p)·output counts the units that were kept.
    /// </summary>
    private static Network CountingNetwork(double dropout, torch.Generator g) => new(new NetworkSpec
    {
        Inputs = 1,
        Hidden = new[] { new LayerSpec(Width, Activation.Linear, dropout) },
        Outputs = 1,
        WeightInitializer = new InitializerSpec(InitializerKind.Constant, Value: 1.0),
        Precision = Precision.Float64,
    }, g);

    [Fact]
    public void In_training_dropout_zeroes_about_p_of_the_units_and_rescales_the_rest_by_one_over_one_minus_p()
    {
        // Given
        using var g = new torch.Generator(1);
        using var net = CountingNetwork(Rate, g);
        net.train();
        using var x = torch.ones(200, 1, dtype: ScalarType.Float64);

        // When
        using var output = net.forward(x);

        // Then every kept unit carries exactly 1/(1 − p): (1 − p)·output is a whole count of kept units
        var kept = output.data<double>().Select(o => o * (1 - Rate)).ToArray();
        Assert.All(kept, k => Assert.True(Math.Abs(k - Math.Round(k)) < 1e-9, $"(1 − p)·output = {k} is not a whole number of units"));
        // and about p of the 200 000 units are zeroed (standard error 0.001; tolerance 0.01 absolute)
        double droppedFraction = 1 - kept.Sum() / (200.0 * Width);
        Assert.True(Math.Abs(droppedFraction - Rate) < 0.01, $"dropped fraction {droppedFraction:F4}, expected {Rate} ± 0.01");
        // and the masks differ from row to row
        Assert.True(kept.Distinct().Count() > 1, "every row kept the same number of units");
    }

    [Fact]
    public void In_evaluation_dropout_is_the_identity_and_deterministic()
    {
        // Given the same network with and without dropout, from the same seed
        using var g1 = new torch.Generator(5);
        using var withDropout = new Network(NetworkSpec.Dense(3, new[] { 32, 32 }, 2, Activation.Tanh, dropout: Rate) with { Precision = Precision.Float64 }, g1);
        using var g2 = new torch.Generator(5);
        using var without = new Network(NetworkSpec.Dense(3, new[] { 32, 32 }, 2, Activation.Tanh) with { Precision = Precision.Float64 }, g2);
        using var x = torch.randn(new long[] { 64, 3 }, dtype: ScalarType.Float64, generator: g1);

        // When
        withDropout.eval();
        using var first = withDropout.forward(x);
        using var second = withDropout.forward(x);
        using var reference = without.forward(x);

        // Then
        Assert.True(Same.Values(first, second), "two evaluation passes differ");
        Assert.True(Same.Values(first, reference), "evaluation output differs from the network without dropout");

        // And back in training mode the output is random again
        withDropout.train();
        using var trained = withDropout.forward(x);
        Assert.False(Same.Values(trained, first), "training-mode output equals the evaluation output");
    }

    private sealed record Pieces(Tensor W1, Tensor B1, Tensor Gamma, Tensor Beta, Tensor W2, Tensor B2, Tensor RunningMean, Tensor RunningVar);

    private static (Network Net, Pieces P) BatchNormNetwork(torch.Generator g, double momentum, double epsilon)
    {
        var net = new Network(new NetworkSpec
        {
            Inputs = 3,
            Hidden = new[] { new LayerSpec(4, Activation.Linear, BatchNorm: new BatchNormSpec(momentum, epsilon)) },
            Outputs = 2,
            Precision = Precision.Float64,
        }, g);
        var p = net.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var b = net.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        // Non-trivial scale and shift, so that the test sees them applied.
        using (torch.no_grad())
        {
            p["batch_norm_1.weight"].copy_(torch.tensor(new[] { 0.5, 1.5, -2.0, 1.0 }, ScalarType.Float64));
            p["batch_norm_1.bias"].copy_(torch.tensor(new[] { 0.1, -0.2, 0.3, 0.0 }, ScalarType.Float64));
        }
        return (net, new Pieces(p["dense_1.weight"], p["dense_1.bias"], p["batch_norm_1.weight"], p["batch_norm_1.bias"],
            p["output.weight"], p["output.bias"], b["batch_norm_1.running_mean"], b["batch_norm_1.running_var"]));
    }

    private static Tensor Expected(Pieces p, Tensor x, Tensor mean, Tensor variance, double epsilon)
    {
        var z = nn.functional.linear(x, p.W1, p.B1);
        var normalized = (z - mean) / (variance + epsilon).sqrt() * p.Gamma + p.Beta;
        return nn.functional.linear(normalized, p.W2, p.B2);
    }

    [Fact]
    public void In_training_batch_norm_uses_batch_statistics_and_updates_running_ones_with_the_keras_momentum()
    {
        // Given momentum 0.9 (Keras: the weight of the old running value)
        const double m = 0.9, eps = 1e-3;
        using var g = new torch.Generator(3);
        var (net, p) = BatchNormNetwork(g, m, eps);
        using var _ = net;
        net.train();
        using var x1 = torch.randn(new long[] { 32, 3 }, dtype: ScalarType.Float64, generator: g) * 2 + 1;
        using var x2 = torch.randn(new long[] { 16, 3 }, dtype: ScalarType.Float64, generator: g) - 0.5;

        // When
        using var y1 = net.forward(x1);
        var mean1AfterFirst = p.RunningMean.clone();
        var var1AfterFirst = p.RunningVar.clone();
        using var y2 = net.forward(x2);

        // Then the output normalizes with the batch's own mean and biased variance
        using var noGrad = torch.no_grad();
        var z1 = nn.functional.linear(x1, p.W1, p.B1);
        var z2 = nn.functional.linear(x2, p.W1, p.B1);
        var (mu1, var1) = (z1.mean(new long[] { 0 }), z1.var(0, unbiased: false));
        var (mu2, var2) = (z2.mean(new long[] { 0 }), z2.var(0, unbiased: false));
        AssertClose(Expected(p, x1, mu1, var1, eps), y1, "training output, first batch");
        AssertClose(Expected(p, x2, mu2, var2, eps), y2, "training output, second batch");
        // and running = m·running + (1 − m)·batch, from mean 0 and variance 1, with Keras's biased batch variance
        AssertClose((1 - m) * mu1, mean1AfterFirst, "running mean after one batch");
        AssertClose(m * 1.0 + (1 - m) * var1, var1AfterFirst, "running variance after one batch");
        AssertClose(m * (1 - m) * mu1 + (1 - m) * mu2, p.RunningMean, "running mean after two batches");
        AssertClose(m * (m + (1 - m) * var1) + (1 - m) * var2, p.RunningVar, "running variance after two batches");
    }

    [Fact]
    public void In_evaluation_batch_norm_uses_running_statistics_and_leaves_them_unchanged()
    {
        // Given running statistics from a few training batches
        const double m = 0.5, eps = 1e-3;
        using var g = new torch.Generator(4);
        var (net, p) = BatchNormNetwork(g, m, eps);
        using var _ = net;
        net.train();
        for (int i = 0; i < 3; i++)
            using (var batch = torch.randn(new long[] { 20, 3 }, dtype: ScalarType.Float64, generator: g) * 3)
                net.forward(batch).Dispose();
        var runningMean = p.RunningMean.clone();
        var runningVar = p.RunningVar.clone();
        using var x = torch.randn(new long[] { 10, 3 }, dtype: ScalarType.Float64, generator: g);

        // When
        net.eval();
        using var y = net.forward(x);
        using var firstRowAlone = net.forward(x.narrow(0, 0, 1));

        // Then
        using var noGrad = torch.no_grad();
        AssertClose(Expected(p, x, runningMean, runningVar, eps), y, "evaluation output");
        Assert.True(Same.Values(p.RunningMean, runningMean) && Same.Values(p.RunningVar, runningVar), "evaluation changed the running statistics");
        // A row's output does not depend on the rest of the batch (in training it does).
        AssertClose(y.narrow(0, 0, 1), firstRowAlone, "first row evaluated alone");
        net.train();
        using var trainedRow = net.forward(x.narrow(0, 0, 2)).narrow(0, 0, 1);
        using var trainedBatch = net.forward(x).narrow(0, 0, 1);
        Assert.False(trainedRow.allclose(trainedBatch), "in training a row's output ignored the rest of the batch");
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        // Relative tolerance 1e-10 on float64: only reduction order may differ.
        double scale = Math.Max(expected.abs().max().item<double>(), 1e-12);
        double error = (expected - actual).abs().max().item<double>();
        Assert.True(error <= 1e-10 * scale, $"{what}: max error {error:G3} relative to scale {scale:G3} exceeds 1e-10");
    }
}
