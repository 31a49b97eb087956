using Deqn.Training.Optimization;

namespace Deqn.Training.Tests.Optimization;

public sealed class ScheduleTests
{
    private const double Lr = 0.1;

    public static TheoryData<ScheduleSpec, double, double> Points() => new()
    {
        // constant
        { new ScheduleSpec(), 0, Lr },
        { new ScheduleSpec(), 37.5, Lr },
        // step: lr·γ^floor(e/StepEvery)
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.5 }, 3.99, Lr },
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.5 }, 4, Lr * 0.5 },
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.5 }, 9.5, Lr * 0.25 },
        // exponential: lr·γ^(e/DecayEpochs)
        { new ScheduleSpec(ScheduleKind.Exponential) { Gamma = 0.1, DecayEpochs = 10 }, 5, Lr * Math.Pow(0.1, 0.5) },
        { new ScheduleSpec(ScheduleKind.Exponential) { Gamma = 0.1, DecayEpochs = 10 }, 20, Lr * 0.01 },
        // cosine: min + (lr − min)(1 + cos(π·min(e, T)/T))/2
        { new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = 10, MinLearningRate = 0.01 }, 0, Lr },
        { new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = 10, MinLearningRate = 0.01 }, 5, 0.01 + 0.09 * 0.5 },
        { new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = 10, MinLearningRate = 0.01 }, 2.5, 0.01 + 0.09 * (1 + Math.Sqrt(0.5)) / 2 },
        { new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = 10, MinLearningRate = 0.01 }, 25, 0.01 },
        // warm-up: lr·e/W, then the schedule shifted by W
        { new ScheduleSpec { WarmupEpochs = 2 }, 0, 0 },
        { new ScheduleSpec { WarmupEpochs = 2 }, 0.5, Lr * 0.25 },
        { new ScheduleSpec { WarmupEpochs = 2 }, 2, Lr },
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.5, WarmupEpochs = 2 }, 1.5, Lr * 0.75 },
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.5, WarmupEpochs = 2 }, 5.9, Lr },
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 4, Gamma = 0.5, WarmupEpochs = 2 }, 6, Lr * 0.5 },
        { new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = 10, WarmupEpochs = 1 }, 6, Lr * 0.5 },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public void Each_schedule_follows_its_formula(ScheduleSpec spec, double epoch, double expected)
    {
        // Given
        var schedule = Schedules.Create(spec, Lr);

        // When
        double lr = schedule.At(epoch);

        // Then (tolerance 1e-14 relative)
        Assert.True(Math.Abs(lr - expected) <= 1e-14 * Math.Abs(expected), $"{spec.Kind} at {epoch}: expected {expected:R}, got {lr:R}");
    }

    [Fact]
    public void Warm_up_rises_linearly_and_joins_the_schedule_without_a_jump()
    {
        // Given
        var schedule = Schedules.Create(new ScheduleSpec(ScheduleKind.Exponential) { Gamma = 0.5, DecayEpochs = 1, WarmupEpochs = 4 }, Lr);

        // When / Then: equal increments over the warm-up, and continuity at its end (tolerance 1e-14 relative)
        var ramp = Enumerable.Range(0, 9).Select(i => schedule.At(i * 0.5)).ToArray();
        for (int i = 1; i < ramp.Length; i++) Assert.Equal(Lr / 8, ramp[i] - ramp[i - 1], 1e-15);
        Assert.Equal(Lr, schedule.At(4), 1e-15);
        Assert.Equal(Lr, schedule.At(4 - 1e-12), 1e-12);
    }

    public static TheoryData<ScheduleSpec, string> BadSpecs() => new()
    {
        { new ScheduleSpec(ScheduleKind.Step) { StepEvery = 0 }, "step-every epochs must be > 0 (got 0)" },
        { new ScheduleSpec(ScheduleKind.Step) { Gamma = -1 }, "gamma must be > 0 (got -1)" },
        { new ScheduleSpec(ScheduleKind.Exponential) { DecayEpochs = 0 }, "decay epochs must be > 0 (got 0)" },
        { new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = -5 }, "cosine epochs must be > 0 (got -5)" },
        { new ScheduleSpec(ScheduleKind.Cosine) { MinLearningRate = -1 }, "minimum learning rate must be >= 0 (got -1)" },
        { new ScheduleSpec { WarmupEpochs = -1 }, "warm-up epochs must be >= 0 (got -1)" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Bad_schedule_options_give_a_one_line_error(ScheduleSpec spec, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(spec.Validate).Message);

    [Fact]
    public void A_cosine_floor_above_the_learning_rate_is_rejected() =>
        Assert.Equal("minimum learning rate must be <= the learning rate (got 0.5 > 0.1)",
            Assert.Throws<ArgumentException>(() => Schedules.Create(new ScheduleSpec(ScheduleKind.Cosine) { MinLearningRate = 0.5 }, Lr)).Message);

    [Theory]
    [InlineData("constant", ScheduleKind.Constant)]
    [InlineData("Step", ScheduleKind.Step)]
    [InlineData("EXPONENTIAL", ScheduleKind.Exponential)]
    [InlineData("cosine", ScheduleKind.Cosine)]
    public void Schedule_names_parse_case_insensitively(string name, ScheduleKind kind) => Assert.Equal(kind, Schedules.Parse(name));

    [Fact]
    public void An_unknown_schedule_name_lists_the_valid_ones() =>
        Assert.Equal("unknown schedule 'linear' (valid: constant, step, exponential, cosine)",
            Assert.Throws<ArgumentException>(() => Schedules.Parse("linear")).Message);
}
