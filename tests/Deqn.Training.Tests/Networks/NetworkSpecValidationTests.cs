using Deqn.Training.Networks;
using TorchSharp;

namespace Deqn.Training.Tests.Networks;

public sealed class NetworkSpecValidationTests
{
    private static NetworkSpec WithSecondLayer(LayerSpec bad) => new()
    {
        Inputs = 3,
        Hidden = new[] { new LayerSpec(8), bad, new LayerSpec(8) },
        Outputs = 1,
    };

    public static TheoryData<string, LayerSpec, string> BadLayers() => new()
    {
        { "width 0", new LayerSpec(0), "width" },
        { "dropout 1.0", new LayerSpec(8, Dropout: 1.0), "dropout" },
        { "dropout -0.1", new LayerSpec(8, Dropout: -0.1), "dropout" },
        { "dropout NaN", new LayerSpec(8, Dropout: double.NaN), "dropout" },
        { "softmax hidden", new LayerSpec(8, Activation.Softmax), "softmax" },
        { "batch-norm momentum 1", new LayerSpec(8, BatchNorm: new BatchNormSpec(Momentum: 1.0)), "momentum" },
        { "batch-norm momentum -0.5", new LayerSpec(8, BatchNorm: new BatchNormSpec(Momentum: -0.5)), "momentum" },
        { "batch-norm epsilon 0", new LayerSpec(8, BatchNorm: new BatchNormSpec(Epsilon: 0)), "epsilon" },
    };

    [Theory]
    [MemberData(nameof(BadLayers))]
    public void An_invalid_hidden_layer_gives_a_one_line_argument_exception_naming_the_layer(string label, LayerSpec bad, string field)
    {
        // Given a spec whose second hidden layer is invalid
        var spec = WithSecondLayer(bad);

        // When
        var e = Assert.Throws<ArgumentException>(spec.Validate);

        // Then
        Assert.Contains("hidden layer 2", e.Message);
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(string.IsNullOrWhiteSpace(label));
    }

    [Fact]
    public void Building_a_network_from_an_invalid_spec_throws_before_allocating()
    {
        using var g = new torch.Generator(1);
        var e = Assert.Throws<ArgumentException>(() => new Network(WithSecondLayer(new LayerSpec(0)), g));
        Assert.Contains("hidden layer 2", e.Message);
    }

    [Theory]
    [InlineData(0, 1, "inputs")]
    [InlineData(3, 0, "outputs")]
    public void Zero_inputs_or_outputs_are_rejected(int inputs, int outputs, string field)
    {
        var spec = NetworkSpec.Dense(inputs, new[] { 4 }, outputs);
        var e = Assert.Throws<ArgumentException>(spec.Validate);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void A_valid_spec_including_one_without_hidden_layers_passes()
    {
        NetworkSpec.Dense(3, new[] { 64, 64 }, 1, Activation.Relu, 0.5, new BatchNormSpec(0.0)).Validate();
        NetworkSpec.Dense(3, Array.Empty<int>(), 2) .Validate();
    }

    [Theory]
    [InlineData("SiLU", Activation.Swish)]
    [InlineData(" identity ", Activation.Linear)]
    [InlineData("gelu", Activation.Gelu)]
    public void Activation_names_parse_case_insensitively_with_aliases(string name, Activation expected)
    {
        Assert.Equal(expected, Activations.Parse(name));
    }

    [Fact]
    public void An_unknown_activation_name_lists_the_valid_names()
    {
        // When
        var e = Assert.Throws<ArgumentException>(() => Activations.Parse("leaky_relu"));

        // Then
        Assert.Contains("leaky_relu", e.Message);
        Assert.All(Activations.Names, n => Assert.Contains(n, e.Message));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Every_activation_has_a_name_that_parses_back()
    {
        Assert.All(Enum.GetValues<Activation>(), a => Assert.Equal(a, Activations.Parse(a.Name())));
        Assert.All(Activations.Names, n => Activations.Parse(n));
    }
}
