using CsCheck;
using Deqn.Training.Data;

namespace Deqn.Training.Tests.Data;

public sealed class SplitTests
{
    // The documented size rule, written out independently of the implementation.
    private static (int Train, int Validation, int Test) ExpectedSizes(int n, SplitFractions f)
    {
        static int Part(int n, double fraction) =>
            fraction == 0 ? 0 : Math.Max(1, (int)Math.Round(n * fraction, MidpointRounding.AwayFromZero));
        int test = Part(n, f.Test), validation = Part(n, f.Validation);
        return (n - test - validation, validation, test);
    }

    private static void AssertPartition(DataSplit split, int n)
    {
        var all = split.Train.Concat(split.Validation).Concat(split.Test).ToArray();
        Assert.Equal(n, all.Length);
        Assert.Equal(Enumerable.Range(0, n), all.Order());
    }

    private static readonly Gen<SplitFractions> Fractions =
        Gen.Select(
            Gen.Double[0.05, 1.0],
            Gen.Frequency((1, Gen.Const(0.0)), (3, Gen.Double[0.0, 1.0])),
            Gen.Frequency((1, Gen.Const(0.0)), (3, Gen.Double[0.0, 1.0])),
            (train, a, b) =>
            {
                // Shares proportional to (train, a, b); the test share takes the rounding so they sum to 1.
                double total = train + a + b;
                double t = train / total, v = a / total;
                return new SplitFractions(t, v, Math.Max(0, 1 - t - v));
            });

    [Fact]
    public void A_random_split_is_disjoint_complete_and_sized_by_the_rule_for_any_n_and_fractions()
    {
        // Given any row count and valid fractions
        Gen.Select(Gen.Int[0, 400], Fractions, Gen.Long).Sample((n, fractions, seed) =>
        {
            var expected = ExpectedSizes(n, fractions);
            if (expected.Train < 2)
            {
                // When the rule leaves fewer than 2 training rows, Then the split refuses
                var e = Assert.Throws<DataException>(() => DataSplit.Random(n, fractions, seed));
                Assert.StartsWith($"too few rows ({n}) for a {fractions} split: ", e.Message);
                return;
            }

            // When
            var split = DataSplit.Random(n, fractions, seed);

            // Then
            AssertPartition(split, n);
            Assert.Equal(expected, (split.Train.Length, split.Validation.Length, split.Test.Length));
            if (fractions.Validation > 0) Assert.NotEmpty(split.Validation);
            if (fractions.Test > 0) Assert.NotEmpty(split.Test);
        }, iter: 300);
    }

    [Fact]
    public void A_70_20_10_split_of_100_rows_has_70_20_and_10_rows()
    {
        // Given / When
        var split = DataSplit.Random(100, new SplitFractions(), seed: 1);

        // Then
        Assert.Equal((70, 20, 10), (split.Train.Length, split.Validation.Length, split.Test.Length));
        AssertPartition(split, 100);
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_and_another_seed_another()
    {
        // Given
        var f = new SplitFractions();

        // When
        var a = DataSplit.Random(200, f, seed: 42);
        var b = DataSplit.Random(200, f, seed: 42);
        var c = DataSplit.Random(200, f, seed: 43);

        // Then
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Validation, b.Validation);
        Assert.Equal(a.Test, b.Test);
        Assert.NotEqual(a.Test, c.Test);
    }

    [Fact]
    public void A_split_is_random_rather_than_the_file_order()
    {
        // Given / When
        var split = DataSplit.Random(1000, new SplitFractions(), seed: 7);

        // Then the test rows are spread over the file, not its last tenth
        Assert.True(split.Test.Min() < 100, $"smallest test row {split.Test.Min()}");
        Assert.True(split.Test.Max() > 900, $"largest test row {split.Test.Max()}");
    }

    [Fact]
    public void Too_few_rows_for_a_split_are_reported_with_what_is_needed()
    {
        // Given / When
        var e = Assert.Throws<DataException>(() => DataSplit.Random(3, new SplitFractions(), seed: 0));

        // Then
        Assert.Equal("too few rows (3) for a 70/20/10 split: need at least 2 training rows, 1 validation row, 1 test row (would get 1/1/1)", e.Message);
    }

    [Fact]
    public void Every_nonzero_part_gets_at_least_one_row_even_when_its_share_rounds_to_zero()
    {
        // Given 4 rows: 10% of 4 rounds to 0
        // When
        var split = DataSplit.Random(4, new SplitFractions(), seed: 0);

        // Then
        Assert.Equal((2, 1, 1), (split.Train.Length, split.Validation.Length, split.Test.Length));
    }

