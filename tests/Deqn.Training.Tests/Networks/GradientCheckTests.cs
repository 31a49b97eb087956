using Deqn.Training.Initialization;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Networks;

public sealed class GradientCheckTests
{
    private const double H = 1e-6;
    private const double RelativeTolerance = 1e-6;
    // Central differences of a loss of order one lose about 1e-16/h to rounding; gradients smaller than this floor are compared absolutely.
    private const double AbsoluteFloor = 1e-8;

    public static TheoryData<Activation, bool> Cases()
    {
        var data = new TheoryData<Activation, bool>();
        foreach (var a in new[] { Activation.Tanh, Activation.Sigmoid, Activation.Swish, Activation.Gelu, Activation.Elu, Activation.Selu, Activation.Softplus, Activation.Relu, Activation.Linear })
            data.Add(a, false);
        data.Add(Activation.Tanh, true);
        data.Add(Activation.Elu, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Autograd_gradients_of_the_loss_match_central_finite_differences_for_every_parameter(Activation activation, bool batchNorm)
    {
        // Given a float64 3→5→4→2 network, a fixed batch and a squared-error loss
        var spec = NetworkSpec.Dense(3, new[] { 5, 4 }, 2, activation, batchNorm: batchNorm ? new BatchNormSpec(Momentum: 0.9) : null) with
        {
            Precision = Precision.Float64,
            // Non-zero biases so that every bias gradient is exercised away from the symmetric start.
            BiasInitializer = new InitializerSpec(InitializerKind.RandomNormal, Std: 0.3),
            WeightInitializer = new InitializerSpec(InitializerKind.GlorotNormal),
        };
        using var g = new torch.Generator(12);
        using var net = new Network(spec, g);
        using var x = torch.randn(new long[] { 6, 3 }, dtype: ScalarType.Float64, generator: g);
        using var y = torch.randn(new long[] { 6, 2 }, dtype: ScalarType.Float64, generator: g);
        Tensor Loss() => (net.forward(x) - y).square().mean();
        if (activation == Activation.Relu || activation == Activation.Selu)
        {
            double nearest = NearestKink(net, x);
            Assert.True(nearest > 1e-3, $"a pre-activation lies {nearest:G3} from the kink at 0; choose other inputs");
        }

        // When
        using (var loss = Loss()) loss.backward();

        // Then
        foreach (var (name, p) in net.named_parameters())
        {
            var analytic = p.grad!.data<double>().ToArray();
            for (int i = 0; i < analytic.Length; i++)
            {
                double numeric;
                using (torch.no_grad())
                using (var scope = torch.NewDisposeScope())
                {
                    var flat = p.view(-1);
                    double original = flat[i].item<double>();
                    flat[i].fill_(original + H);
                    double up = Loss().item<double>();
                    flat[i].fill_(original - H);
                    double down = Loss().item<double>();
                    flat[i].fill_(original);
                    numeric = (up - down) / (2 * H);
                }
                double error = Math.Abs(numeric - analytic[i]);
                Assert.True(error <= RelativeTolerance * Math.Max(Math.Abs(analytic[i]), AbsoluteFloor / RelativeTolerance),
                    $"{activation}{(batchNorm ? " + batch norm" : "")}: {name}[{i}] autograd {analytic[i]:G10}, finite difference {numeric:G10} (relative tolerance {RelativeTolerance})");
            }
        }
    }

    /// <summary>The smallest |pre-activation| over the batch, recomputed from the dense weights (no batch norm here).</summary>
    private static double NearestKink(Network net, Tensor x)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var parameters = net.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        double nearest = double.PositiveInfinity;
        var h = x;
        for (int n = 1; parameters.ContainsKey($"dense_{n}.weight"); n++)
        {
            var z = nn.functional.linear(h, parameters[$"dense_{n}.weight"], parameters[$"dense_{n}.bias"]);
            nearest = Math.Min(nearest, z.abs().min().item<double>());
            h = net.Spec.Hidden[n - 1].Activation.Apply(z);
        }
        return nearest;
    }
}
