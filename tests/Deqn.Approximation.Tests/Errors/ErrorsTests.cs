using CsCheck;
using Deqn.Approximation.Errors;

namespace Deqn.Approximation.Tests.Errors;

public sealed class ErrorsTests
{
    [Fact]
    public void A_perfect_predictor_has_no_error()
    {
        // Given
        double[] actual = [1, -2, 5, 0.5];

        // When
        var e = ApproximationErrors.Compute(actual, actual);

        // Then
        Assert.Equal(new ApproximationErrors(0, 0, 0, 7, 0, 0, 0), e);
    }

    [Fact]
    public void A_constant_predictor_has_the_hand_computed_errors()
    {
        // Given true values 0..3 and the prediction 1.5 everywhere: errors 1.5, 0.5, 0.5, 1.5
        double[] actual = [0, 1, 2, 3], predicted = [1.5, 1.5, 1.5, 1.5];

        // When
        var e = ApproximationErrors.Compute(predicted, actual);

        // Then (exact in binary except the square root)
        Assert.Equal(1.0, e.MeanAbs);
        Assert.Equal(1.5, e.MaxAbs);
        Assert.Equal(Math.Sqrt(1.25), e.Rmse, 1e-15);
        Assert.Equal(3.0, e.Range);
        Assert.Equal(1.0 / 3, e.RelMeanAbs, 1e-15);
        Assert.Equal(0.5, e.RelMaxAbs, 1e-15);
        Assert.Equal(Math.Sqrt(1.25) / 3, e.RelRmse, 1e-15);
    }

    [Fact]
    public void Relative_errors_are_the_absolute_ones_divided_by_the_range()
    {
        // Given any true values and predictions of the same length
        Gen.Int[1, 50].SelectMany(n => Gen.Select(Gen.Double[-1e3, 1e3].Array[n], Gen.Double[-1e3, 1e3].Array[n]))
            .Sample((actual, predicted) =>
            {
                // When
                var e = ApproximationErrors.Compute(predicted, actual);

                // Then
                double scale = e.Range == 0 ? 1 : e.Range;
                Assert.Equal(actual.Max() - actual.Min(), e.Range);
                Assert.Equal(e.MeanAbs / scale, e.RelMeanAbs, 1e-12);
                Assert.Equal(e.MaxAbs / scale, e.RelMaxAbs, 1e-12);
                Assert.Equal(e.Rmse / scale, e.RelRmse, 1e-12);
                Assert.True(e.MeanAbs <= e.Rmse * (1 + 1e-12) && e.Rmse <= e.MaxAbs * (1 + 1e-12));
            }, iter: 200);
    }

    [Fact]
    public void A_constant_target_divides_by_one()
    {
        // Given
        double[] actual = [2, 2, 2], predicted = [2, 3, 1];

        // When
        var e = ApproximationErrors.Compute(predicted, actual);

        // Then
        Assert.Equal(0.0, e.Range);
        Assert.Equal(e.MeanAbs, e.RelMeanAbs);
        Assert.Equal(e.MaxAbs, e.RelMaxAbs);
        Assert.Equal(e.Rmse, e.RelRmse);
    }

    [Fact]
    public void A_NaN_prediction_makes_the_errors_NaN()
    {
        // Given / When
        var e = ApproximationErrors.Compute([1, double.NaN], [1, 2]);

        // Then
        Assert.True(double.IsNaN(e.MeanAbs) && double.IsNaN(e.MaxAbs) && double.IsNaN(e.Rmse));
    }

    [Fact]
    public void Mismatched_or_empty_inputs_are_refused()
    {
        // Given / When / Then
        Assert.Equal("errors: 2 predictions for 3 true values",
            Assert.Throws<ArgumentException>(() => ApproximationErrors.Compute([1, 2], [1, 2, 3])).Message);
        Assert.Equal("errors: no values to compare",
            Assert.Throws<ArgumentException>(() => ApproximationErrors.Compute([], [])).Message);
    }

    [Fact]
    public void The_dictionary_uses_the_report_column_names()
    {
        // Given
        var e = new ApproximationErrors(1, 2, 3, 4, 5, 6, 7);

        // When
        var d = e.ToDictionary();

        // Then
        Assert.Equal(
            ["mean_abs_error", "max_abs_error", "rmse", "range", "rel_mean_abs_error", "rel_max_abs_error", "rel_rmse"],
            d.Keys);
        Assert.Equal([1.0, 2, 3, 4, 5, 6, 7], d.Values);
    }
}
