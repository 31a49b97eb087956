using CsCheck;
using Deqn.Approximation.Functions;
using Deqn.Approximation.Sampling;

namespace Deqn.Approximation.Tests.Sampling;

public sealed class SamplerTests
{
    private static readonly Gen<Box> Boxes =
        Gen.Int[1, 6].SelectMany(d =>
            Gen.Select(Gen.Double[-100, 100].Array[d], Gen.Double[1e-3, 50].Array[d], (lo, width) =>
                new Box(lo, lo.Select((l, j) => l + width[j]).ToArray())));

    private static double[] Row(double[,] points, int i) =>
        Enumerable.Range(0, points.GetLength(1)).Select(j => points[i, j]).ToArray();

    [Fact]
    public void Uniform_points_lie_in_the_box()
    {
        // Given any box, size and seed
        Gen.Select(Boxes, Gen.Int[0, 200], Gen.Long).Sample((box, n, seed) =>
        {
            // When
            var points = Sampler.Uniform(box, n, seed);

            // Then
            Assert.Equal(n, points.GetLength(0));
            Assert.Equal(box.Dimension, points.GetLength(1));
            for (int i = 0; i < n; i++) Assert.True(box.Contains(Row(points, i)), $"row {i} outside {box}");
        }, iter: 200);
    }

    [Fact]
    public void The_same_seed_gives_the_same_points_and_different_seeds_different_ones()
    {
        // Given
        var box = Box.Unit(3);

        // When
        var a = Sampler.Uniform(box, 100, seed: 42);
        var b = Sampler.Uniform(box, 100, seed: 42);
        var c = Sampler.Uniform(box, 100, seed: 43);

        // Then
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        int shared = a.Cast<double>().Intersect(c.Cast<double>()).Count();
        Assert.Equal(0, shared);
    }

    [Fact]
    public async Task The_points_do_not_depend_on_the_thread_that_draws_them()
    {
        // Given
        var box = Box.Parse("0:1,-1:1");
        var here = Sampler.Uniform(box, 50, seed: 7);

        // When
        var elsewhere = await Task.Run(() => Sampler.Uniform(box, 50, seed: 7));

        // Then
        Assert.Equal(here, elsewhere);
    }

    [Fact]
    public void The_generator_is_pinned_so_studies_rerun_bit_for_bit()
    {
        // Given the published SplitMix64 outputs from state 0 (Vigna's splitmix64.c)
        var rng = SplitMix64.FromState(0);

        // When
        ulong[] outputs = [rng.Next(), rng.Next(), rng.Next()];

        // Then
        Assert.Equal([0xE220A8397B1DCDAFUL, 0x6E789E6AA1B965F4UL, 0x06C45D188009454FUL], outputs);
    }

    [Fact]
    public void Fewer_points_from_a_seed_are_the_first_rows_of_more()
    {
        // Given
        var box = Box.Unit(2);

        // When
        var ten = Sampler.Uniform(box, 10, seed: 3);
        var fifty = Sampler.Uniform(box, 50, seed: 3);

        // Then
        for (int i = 0; i < 10; i++) Assert.Equal(Row(ten, i), Row(fifty, i));
    }

    [Fact]
    public void Each_coordinate_mean_and_variance_are_those_of_a_uniform_distribution()
    {
        // Given
        var box = Box.Parse("-1:3,0:1,10:20");
        const int n = 20_000;

        // When
        var points = Sampler.Uniform(box, n, seed: 2024);

        // Then: the sample mean is within 5 standard errors of (lo+hi)/2, the variance within 5% of (hi−lo)²/12
        for (int j = 0; j < box.Dimension; j++)
        {
            double width = box.Upper[j] - box.Lower[j];
            double mean = Enumerable.Range(0, n).Average(i => points[i, j]);
            double variance = Enumerable.Range(0, n).Average(i => (points[i, j] - mean) * (points[i, j] - mean));
            double standardError = width / Math.Sqrt(12.0 * n);
            Assert.InRange(mean, 0.5 * (box.Lower[j] + box.Upper[j]) - 5 * standardError, 0.5 * (box.Lower[j] + box.Upper[j]) + 5 * standardError);
            Assert.InRange(variance / (width * width / 12), 0.95, 1.05);
        }
    }

    [Fact]
    public void A_grid_includes_both_ends_and_varies_the_last_coordinate_fastest()
    {
        // Given
        var box = Box.Parse("0:1,-1:1");

        // When
        var grid = Sampler.Grid(box, 3);

        // Then
        double[,] expected =
        {
            { 0, -1 }, { 0, 0 }, { 0, 1 },
            { 0.5, -1 }, { 0.5, 0 }, { 0.5, 1 },
            { 1, -1 }, { 1, 0 }, { 1, 1 },
        };
        Assert.Equal(expected, grid);
    }

    [Fact]
    public void A_one_point_grid_is_the_centre_and_bad_sizes_are_refused()
    {
        // Given
        var box = Box.Parse("0:2,-1:1,4:6");

        // When
        var grid = Sampler.Grid(box, 1);

        // Then
        Assert.Equal(new double[,] { { 1, 0, 5 } }, grid);
        Assert.Equal(5 * 5 * 5, Sampler.Grid(box, 5).GetLength(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Grid(box, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Uniform(box, -1, 0));
        Assert.Throws<ArgumentException>(() => Sampler.Grid(Box.Unit(10), 100));
    }

    [Fact]
    public void Normal_draws_are_standard_normal_finite_and_fixed_by_the_seed()
    {
        // Given any seed, when 20,000 draws are taken
        Gen.Long.Sample(seed =>
        {
            var z = Sampler.Normal(20_000, seed);
            double mean = z.Average(), sd = Math.Sqrt(z.Select(v => (v - mean) * (v - mean)).Average());
            // Then they are finite, with mean 0 ± 0.03 and sd 1 ± 0.03 (about 4 standard errors), a share of
            // 0.6827 ± 0.015 within one sd, and the same draws again for the same seed
            Assert.All(z, v => Assert.True(double.IsFinite(v)));
            Assert.InRange(mean, -0.03, 0.03);
            Assert.InRange(sd, 0.97, 1.03);
            Assert.InRange(z.Count(v => Math.Abs(v) < 1) / 20_000.0, 0.6677, 0.6977);
            Assert.Equal(z, Sampler.Normal(20_000, seed));
        }, iter: 20);
    }
}
