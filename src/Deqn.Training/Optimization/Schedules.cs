namespace Deqn.Training.Optimization;

public enum ScheduleKind { Constant, Step, Exponential, Cosine }

/// <summary>
/// A learning-rate schedule as data; e is the fractional epoch (step / stepsPerEpoch) and lr the base rate:
/// <code>
/// constant     lr
/// step         lr·Gamma^floor(e / StepEvery)
/// exponential  lr·Gamma^(e / DecayEpochs)
/// cosine       Min + (lr − Min)·(1 + cos(π·min(e, T)/T))/2,  T = CosineEpochs, Min = MinLearningRate
/// warm-up      lr·e/W for e &lt; W = WarmupEpochs, then the schedule at e − W (on top of any kind)
/// </code>
/// Warm-up starts from 0 at e = 0 (like Hugging Face's linear warm-up); evaluated at step/stepsPerEpoch, the first step
/// of training therefore uses lr 0 and the rate reaches lr·(fraction of the warm-up done) after that.
/// </summary>
public sealed record ScheduleSpec(ScheduleKind Kind = ScheduleKind.Constant)
{
    /// <summary>Epochs between decays, for Step.</summary>
    public double StepEvery { get; init; } = 10;
    /// <summary>Factor per StepEvery epochs for Step; per DecayEpochs epochs for Exponential.</summary>
    public double Gamma { get; init; } = 0.5;
    /// <summary>For Exponential: lr·Gamma^(epoch/DecayEpochs).</summary>
    public double DecayEpochs { get; init; } = 10;
    /// <summary>For Cosine: epochs from lr down to MinLearningRate, which is held afterwards.</summary>
    public double CosineEpochs { get; init; } = 100;
    public double MinLearningRate { get; init; } = 0;
    /// <summary>Epochs of linear warm-up from 0 to lr before the schedule starts.</summary>
    public double WarmupEpochs { get; init; } = 0;

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line message naming the first bad option.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"unknown schedule kind {(int)Kind}");
        if (Kind == ScheduleKind.Step && !(StepEvery > 0 && double.IsFinite(StepEvery))) throw Bad("step-every epochs must be > 0", StepEvery);
        if (Kind is ScheduleKind.Step or ScheduleKind.Exponential && !(Gamma > 0 && double.IsFinite(Gamma))) throw Bad("gamma must be > 0", Gamma);
        if (Kind == ScheduleKind.Exponential && !(DecayEpochs > 0 && double.IsFinite(DecayEpochs))) throw Bad("decay epochs must be > 0", DecayEpochs);
        if (Kind == ScheduleKind.Cosine)
        {
            if (!(CosineEpochs > 0 && double.IsFinite(CosineEpochs))) throw Bad("cosine epochs must be > 0", CosineEpochs);
            if (!(MinLearningRate >= 0 && double.IsFinite(MinLearningRate))) throw Bad("minimum learning rate must be >= 0", MinLearningRate);
        }
        if (!(WarmupEpochs >= 0 && double.IsFinite(WarmupEpochs))) throw Bad("warm-up epochs must be >= 0", WarmupEpochs);
    }

    private static ArgumentException Bad(string what, double got) => new($"{what} (got {OptimizerSpec.Format(got)})");
}

public interface ILearningRateSchedule
{
    /// <summary>The learning rate at a fractional epoch (step / stepsPerEpoch), epoch ≥ 0.</summary>
    double At(double epoch);
}

public static class Schedules
{
    public static readonly IReadOnlyDictionary<string, ScheduleKind> ByName = new Dictionary<string, ScheduleKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["constant"] = ScheduleKind.Constant, ["none"] = ScheduleKind.Constant, ["step"] = ScheduleKind.Step,
        ["exponential"] = ScheduleKind.Exponential, ["exp"] = ScheduleKind.Exponential, ["cosine"] = ScheduleKind.Cosine,
    };

    public static IEnumerable<string> Names => new[] { "constant", "step", "exponential", "cosine" };

    public static ScheduleKind Parse(string name) =>
        ByName.TryGetValue(name.Trim(), out var kind)
            ? kind
            : throw new ArgumentException($"unknown schedule '{name}' (valid: {string.Join(", ", Names)})");

    public static ILearningRateSchedule Create(ScheduleSpec spec, double baseLearningRate)
    {
        spec.Validate();
        if (!(baseLearningRate >= 0 && double.IsFinite(baseLearningRate))) throw new ArgumentException($"learning rate must be >= 0 (got {OptimizerSpec.Format(baseLearningRate)})");
        if (spec.Kind == ScheduleKind.Cosine && spec.MinLearningRate > baseLearningRate)
            throw new ArgumentException($"minimum learning rate must be <= the learning rate (got {OptimizerSpec.Format(spec.MinLearningRate)} > {OptimizerSpec.Format(baseLearningRate)})");
        return new Schedule(spec, baseLearningRate);
    }

    private sealed class Schedule(ScheduleSpec spec, double lr) : ILearningRateSchedule
    {
        public double At(double epoch)
        {
            if (!(epoch >= 0 && double.IsFinite(epoch))) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "epoch must be >= 0");
            double w = spec.WarmupEpochs;
            // Every kind starts at lr, so the warm-up ramp meets the schedule without a jump.
            if (epoch < w) return lr * epoch / w;
            double e = epoch - w;
            return spec.Kind switch
            {
                ScheduleKind.Constant => lr,
                ScheduleKind.Step => lr * Math.Pow(spec.Gamma, Math.Floor(e / spec.StepEvery)),
                ScheduleKind.Exponential => lr * Math.Pow(spec.Gamma, e / spec.DecayEpochs),
                ScheduleKind.Cosine => spec.MinLearningRate + (lr - spec.MinLearningRate) * (1 + Math.Cos(Math.PI * Math.Min(e, spec.CosineEpochs) / spec.CosineEpochs)) / 2,
                _ => throw new InvalidOperationException(),
            };
        }
    }
}
