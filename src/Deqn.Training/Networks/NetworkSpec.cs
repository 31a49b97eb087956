using Deqn.Training.Initialization;

namespace Deqn.Training.Networks;

/// <summary>Batch normalization after a layer's affine map, Keras convention: running = momentum·running + (1 − momentum)·batch.</summary>
public sealed record BatchNormSpec(double Momentum = 0.99, double Epsilon = 1e-3);

/// <summary>One hidden layer: dense → (batch norm) → activation → (dropout).</summary>
public sealed record LayerSpec(int Width, Activation Activation = Activation.Tanh, double Dropout = 0.0, BatchNormSpec? BatchNorm = null);

public enum Precision { Float32, Float64 }

/// <summary>A fully connected network, described as data. <see cref="Network"/> builds it.</summary>
public sealed record NetworkSpec
{
    public required int Inputs { get; init; }
    public required IReadOnlyList<LayerSpec> Hidden { get; init; }
    public required int Outputs { get; init; }
    public Activation OutputActivation { get; init; } = Activation.Linear;
    public InitializerSpec WeightInitializer { get; init; } = InitializerSpec.GlorotUniform;
    public InitializerSpec BiasInitializer { get; init; } = InitializerSpec.Zeros;
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>The common case: the same activation, dropout and batch norm on every hidden layer.</summary>
    public static NetworkSpec Dense(int inputs, IEnumerable<int> widths, int outputs, Activation activation = Activation.Tanh,
        double dropout = 0.0, BatchNormSpec? batchNorm = null) => new()
    {
        Inputs = inputs,
        Hidden = widths.Select(w => new LayerSpec(w, activation, dropout, batchNorm)).ToArray(),
        Outputs = outputs,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (Inputs < 1) throw new ArgumentException($"network inputs must be at least 1 (got {Inputs})");
        if (Outputs < 1) throw new ArgumentException($"network outputs must be at least 1 (got {Outputs})");
        for (int i = 0; i < Hidden.Count; i++)
        {
            var l = Hidden[i];
            if (l.Width < 1) throw new ArgumentException($"hidden layer {i + 1}: width must be at least 1 (got {l.Width})");
            if (!(l.Dropout >= 0.0 && l.Dropout < 1.0)) throw new ArgumentException($"hidden layer {i + 1}: dropout must be in [0, 1) (got {l.Dropout})");
            if (l.Activation == Activation.Softmax) throw new ArgumentException($"hidden layer {i + 1}: softmax is only an output activation");
            if (l.BatchNorm is { } bn)
            {
                if (!(bn.Momentum >= 0.0 && bn.Momentum < 1.0)) throw new ArgumentException($"hidden layer {i + 1}: batch-norm momentum must be in [0, 1) (got {bn.Momentum})");
                if (!(bn.Epsilon > 0.0)) throw new ArgumentException($"hidden layer {i + 1}: batch-norm epsilon must be > 0 (got {bn.Epsilon})");
            }
        }
    }
}
