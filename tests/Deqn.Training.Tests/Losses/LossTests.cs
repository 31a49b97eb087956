using Deqn.Training.Losses;
using TorchSharp;

namespace Deqn.Training.Tests.Losses;

public sealed class LossTests
{
    private static double Value(LossKind kind, double[] prediction, double[] target, double delta = 1.0)
    {
        using var p = torch.tensor(prediction, prediction.Length, 1, dtype: torch.ScalarType.Float64);
        using var t = torch.tensor(target, target.Length, 1, dtype: torch.ScalarType.Float64);
        using var loss = Deqn.Training.Losses.Losses.Compute(kind, p, t, delta);
        return loss.item<double>();
    }

    [Fact]
    public void Mse_is_the_mean_squared_error()
    {
        // Given errors 1, -2, 0 → (1 + 4 + 0)/3
        // When / Then (relative tolerance 1e-15)
        Assert.Equal(5.0 / 3, Value(LossKind.Mse, [2, 0, 5], [1, 2, 5]), 1e-15);
    }

    [Fact]
    public void Mae_is_the_mean_absolute_error()
    {
        // Given errors 1, -2, 0 → 3/3
        // When / Then
        Assert.Equal(1.0, Value(LossKind.Mae, [2, 0, 5], [1, 2, 5]), 1e-15);
    }

    [Fact]
    public void Huber_is_quadratic_inside_delta_and_linear_outside()
    {
        // Given delta 1: error 0.5 → 0.5·0.25 = 0.125; error −3 → 1·(3 − 0.5) = 2.5
        // When
        double inside = Value(LossKind.Huber, [1.5], [1.0]);
        double outside = Value(LossKind.Huber, [-2.0], [1.0]);
        double mean = Value(LossKind.Huber, [1.5, -2.0], [1.0, 1.0]);
        // Delta 2: error 3 → 2·(3 − 1) = 4; error 1.5 → 0.5·2.25 = 1.125
        double wide = Value(LossKind.Huber, [4.0, 2.5], [1.0, 1.0], delta: 2.0);

        // Then (relative tolerance 1e-15)
        Assert.Equal(0.125, inside, 1e-15);
        Assert.Equal(2.5, outside, 1e-15);
        Assert.Equal((0.125 + 2.5) / 2, mean, 1e-15);
        Assert.Equal((4.0 + 1.125) / 2, wide, 1e-15);
    }

    [Fact]
    public void Cross_entropy_is_the_mean_negative_log_softmax_of_the_true_class()
    {
        // Given logits for 3 rows and 4 classes
        double[][] logits = [[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 0.0, 0.0], [3.0, -2.0, 1.0, 10.0]];
        long[] classes = [1, 2, 3];
        using var p = torch.tensor(logits.SelectMany(r => r).ToArray(), 3, 4, dtype: torch.ScalarType.Float64);
        using var t = torch.tensor(classes);

        // When
        using var loss = Deqn.Training.Losses.Losses.Compute(LossKind.CrossEntropy, p, t);

        // Then it matches log-sum-exp computed by hand (relative tolerance 1e-14)
        double expected = logits.Select((row, i) =>
        {
            double max = row.Max();
            double logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            return logSumExp - row[classes[i]];
        }).Average();
        Assert.Equal(expected, loss.item<double>(), 1e-14 * expected);
    }

    [Fact]
    public void Mismatched_regression_shapes_are_rejected_instead_of_broadcast()
    {
        // Given [3, 1] predictions against [3] targets, which broadcasting would turn into a 3×3 comparison
        using var p = torch.zeros(3, 1);
        using var t = torch.zeros(3);

        // When
        var e = Assert.Throws<ArgumentException>(() => Deqn.Training.Losses.Losses.Compute(LossKind.Mse, p, t));

        // Then
        Assert.Equal("mse: prediction [3, 1] and target [3] must have the same shape", e.Message);
    }

    [Fact]
    public void Cross_entropy_needs_int64_class_indices()
    {
        // Given
        using var p = torch.zeros(3, 2);
        using var t = torch.zeros(3);

        // When / Then
        Assert.Throws<ArgumentException>(() => Deqn.Training.Losses.Losses.Compute(LossKind.CrossEntropy, p, t));
    }

    [Theory]
    [InlineData("mse", LossKind.Mse)]
    [InlineData("MAE", LossKind.Mae)]
    [InlineData("huber", LossKind.Huber)]
    [InlineData("cross_entropy", LossKind.CrossEntropy)]
    [InlineData("crossentropy", LossKind.CrossEntropy)]
    [InlineData("ce", LossKind.CrossEntropy)]
    public void Names_parse_to_kinds(string name, LossKind kind) => Assert.Equal(kind, Deqn.Training.Losses.Losses.Parse(name));

    [Fact]
    public void An_unknown_loss_lists_the_valid_names()
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => Deqn.Training.Losses.Losses.Parse("hinge"));

        // Then
        Assert.Equal("unknown loss 'hinge' (valid: mse, mae, huber, cross_entropy)", e.Message);
    }
}
