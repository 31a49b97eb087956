using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Networks;

/// <summary>Element-wise activations a layer can use. Swish is x·sigmoid(x) (PyTorch's SiLU).</summary>
public enum Activation
{
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    Swish,
    Gelu,
    Elu,
    Selu,
    Softplus,
    /// <summary>Only as an output activation for classification (probabilities over the last axis).</summary>
    Softmax,
}

public static class Activations
{
    public static readonly IReadOnlyDictionary<string, Activation> ByName = new Dictionary<string, Activation>(StringComparer.OrdinalIgnoreCase)
    {
        ["linear"] = Activation.Linear, ["identity"] = Activation.Linear, ["none"] = Activation.Linear,
        ["relu"] = Activation.Relu, ["tanh"] = Activation.Tanh, ["sigmoid"] = Activation.Sigmoid,
        ["swish"] = Activation.Swish, ["silu"] = Activation.Swish, ["gelu"] = Activation.Gelu,
        ["elu"] = Activation.Elu, ["selu"] = Activation.Selu, ["softplus"] = Activation.Softplus,
        ["softmax"] = Activation.Softmax,
    };

    public static Activation Parse(string name) =>
        ByName.TryGetValue(name.Trim(), out var a)
            ? a
            : throw new ArgumentException($"unknown activation '{name}' (valid: {string.Join(", ", Names)})");

    public static IEnumerable<string> Names => new[] { "linear", "relu", "tanh", "sigmoid", "swish", "gelu", "elu", "selu", "softplus", "softmax" };

    public static string Name(this Activation a) => a.ToString().ToLowerInvariant();

    public static Tensor Apply(this Activation a, Tensor x) => a switch
    {
        Activation.Linear => x.alias(),
        Activation.Relu => nn.functional.relu(x),
        Activation.Tanh => x.tanh(),
        Activation.Sigmoid => x.sigmoid(),
        Activation.Swish => nn.functional.silu(x),
        Activation.Gelu => nn.functional.gelu(x),
        Activation.Elu => nn.functional.elu(x, 1.0),
        Activation.Selu => nn.functional.selu(x),
        Activation.Softplus => nn.functional.softplus(x),
        Activation.Softmax => nn.functional.softmax(x, -1),
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, null),
    };
}
