namespace Deqn.Training.Initialization;

public enum InitializerKind
{
    Zeros,
    Constant,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
    /// <summary>PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.</summary>
    Torch,
}

public enum FanMode { FanIn, FanOut, FanAvg }

public enum Distribution { Normal, TruncatedNormal, Uniform }

/// <summary>
/// How to fill a weight or bias tensor. Conventions follow Keras: Glorot, He and LeCun "normal" draw from a
/// normal truncated at two standard deviations, rescaled so that the variance is exactly scale/fan.
/// </summary>
/// <param name="Kind">Which initializer.</param>
/// <param name="Mean">Mean for RandomNormal and TruncatedNormal.</param>
/// <param name="Std">Standard deviation for RandomNormal and TruncatedNormal (Keras default 0.05).</param>
/// <param name="Min">Lower bound for RandomUniform.</param>
/// <param name="Max">Upper bound for RandomUniform.</param>
/// <param name="Scale">Scale for VarianceScaling: the target variance is Scale / fan.</param>
/// <param name="Mode">Which fan VarianceScaling divides by.</param>
/// <param name="Distribution">Which distribution VarianceScaling draws from.</param>
/// <param name="Value">The value for Constant.</param>
public sealed record InitializerSpec(
    InitializerKind Kind,
    double Mean = 0.0,
    double Std = 0.05,
    double Min = -0.05,
    double Max = 0.05,
    double Scale = 1.0,
    FanMode Mode = FanMode.FanIn,
    Distribution Distribution = Distribution.TruncatedNormal,
    double Value = 0.0)
{
    public static InitializerSpec GlorotUniform { get; } = new(InitializerKind.GlorotUniform);
    public static InitializerSpec Zeros { get; } = new(InitializerKind.Zeros);
}
