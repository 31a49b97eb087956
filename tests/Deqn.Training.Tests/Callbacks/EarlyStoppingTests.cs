using Deqn.Training.Callbacks;
using Deqn.Training.Loop;
using TorchSharp;

namespace Deqn.Training.Tests.Callbacks;

public sealed class EarlyStoppingTests
{
    private static TrainingContext Context() => new(torch.nn.Linear(1, 1), null, 100);

    private static int? StopEpoch(ICallback callback, TrainingContext context, IEnumerable<double> valLosses)
    {
        callback.OnTrainBegin(context);
        int epoch = 0;
        foreach (var v in valLosses)
        {
            epoch++;
            context.Advance(epoch, new Dictionary<string, double> { ["val_loss"] = v });
            callback.OnEpochEnd(context);
            if (context.StopRequested is not null) return epoch;
        }
        return null;
    }

    [Fact]
    public void It_stops_after_patience_epochs_without_improvement()
    {
        // Given the best value at epoch 3 and patience 2
        var early = new EarlyStopping("val_loss", patience: 2, restoreBestWeights: false);

        // When
        var stop = StopEpoch(early, Context(), new[] { 5.0, 4.0, 3.0, 3.5, 3.2, 1.0 });

        // Then two epochs without improvement (4 and 5) end training at epoch 5
        Assert.Equal(5, stop);
        Assert.Equal(3.0, early.Best);
        Assert.Equal(3, early.BestEpoch);
    }

    [Fact]
    public void Changes_smaller_than_min_delta_do_not_count_as_improvement()
    {
        var early = new EarlyStopping("val_loss", patience: 2, minDelta: 0.1, restoreBestWeights: false);
        var stop = StopEpoch(early, Context(), new[] { 1.0, 0.95, 0.92, 0.5 });
        Assert.Equal(3, stop);
        Assert.Equal(1.0, early.Best);
    }

    [Fact]
    public void In_max_mode_larger_is_better_and_accuracy_is_detected_automatically()
    {
        var early = new EarlyStopping("val_accuracy", patience: 1, restoreBestWeights: false);
        var context = Context();
        early.OnTrainBegin(context);
        var seq = new[] { 0.5, 0.7, 0.6 };
        int? stop = null;
        for (int i = 0; i < seq.Length && stop is null; i++)
        {
            context.Advance(i + 1, new Dictionary<string, double> { ["val_accuracy"] = seq[i] });
            early.OnEpochEnd(context);
            if (context.StopRequested is not null) stop = i + 1;
        }
        Assert.Equal(MonitorMode.Max, early.Monitor.Mode);
        Assert.Equal(3, stop);
        Assert.Equal(0.7, early.Best);
    }

    [Fact]
    public void One_instance_can_be_reused_because_it_resets_when_training_begins()
    {
        var early = new EarlyStopping("val_loss", patience: 1, restoreBestWeights: false);
        Assert.Equal(2, StopEpoch(early, Context(), new[] { 1.0, 2.0 }));
        Assert.Equal(3, StopEpoch(early, Context(), new[] { 9.0, 8.0, 8.5 }));
        Assert.Equal(8.0, early.Best);
    }

    [Fact]
    public void A_missing_monitored_metric_is_a_clear_error()
    {
        var early = new EarlyStopping("val_rmse");
        var context = Context();
        early.OnTrainBegin(context);
        context.Advance(1, new Dictionary<string, double> { ["loss"] = 1 });
        var e = Assert.Throws<InvalidOperationException>(() => early.OnEpochEnd(context));
        Assert.Contains("val_rmse", e.Message);
        Assert.Contains("loss", e.Message);
    }
}

public sealed class ReduceOnPlateauTests
{
    [Fact]
    public void It_reduces_the_learning_rate_after_patience_epochs_and_waits_out_the_cooldown()
    {
        // Given patience 2, cooldown 1 and a loss that never improves after epoch 1
        var plateau = new ReduceLearningRateOnPlateau("val_loss", factor: 0.5, patience: 2, minDelta: 0, cooldown: 1);
        var context = new TrainingContext(torch.nn.Linear(1, 1), null, 100);
        plateau.OnTrainBegin(context);

        // When
        for (int epoch = 1; epoch <= 8; epoch++)
        {
            context.Advance(epoch, new Dictionary<string, double> { ["val_loss"] = epoch == 1 ? 1.0 : 2.0 });
            plateau.OnEpochEnd(context);
        }

        // Then: epochs 2,3 wait → reduce at 3; epoch 4 is cooldown; 5,6 wait → reduce at 6; 7 cooldown; 8 waits
        Assert.Equal(new[] { 3, 6 }, plateau.Reductions);
        Assert.Equal(0.25, context.LearningRateFactor, 12);
    }

    [Fact]
    public void An_improvement_resets_the_wait()
    {
        var plateau = new ReduceLearningRateOnPlateau("val_loss", factor: 0.1, patience: 2, minDelta: 0);
        var context = new TrainingContext(torch.nn.Linear(1, 1), null, 100);
        plateau.OnTrainBegin(context);
        double[] seq = { 1.0, 1.1, 0.9, 1.0, 1.0 };
        for (int i = 0; i < seq.Length; i++)
        {
            context.Advance(i + 1, new Dictionary<string, double> { ["val_loss"] = seq[i] });
            plateau.OnEpochEnd(context);
        }
        Assert.Equal(new[] { 5 }, plateau.Reductions);
    }
}
