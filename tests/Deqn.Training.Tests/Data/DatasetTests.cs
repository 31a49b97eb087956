using Deqn.Training.Data;
using TorchSharp;

namespace Deqn.Training.Tests.Data;

public sealed class DatasetTests
{
    private static readonly double[,] X = { { 1, 2 }, { 3, 4 }, { 5, 6 } };

    [Fact]
    public void Regression_arrays_become_float_tensors_of_the_requested_type()
    {
        // Given
        double[,] y = { { 10 }, { 20 }, { 30 } };

        // When
        using var data = Dataset.FromArrays(X, y, torch.ScalarType.Float32);

        // Then
        Assert.Equal(3, data.Count);
        Assert.Equal(new long[] { 3, 2 }, data.Features.shape);
        Assert.Equal(new long[] { 3, 1 }, data.Targets.shape);
        Assert.Equal(torch.ScalarType.Float32, data.Features.dtype);
        Assert.Equal(torch.ScalarType.Float32, data.Targets.dtype);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, data.Features.data<float>().ToArray());
        Assert.False(data.IsClassification);
    }

    [Fact]
    public void Class_labels_become_int64_indices()
    {
        // Given / When
        using var data = Dataset.FromArrays(X, [2, 0, 1], torch.ScalarType.Float64);

        // Then
        Assert.Equal(torch.ScalarType.Float64, data.Features.dtype);
        Assert.Equal(torch.ScalarType.Int64, data.Targets.dtype);
        Assert.Equal(new long[] { 2, 0, 1 }, data.Targets.data<long>().ToArray());
        Assert.True(data.IsClassification);
    }

    [Fact]
    public void A_subset_holds_the_given_rows_in_the_given_order()
    {
        // Given
        using var data = Dataset.FromArrays(X, [2, 0, 1], torch.ScalarType.Float64);

        // When
        using var subset = data.Subset([2, 0]);

        // Then
        Assert.Equal(2, subset.Count);
        Assert.Equal(new double[] { 5, 6, 1, 2 }, subset.Features.data<double>().ToArray());
        Assert.Equal(new long[] { 1, 2 }, subset.Targets.data<long>().ToArray());
    }

    [Fact]
    public void A_subset_outlives_its_source()
    {
        // Given
        var data = Dataset.FromArrays(X, new double[,] { { 1 }, { 2 }, { 3 } }, torch.ScalarType.Float64);
        using var subset = data.Subset([1]);

        // When
        data.Dispose();

        // Then
        Assert.Equal(new double[] { 3, 4 }, subset.Features.data<double>().ToArray());
    }

    [Fact]
    public void Features_and_targets_must_have_the_same_number_of_rows()
    {
        // Given
        using var features = torch.zeros(3, 2);
        using var targets = torch.zeros(4, 1);

        // When
        var e = Assert.Throws<ArgumentException>(() => new Dataset(features, targets));

        // Then
        Assert.Equal("dataset: 3 feature rows but 4 target rows", e.Message);
    }

    [Fact]
    public void A_row_outside_the_dataset_is_rejected()
    {
        // Given
        using var data = Dataset.FromArrays(X, [0, 1, 0], torch.ScalarType.Float32);

        // When / Then
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset([0, 3]));
    }
}
