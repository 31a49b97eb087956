using Deqn.Training.Initialization;

namespace Deqn.Training.Networks;

/// <summary>
/// The part of a network that does not follow from the task: hidden layers (width, activation, dropout, batch norm),
/// weight and bias initializers and precision. Supervised fits, function-approximation studies and DEQN solves share
/// it; the inputs, outputs and output activation come from the data or the model (<see cref="For"/>).
/// </summary>
/// <remarks>Two bodies are equal when their layers are equal one by one (not only when they share the list).</remarks>
public sealed record NetworkBodySpec
{
    public IReadOnlyList<LayerSpec> Hidden { get; init; } = [new(64), new(64)];
    public InitializerSpec WeightInitializer { get; init; } = InitializerSpec.GlorotUniform;
    public InitializerSpec BiasInitializer { get; init; } = InitializerSpec.Zeros;
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>The full network: this body between <paramref name="inputs"/> inputs and <paramref name="outputs"/> outputs.</summary>
    public NetworkSpec For(int inputs, int outputs, Activation outputActivation = Activation.Linear) => new()
    {
        Inputs = inputs,
        Hidden = Hidden,
        Outputs = outputs,
        OutputActivation = outputActivation,
        WeightInitializer = WeightInitializer,
        BiasInitializer = BiasInitializer,
        Precision = Precision,
    };

    public bool Equals(NetworkBodySpec? other) =>
        other is not null && Hidden.SequenceEqual(other.Hidden) && WeightInitializer == other.WeightInitializer
        && BiasInitializer == other.BiasInitializer && Precision == other.Precision;

    public override int GetHashCode() =>
        HashCode.Combine(Hidden.Count, Hidden.Count > 0 ? Hidden[0] : null, WeightInitializer, BiasInitializer, Precision);
}
