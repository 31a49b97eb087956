using Deqn.Testing;
using Deqn.Training.Initialization;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Initialization;

public sealed class InitializerTests
{
    /// <summary>One row of the table: what to draw, on which fans, and the moments and bound the draw must show.</summary>
    public sealed record Case(string Label, InitializerSpec Spec, long FanIn, long FanOut, double Mean, double Variance, double? Bound)
    {
        public override string ToString() => Label;
    }

    // Variance of a standard normal truncated to [-2, 2]; Keras's truncated_normal keeps std as given, so this is its factor.
    private const double TruncatedVarianceFactor = 0.77374;

    public static TheoryData<Case> Cases()
    {
        var data = new TheoryData<Case>
        {
            new("random_normal(0.3, 0.2)", new(InitializerKind.RandomNormal, Mean: 0.3, Std: 0.2), 1000, 1000, 0.3, 0.04, null),
            new("random_uniform(-0.1, 0.5)", new(InitializerKind.RandomUniform, Min: -0.1, Max: 0.5), 1000, 1000, 0.2, 0.36 / 12, null),
            new("truncated_normal(0.1, 0.3)", new(InitializerKind.TruncatedNormal, Mean: 0.1, Std: 0.3), 1000, 1000, 0.1,
                TruncatedVarianceFactor * 0.09, 2 * 0.3),
        };
        foreach (var (fanIn, fanOut) in new[] { (1000L, 1000L), (500L, 1000L) })
        {
            string fans = $"fan_in={fanIn}, fan_out={fanOut}";
            double avg = (fanIn + fanOut) / 2.0;
            AddScaled(data, $"glorot_normal {fans}", new(InitializerKind.GlorotNormal), fanIn, fanOut, 1.0 / avg, Distribution.TruncatedNormal);
            AddScaled(data, $"glorot_uniform {fans}", new(InitializerKind.GlorotUniform), fanIn, fanOut, 1.0 / avg, Distribution.Uniform);
            AddScaled(data, $"he_normal {fans}", new(InitializerKind.HeNormal), fanIn, fanOut, 2.0 / fanIn, Distribution.TruncatedNormal);
            AddScaled(data, $"he_uniform {fans}", new(InitializerKind.HeUniform), fanIn, fanOut, 2.0 / fanIn, Distribution.Uniform);
            AddScaled(data, $"lecun_normal {fans}", new(InitializerKind.LecunNormal), fanIn, fanOut, 1.0 / fanIn, Distribution.TruncatedNormal);
            AddScaled(data, $"lecun_uniform {fans}", new(InitializerKind.LecunUniform), fanIn, fanOut, 1.0 / fanIn, Distribution.Uniform);
            AddScaled(data, $"torch {fans}", new(InitializerKind.Torch), fanIn, fanOut, 1.0 / (3.0 * fanIn), Distribution.Uniform);
            foreach (var mode in Enum.GetValues<FanMode>())
            foreach (var dist in Enum.GetValues<Distribution>())
            {
                const double scale = 1.7;
                double fan = mode switch { FanMode.FanIn => fanIn, FanMode.FanOut => fanOut, _ => avg };
                AddScaled(data, $"variance_scaling(1.7, {mode}, {dist}) {fans}",
                    new(InitializerKind.VarianceScaling, Scale: scale, Mode: mode, Distribution: dist), fanIn, fanOut, scale / fan, dist);
            }
        }
        return data;
    }

