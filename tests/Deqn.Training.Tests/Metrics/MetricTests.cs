using Deqn.Training.Metrics;

namespace Deqn.Training.Tests.Metrics;

public sealed class MetricRegressionTests
{
    private static double[,] Column(params double[] v)
    {
        var x = new double[v.Length, 1];
        for (int i = 0; i < v.Length; i++) x[i, 0] = v[i];
        return x;
    }

    [Fact]
    public void A_perfect_predictor_has_no_error_and_r2_of_one()
    {
        // Given
        var actual = new double[,] { { 1, 10 }, { 2, 30 }, { 4, 20 } };

        // When
        var m = RegressionMetrics.Compute(actual, actual);

        // Then
        Assert.Equal(new RegressionMetrics(0, 0, 0, 0, 1), m);
    }

    [Fact]
    public void Predicting_the_mean_gives_r2_of_zero()
    {
        // Given actual 1..4 (mean 2.5, errors ±1.5, ±0.5)
        var actual = Column(1, 2, 3, 4);

        // When
        var m = RegressionMetrics.Compute(Column(2.5, 2.5, 2.5, 2.5), actual);

        // Then (relative tolerance 1e-15)
        Assert.Equal(0.0, m.R2, 1e-15);
        Assert.Equal(1.25, m.Mse, 1e-15);
        Assert.Equal(1.0, m.Mae, 1e-15);
        Assert.Equal(1.5, m.MaxAbsError, 1e-15);
    }

    [Fact]
    public void Known_errors_give_known_metrics()
    {
        // Given one error of 1 among four rows: SSres 1, SStot 5
        // When
        var m = RegressionMetrics.Compute(Column(1, 2, 3, 5), Column(1, 2, 3, 4));

        // Then (relative tolerance 1e-15)
        Assert.Equal(0.25, m.Mse, 1e-15);
        Assert.Equal(0.5, m.Rmse, 1e-15);
        Assert.Equal(0.25, m.Mae, 1e-15);
        Assert.Equal(1.0, m.MaxAbsError, 1e-15);
        Assert.Equal(0.8, m.R2, 1e-15);
    }

    [Fact]
    public void R2_is_the_uniform_average_over_outputs_with_constant_columns_scored_one_or_zero()
    {
        // Given column 1 with R² 0.8; column 2 constant and predicted exactly (1); column 3 constant and missed (0)
        var actual = new double[,] { { 1, 7, 3 }, { 2, 7, 3 }, { 3, 7, 3 }, { 4, 7, 3 } };
        var predicted = new double[,] { { 1, 7, 3 }, { 2, 7, 3 }, { 3, 7, 3 }, { 5, 7, 4 } };

        // When
        var m = RegressionMetrics.Compute(predicted, actual);

        // Then (relative tolerance 1e-15): R² = (0.8 + 1 + 0)/3; MSE over all 12 elements
        Assert.Equal((0.8 + 1 + 0) / 3, m.R2, 1e-15);
        Assert.Equal(2.0 / 12, m.Mse, 1e-15);
    }

    [Fact]
    public void The_dictionary_has_the_documented_keys()
    {
        // Given / When
        var d = RegressionMetrics.Compute(Column(1, 2), Column(1, 3)).ToDictionary();

        // Then
        Assert.Equal(new[] { "mse", "rmse", "mae", "max_abs_error", "r2" }, d.Keys);
        Assert.Equal(0.5, d["mse"]);
    }

    [Fact]
    public void Shapes_must_match()
    {
        // Given / When / Then
        Assert.Throws<ArgumentException>(() => RegressionMetrics.Compute(Column(1, 2), Column(1, 2, 3)));
    }
}

public sealed class MetricClassificationTests
{
    [Fact]
    public void A_known_confusion_matrix_and_accuracy()
    {
        // Given 3 classes: actual 0,0,1,1,1,2 predicted 0,1,1,1,2,2
        int[] actual = [0, 0, 1, 1, 1, 2];
        int[] predicted = [0, 1, 1, 1, 2, 2];

        // When
        var m = ClassificationMetrics.Compute(predicted, actual, 3);

        // Then rows are actual classes, columns predicted ones
        Assert.Equal(new[,] { { 1, 1, 0 }, { 0, 2, 1 }, { 0, 0, 1 } }, m.ConfusionMatrix);
        Assert.Equal(4.0 / 6, m.Accuracy, 1e-15);
        Assert.Equal(new[] { "accuracy" }, m.ToDictionary().Keys);
    }

    [Fact]
    public void Per_class_accuracy_is_each_rows_diagonal_share_and_nan_without_examples()
    {
        // Given 4 classes: actual 0,0,1,1,1,2 predicted 0,1,1,1,2,2 (class 3 never occurs)
        var m = ClassificationMetrics.Compute([0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 2], 4);
        var rows = m.PerClass();
        // Then class 0: 1 of 2, class 1: 2 of 3, class 2: 1 of 1, class 3: no examples
        Assert.Equal((2, 1, 0.5), rows[0]);
        Assert.Equal((3, 2, 2.0 / 3), rows[1]);
        Assert.Equal((1, 1, 1.0), rows[2]);
        Assert.Equal(0, rows[3].Support);
        Assert.True(double.IsNaN(rows[3].Accuracy));
    }

    [Fact]
    public void The_confusion_matrix_prints_as_an_aligned_table()
    {
        // Given
        var m = ClassificationMetrics.Compute([0, 1, 1, 1], [0, 0, 1, 1], 2);

        // When
        string text = m.FormatConfusionMatrix(["cat", "elephant"]);

        // Then
        string expected = string.Join(Environment.NewLine,
            "actual \\ predicted       cat  elephant",
            "cat                        1         1",
            "elephant                   0         2");
        Assert.Equal(expected, text);
    }

    [Fact]
    public void A_class_index_outside_the_range_is_rejected()
    {
        // Given / When / Then
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute([0, 3], [0, 1], 3));
    }
}
