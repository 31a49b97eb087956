using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Initialization;

/// <summary>
/// Fills tensors in place from an explicit generator. TorchSharp's own nn.init.xavier_*/kaiming_* ignore a
/// per-call generator (and xavier_normal_ draws from a uniform), so every draw is written here in terms of
/// torch.rand/randn with the generator passed through; the same seed then gives the same weights.
/// </summary>
public static class Initializers
{
    /// <summary>Standard deviation of a standard normal truncated to [-2, 2] (Keras's correction constant).</summary>
    public const double TruncatedStd = 0.87962566103423978;

    public static readonly IReadOnlyDictionary<string, InitializerKind> ByName = new Dictionary<string, InitializerKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["zeros"] = InitializerKind.Zeros, ["constant"] = InitializerKind.Constant,
        ["random_normal"] = InitializerKind.RandomNormal, ["normal"] = InitializerKind.RandomNormal,
        ["random_uniform"] = InitializerKind.RandomUniform, ["uniform"] = InitializerKind.RandomUniform,
        ["truncated_normal"] = InitializerKind.TruncatedNormal,
        ["glorot_normal"] = InitializerKind.GlorotNormal, ["xavier_normal"] = InitializerKind.GlorotNormal,
        ["glorot_uniform"] = InitializerKind.GlorotUniform, ["xavier_uniform"] = InitializerKind.GlorotUniform,
        ["he_normal"] = InitializerKind.HeNormal, ["kaiming_normal"] = InitializerKind.HeNormal,
        ["he_uniform"] = InitializerKind.HeUniform, ["kaiming_uniform"] = InitializerKind.HeUniform,
        ["lecun_normal"] = InitializerKind.LecunNormal, ["lecun_uniform"] = InitializerKind.LecunUniform,
        ["variance_scaling"] = InitializerKind.VarianceScaling, ["torch"] = InitializerKind.Torch,
    };

    public static IEnumerable<string> Names => new[]
    {
        "zeros", "constant", "random_normal", "random_uniform", "truncated_normal", "glorot_normal", "glorot_uniform",
        "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "variance_scaling", "torch",
    };

    public static InitializerKind Parse(string name) =>
        ByName.TryGetValue(name.Trim(), out var k)
            ? k
            : throw new ArgumentException($"unknown initializer '{name}' (valid: {string.Join(", ", Names)})");

    public static string Name(this InitializerKind k) => k switch
    {
        InitializerKind.RandomNormal => "random_normal",
        InitializerKind.RandomUniform => "random_uniform",
        InitializerKind.TruncatedNormal => "truncated_normal",
        InitializerKind.GlorotNormal => "glorot_normal",
        InitializerKind.GlorotUniform => "glorot_uniform",
        InitializerKind.HeNormal => "he_normal",
        InitializerKind.HeUniform => "he_uniform",
        InitializerKind.LecunNormal => "lecun_normal",
        InitializerKind.LecunUniform => "lecun_uniform",
        InitializerKind.VarianceScaling => "variance_scaling",
        _ => k.ToString().ToLowerInvariant(),
    };

    /// <summary>The variance-scaling form of an initializer, or null for those that are not fan-based.</summary>
    public static (double Scale, FanMode Mode, Distribution Distribution)? AsVarianceScaling(InitializerSpec spec) => spec.Kind switch
    {
        InitializerKind.GlorotNormal => (1.0, FanMode.FanAvg, Distribution.TruncatedNormal),
        InitializerKind.GlorotUniform => (1.0, FanMode.FanAvg, Distribution.Uniform),
        InitializerKind.HeNormal => (2.0, FanMode.FanIn, Distribution.TruncatedNormal),
        InitializerKind.HeUniform => (2.0, FanMode.FanIn, Distribution.Uniform),
        InitializerKind.LecunNormal => (1.0, FanMode.FanIn, Distribution.TruncatedNormal),
        InitializerKind.LecunUniform => (1.0, FanMode.FanIn, Distribution.Uniform),
        InitializerKind.VarianceScaling => (spec.Scale, spec.Mode, spec.Distribution),
        _ => null,
    };

    /// <summary>Fills <paramref name="t"/> in place; fanIn and fanOut are those of the layer the tensor belongs to.</summary>
    public static void Fill(Tensor t, InitializerSpec spec, Generator generator, long fanIn, long fanOut)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var vs = AsVarianceScaling(spec);
        if (vs is { } v)
        {
            if (v.Scale <= 0) throw new ArgumentException($"variance scaling needs scale > 0 (got {v.Scale})");
            double fan = v.Mode switch
            {
                FanMode.FanIn => fanIn,
                FanMode.FanOut => fanOut,
                _ => (fanIn + fanOut) / 2.0,
            };
            double variance = v.Scale / Math.Max(1.0, fan);
            switch (v.Distribution)
            {
                case Distribution.Normal:
                    t.copy_(Normal(t, 0.0, Math.Sqrt(variance), generator));
                    break;
                case Distribution.TruncatedNormal:
                    t.copy_(Truncated(t, 0.0, Math.Sqrt(variance) / TruncatedStd, generator));
                    break;
                default:
                    double limit = Math.Sqrt(3.0 * variance);
                    t.copy_(Uniform(t, -limit, limit, generator));
                    break;
            }
            return;
        }

        switch (spec.Kind)
        {
            case InitializerKind.Zeros: t.zero_(); break;
            case InitializerKind.Constant: t.fill_(spec.Value); break;
            case InitializerKind.RandomNormal:
                RequirePositive(spec.Std, "std");
                t.copy_(Normal(t, spec.Mean, spec.Std, generator));
                break;
            case InitializerKind.TruncatedNormal:
                RequirePositive(spec.Std, "std");
                t.copy_(Truncated(t, spec.Mean, spec.Std, generator));
                break;
            case InitializerKind.RandomUniform:
                if (!(spec.Max > spec.Min)) throw new ArgumentException($"random_uniform needs min < max (got {spec.Min}, {spec.Max})");
                t.copy_(Uniform(t, spec.Min, spec.Max, generator));
                break;
            case InitializerKind.Torch:
                double bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
                t.copy_(Uniform(t, -bound, bound, generator));
                break;
            default: throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unhandled initializer");
        }
    }

    private static void RequirePositive(double x, string name)
    {
        if (!(x > 0)) throw new ArgumentException($"initializer {name} must be > 0 (got {x})");
    }

    private static Tensor Normal(Tensor like, double mean, double std, Generator g) =>
        torch.randn(like.shape, dtype: like.dtype, device: like.device, generator: g) * std + mean;

    private static Tensor Uniform(Tensor like, double lo, double hi, Generator g) =>
        torch.rand(like.shape, dtype: like.dtype, device: like.device, generator: g) * (hi - lo) + lo;

    /// <summary>Normal(mean, std) truncated to mean ± 2·std by redrawing the values that fall outside.</summary>
    private static Tensor Truncated(Tensor like, double mean, double std, Generator g)
    {
        var z = torch.randn(like.shape, dtype: like.dtype, device: like.device, generator: g);
        while (true)
        {
            var outside = z.abs() > 2.0;
            if (!outside.any().item<bool>()) break;
            var fresh = torch.randn(like.shape, dtype: like.dtype, device: like.device, generator: g);
            z = torch.where(outside, fresh, z);
        }
        return z * std + mean;
    }
}