    private static void AddScaled(TheoryData<Case> data, string label, InitializerSpec spec, long fanIn, long fanOut, double variance, Distribution dist)
    {
        double? bound = dist switch
        {
            // Keras rescales the truncated draw so the variance is exact; the cut is at two of the pre-rescaling stds.
            Distribution.TruncatedNormal => 2.0 * Math.Sqrt(variance / TruncatedVarianceFactor),
            Distribution.Uniform => Math.Sqrt(3.0 * variance),
            _ => null,
        };
        data.Add(new Case(label, spec, fanIn, fanOut, 0.0, variance, bound));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_initializer_draws_with_the_mean_and_variance_of_its_formula(Case c)
    {
        // Given a float64 weight tensor shaped like a dense layer's (out × in)
        using var g = new torch.Generator(20240607);
        using var t = torch.empty(c.FanOut, c.FanIn, dtype: ScalarType.Float64);

        // When
        Initializers.Fill(t, c.Spec, g, c.FanIn, c.FanOut);

        // Then the sample moments match the formula (1e6 draws: 2% is > 10 standard errors for both)
        double mean = t.mean().item<double>();
        double variance = (t - mean).square().mean().item<double>();
        double std = Math.Sqrt(c.Variance);
        Assert.True(Math.Abs(mean - c.Mean) <= 0.02 * std, $"{c.Label}: mean {mean:G6}, expected {c.Mean:G6} within 2% of std {std:G6}");
        Assert.True(Math.Abs(variance / c.Variance - 1.0) <= 0.02, $"{c.Label}: variance {variance:G6}, expected {c.Variance:G6} within 2% relative");
        if (c.Bound is { } bound)
        {
            double widest = (t - c.Mean).abs().max().item<double>();
            Assert.True(widest <= bound * (1 + 1e-12), $"{c.Label}: a draw lies {widest:G6} from the mean, bound {bound:G6}");
            // The bound is tight: a million draws come within 1% of it.
            Assert.True(widest >= 0.99 * bound, $"{c.Label}: widest draw {widest:G6} is far inside the bound {bound:G6}");
        }
    }

    [Fact]
    public void Zeros_and_constant_fill_the_tensor_in_place()
    {
        // Given a tensor full of ones
        using var g = new torch.Generator(1);
        using var t = torch.ones(4, 3, dtype: ScalarType.Float64);

        // When / Then
        Initializers.Fill(t, InitializerSpec.Zeros, g, 3, 4);
        Assert.Equal(0.0, t.abs().max().item<double>());
        Initializers.Fill(t, new InitializerSpec(InitializerKind.Constant, Value: 0.25), g, 3, 4);
        Assert.True(t.eq(0.25).all().item<bool>());
    }

    [Theory]
    [InlineData("glorot_uniform")]
    [InlineData("he_normal")]
    [InlineData("truncated_normal")]
    [InlineData("torch")]
    public void The_same_seed_gives_identical_weights_and_another_seed_different_ones(string name)
    {
        // Given
        var spec = new InitializerSpec(Initializers.Parse(name));
        using var a = torch.empty(50, 40, dtype: ScalarType.Float64);
        using var b = torch.empty(50, 40, dtype: ScalarType.Float64);
        using var c = torch.empty(50, 40, dtype: ScalarType.Float64);

        // When
        using (var g = new torch.Generator(7)) Initializers.Fill(a, spec, g, 40, 50);
        torch.random.manual_seed(999); // the global generator must play no part
        using (var g = new torch.Generator(7)) Initializers.Fill(b, spec, g, 40, 50);
        using (var g = new torch.Generator(8)) Initializers.Fill(c, spec, g, 40, 50);

        // Then
        Assert.True(Same.Values(a, b), $"{name}: same seed gave different weights");
        Assert.False(Same.Values(a, c), $"{name}: different seeds gave the same weights");
    }

    [Fact]
    public void A_network_built_twice_from_the_same_seed_has_identical_parameters_and_buffers()
    {
        // Given a network with every kind of stage, and the global generator disturbed between builds
        var spec = NetworkSpec.Dense(3, new[] { 16, 8 }, 2, Activation.Tanh, dropout: 0.1, batchNorm: new BatchNormSpec()) with
        {
            BiasInitializer = new InitializerSpec(InitializerKind.RandomNormal),
            Precision = Precision.Float64,
        };

        // When
        torch.random.manual_seed(1);
        using var g1 = new torch.Generator(42);
        using var first = new Network(spec, g1);
        torch.random.manual_seed(2);
        using var g2 = new torch.Generator(42);
        using var second = new Network(spec, g2);
        using var g3 = new torch.Generator(43);
        using var third = new Network(spec, g3);

        // Then
        var p1 = first.named_parameters().ToList();
        var p2 = second.named_parameters().ToList();
        Assert.Equal(p1.Select(p => p.name), p2.Select(p => p.name));
        Assert.All(p1.Zip(p2), pair => Assert.True(Same.Values(pair.First.parameter, pair.Second.parameter), $"{pair.First.name} differs"));
        Assert.All(first.named_buffers().Zip(second.named_buffers()), pair => Assert.True(Same.Values(pair.First.buffer, pair.Second.buffer), $"{pair.First.name} differs"));
        Assert.False(Same.Values(first.named_parameters().First().parameter, third.named_parameters().First().parameter), "another seed gave the same dense_1.weight");
    }

    [Fact]
    public void Default_zero_biases_are_exactly_zero_whatever_the_global_generator()
    {
        // Given the default bias initializer (zeros); nn.Linear's own init draws biases from the global generator first
        torch.random.manual_seed(5);
        using var g = new torch.Generator(3);

        // When
        using var net = new Network(NetworkSpec.Dense(3, new[] { 5 }, 2), g);

        // Then
        foreach (var (name, p) in net.named_parameters().Where(p => p.name.EndsWith("bias")))
            Assert.True(p.abs().max().item<float>() == 0f, $"{name} is not zero");
    }

    [Theory]
    [InlineData("he_normal", InitializerKind.HeNormal)]
    [InlineData(" Xavier_Uniform ", InitializerKind.GlorotUniform)]
    [InlineData("kaiming_uniform", InitializerKind.HeUniform)]
    public void Parse_accepts_keras_and_pytorch_names(string name, InitializerKind expected)
    {
        Assert.Equal(expected, Initializers.Parse(name));
    }

    [Fact]
    public void Parse_of_an_unknown_name_lists_the_valid_names()
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => Initializers.Parse("glorot_gaussian"));

        // Then
        Assert.Contains("glorot_gaussian", e.Message);
        Assert.All(Initializers.Names, n => Assert.Contains(n, e.Message));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Every_listed_name_parses_and_every_kind_has_a_name_that_parses_back()
    {
        Assert.All(Initializers.Names, n => Initializers.Parse(n));
        Assert.All(Enum.GetValues<InitializerKind>(), k => Assert.Equal(k, Initializers.Parse(k.Name())));
    }

    [Theory]
    [InlineData(InitializerKind.RandomNormal, 0.0)]
    [InlineData(InitializerKind.TruncatedNormal, -1.0)]
    public void A_non_positive_std_is_rejected(InitializerKind kind, double std)
    {
        using var g = new torch.Generator(1);
        using var t = torch.empty(2, 2, dtype: ScalarType.Float64);
        var e = Assert.Throws<ArgumentException>(() => Initializers.Fill(t, new InitializerSpec(kind, Std: std), g, 2, 2));
        Assert.Contains("std", e.Message);
    }

    [Fact]
    public void Random_uniform_with_min_not_below_max_and_variance_scaling_with_scale_zero_are_rejected()
    {
        using var g = new torch.Generator(1);
        using var t = torch.empty(2, 2, dtype: ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => Initializers.Fill(t, new InitializerSpec(InitializerKind.RandomUniform, Min: 1, Max: 1), g, 2, 2));
        Assert.Throws<ArgumentException>(() => Initializers.Fill(t, new InitializerSpec(InitializerKind.VarianceScaling, Scale: 0), g, 2, 2));
    }
}
