using System.Text.Json;
using Deqn.Training.Data;
using TorchSharp;

namespace Deqn.Training.Tests.Data;

public sealed class NormalizerTests
{
    private static double[,] Rows(params double[][] rows)
    {
        var x = new double[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[0].Length; j++) x[i, j] = rows[i][j];
        return x;
    }

    private static double[] Column(double[,] x, int j) => Enumerable.Range(0, x.GetLength(0)).Select(i => x[i, j]).ToArray();

    private static double[,] RandomRows(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n, d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) x[i, j] = 1000 * j + (j + 1) * (rng.NextDouble() - 0.3) * 50;
        return x;
    }

    [Fact]
    public void Standard_scaling_uses_the_mean_and_population_std_of_the_fitted_rows()
    {
        // Given a column with mean 5 and population std 2, and a constant column
        var x = Rows([2, 7], [4, 7], [4, 7], [4, 7], [5, 7], [5, 7], [7, 7], [9, 7]);

        // When
        var norm = Normalizer.Fit(NormalizationKind.Standard, x);
        var z = norm.Transform(x);

        // Then (relative tolerance 1e-12)
        Assert.Equal(new[] { 5.0, 7.0 }, norm.Offset);
        Assert.Equal(2.0, norm.Scale[0], 1e-12);
        Assert.Equal(1.0, norm.Scale[1]);
        Assert.Equal(0.0, Column(z, 0).Average(), 1e-12);
        Assert.Equal(1.0, Math.Sqrt(Column(z, 0).Select(v => v * v).Average()), 1e-12);
        Assert.All(Column(z, 1), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Min_max_scaling_maps_the_fitted_range_onto_minus_one_to_one()
    {
        // Given
        var x = Rows([-3, 5], [1, 5], [7, 5]);

        // When
        var norm = Normalizer.Fit(NormalizationKind.MinMax, x);
        var z = norm.Transform(x);

        // Then
        Assert.Equal(new[] { -1.0, -0.2, 1.0 }, Column(z, 0).Select(v => Math.Round(v, 12)));
        Assert.Equal(1.0, norm.Scale[1]);
        Assert.All(Column(z, 1), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void A_normalizer_fitted_on_training_rows_sees_only_those_rows()
    {
        // Given training rows and an outlier in the rows left out
        var all = Rows([1, 10], [2, 20], [3, 30], [1000, -5000]);
        var train = Rows([1, 10], [2, 20], [3, 30]);

        // When
        var standard = Normalizer.Fit(NormalizationKind.Standard, train);
        var minmax = Normalizer.Fit(NormalizationKind.MinMax, train);

        // Then the statistics are those of the training rows
        Assert.Equal(new[] { 2.0, 20.0 }, standard.Offset);
        Assert.Equal(Math.Sqrt(2.0 / 3), standard.Scale[0], 1e-12);
        Assert.Equal(new[] { 2.0, 20.0 }, minmax.Offset);
        Assert.Equal(new[] { 1.0, 10.0 }, minmax.Scale);
        Assert.Equal(998.0, minmax.Transform(all)[3, 0], 1e-12);
    }

    [Theory]
    [InlineData(NormalizationKind.None)]
    [InlineData(NormalizationKind.Standard)]
    [InlineData(NormalizationKind.MinMax)]
    public void Inverse_undoes_transform_on_arrays_and_tensors(NormalizationKind kind)
    {
        // Given
        var x = RandomRows(50, 4, seed: 5);
        var norm = Normalizer.Fit(kind, x);

        // When
        var back = norm.Inverse(norm.Transform(x));
        using var t = torch.tensor(x, dtype: torch.ScalarType.Float64);
        using var zt = norm.Transform(t);
        using var backT = norm.Inverse(zt);
        var z = norm.Transform(x);

        // Then (relative tolerance 1e-12; tensors and arrays agree)
        var backTensor = backT.data<double>().ToArray();
        var zTensor = zt.data<double>().ToArray();
        for (int i = 0; i < 50; i++)
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(x[i, j], back[i, j], 1e-12 * Math.Abs(x[i, j]));
                Assert.Equal(x[i, j], backTensor[i * 4 + j], 1e-12 * Math.Abs(x[i, j]));
                Assert.Equal(z[i, j], zTensor[i * 4 + j], 1e-12 * Math.Max(1, Math.Abs(z[i, j])));
            }
    }

    [Fact]
    public void A_float32_tensor_stays_float32()
    {
        // Given
        var norm = Normalizer.Fit(NormalizationKind.Standard, Rows([1, 2], [3, 6]));
        using var x = torch.tensor(new float[] { 1, 2, 3, 6 }, 2, 2);

        // When
        using var z = norm.Transform(x);

        // Then
        Assert.Equal(torch.ScalarType.Float32, z.dtype);
        Assert.Equal(new float[] { -1, -1, 1, 1 }, z.data<float>().ToArray());
    }

    [Fact]
    public void The_identity_changes_nothing()
    {
        // Given
        var x = RandomRows(5, 3, seed: 1);

        // When
        var z = Normalizer.Identity(3).Transform(x);

        // Then
        Assert.Equal(x, z);
    }

    [Fact]
    public void A_normalizer_survives_a_json_round_trip_with_equal_contents()
    {
        // Given
        var norm = Normalizer.Fit(NormalizationKind.Standard, RandomRows(20, 3, seed: 2));

        // When
        var back = JsonSerializer.Deserialize<Normalizer>(JsonSerializer.Serialize(norm));

        // Then
        Assert.Equal(norm, back);
        Assert.Equal(norm.GetHashCode(), back!.GetHashCode());
    }

    [Fact]
    public void A_width_mismatch_is_rejected()
    {
        // Given
        var norm = Normalizer.Identity(3);

        // When / Then
        Assert.Throws<ArgumentException>(() => norm.Transform(new double[2, 2]));
        using var t = torch.zeros(2, 2);
        Assert.Throws<ArgumentException>(() => norm.Transform(t));
    }

    [Theory]
    [InlineData("none", NormalizationKind.None)]
    [InlineData("Standard", NormalizationKind.Standard)]
    [InlineData("zscore", NormalizationKind.Standard)]
    [InlineData("minmax", NormalizationKind.MinMax)]
    [InlineData(" min-max ", NormalizationKind.MinMax)]
    public void Names_parse_to_kinds(string name, NormalizationKind kind) => Assert.Equal(kind, Normalizer.Parse(name));

    [Fact]
    public void An_unknown_name_lists_the_valid_ones()
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => Normalizer.Parse("robust"));

        // Then
        Assert.Equal("unknown normalization 'robust' (valid: none, standard, minmax)", e.Message);
    }
}