    [Theory]
    [InlineData(0.0, 0.5, 0.5, "the train fraction must be positive")]
    [InlineData(0.8, 0.3, -0.1, "the test fraction must be in [0, 1]")]
    [InlineData(0.7, 0.2, 0.2, "fractions must sum to 1")]
    [InlineData(double.NaN, 0.5, 0.5, "the train fraction must be in [0, 1]")]
    public void Invalid_fractions_are_rejected_naming_the_problem(double train, double validation, double test, string expected)
    {
        // Given
        var f = new SplitFractions(train, validation, test);

        // When
        var e = Assert.Throws<ArgumentException>(f.Validate);

        // Then
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_stratified_split_keeps_each_class_share_in_every_part()
    {
        // Given three classes of 100, 50 and 30 rows, interleaved
        var labels = Enumerable.Range(0, 100).Select(_ => 0).Concat(Enumerable.Repeat(1, 50)).Concat(Enumerable.Repeat(2, 30))
            .Select((label, i) => (label, key: (i * 7919) % 181)).OrderBy(p => p.key).Select(p => p.label).ToArray();

        // When
        var split = DataSplit.Stratified(labels, new SplitFractions(), seed: 3);

        // Then each class is split 70/20/10 exactly (all quotas are whole numbers here)
        AssertPartition(split, labels.Length);
        foreach (var (label, size) in new[] { (0, 100), (1, 50), (2, 30) })
        {
            Assert.Equal(0.7 * size, split.Train.Count(r => labels[r] == label), 1e-9);
            Assert.Equal(0.2 * size, split.Validation.Count(r => labels[r] == label), 1e-9);
            Assert.Equal(0.1 * size, split.Test.Count(r => labels[r] == label), 1e-9);
        }
    }

    [Fact]
    public void A_stratified_split_has_the_random_split_sizes_and_near_proportional_classes_for_any_labels()
    {
        // Given between 2 and 5 classes of 2 to 60 rows each, in a random order
        var labelsGen = Gen.Select(Gen.Int[2, 60].Array[2, 5], Gen.Int, (sizes, key) =>
        {
            var rng = new Random(key);
            return sizes.SelectMany((s, c) => Enumerable.Repeat(c, s)).OrderBy(_ => rng.Next()).ToArray();
        });
        Gen.Select(labelsGen, Fractions, Gen.Long).Sample((labels, fractions, seed) =>
        {
            int n = labels.Length;
            var expected = ExpectedSizes(n, fractions);
            int classes = labels.Distinct().Count();
            if (expected.Train < Math.Max(2, classes))
            {
                Assert.Throws<DataException>(() => DataSplit.Stratified(labels, fractions, seed));
                return;
            }

            // When
            var split = DataSplit.Stratified(labels, fractions, seed);

            // Then
            AssertPartition(split, n);
            Assert.Equal(expected, (split.Train.Length, split.Validation.Length, split.Test.Length));
            var sizes = labels.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
            // Quotas of the rounded test size; when none exceeds its cap (keep one row for training), each class gets floor or ceiling.
            bool capsBind = sizes.Values.Any(size => (double)expected.Test * size / n > size - 1);
            foreach (var (c, size) in sizes)
            {
                Assert.Contains(split.Train, r => labels[r] == c);
                int test = split.Test.Count(r => labels[r] == c);
                Assert.True(test <= size - 1, $"class {c}: {test} of {size} rows in test");
                double quota = (double)expected.Test * size / n;
                if (!capsBind) Assert.True(Math.Abs(test - quota) < 1, $"class {c}: {test} test rows, quota {quota:F3}");
            }
        }, iter: 200);
    }

    [Fact]
    public void The_same_seed_gives_the_same_stratified_split()
    {
        // Given
        var labels = Enumerable.Range(0, 90).Select(i => i % 3).ToArray();

        // When
        var a = DataSplit.Stratified(labels, new SplitFractions(), seed: 11);
        var b = DataSplit.Stratified(labels, new SplitFractions(), seed: 11);

        // Then
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Validation, b.Validation);
        Assert.Equal(a.Test, b.Test);
    }

    [Fact]
    public void A_class_with_a_single_row_cannot_be_stratified()
    {
        // Given
        var labels = Enumerable.Range(0, 40).Select(i => i % 2).Append(7).ToArray();

        // When
        var e = Assert.Throws<DataException>(() => DataSplit.Stratified(labels, new SplitFractions(), seed: 0));

        // Then
        Assert.Equal("class '7' has only one row; cannot stratify (use --no-stratify)", e.Message);
    }

    [Fact]
    public void Apportioning_by_largest_remainder_respects_caps_and_the_total()
    {
        // Given quotas 10·(5, 3, 2)/10 = (5, 3, 2) capped at (4, 9, 9)
        // When
        var counts = DataSplit.Apportion(10, [5, 3, 2], [4, 9, 9]);

        // Then
        Assert.Equal(10, counts.Sum());
        Assert.Equal(4, counts[0]);
    }
}
