using System.Globalization;
using TorchSharp;

namespace Deqn.Training.Data;

/// <summary>The shares of the rows that go to training, validation and test.</summary>
public sealed record SplitFractions(double Train = 0.7, double Validation = 0.2, double Test = 0.1)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless each share is in [0, 1], training's is positive and they sum to 1.</summary>
    public void Validate()
    {
        Check(Train, "train");
        Check(Validation, "validation");
        Check(Test, "test");
        if (!(Train > 0)) throw new ArgumentException("split: the train fraction must be positive (got 0)");
        double sum = Train + Validation + Test;
        if (Math.Abs(sum - 1.0) > 1e-9)
            throw new ArgumentException($"split: fractions must sum to 1 (train {F(Train)} + validation {F(Validation)} + test {F(Test)} = {F(sum)})");

        static void Check(double f, string name)
        {
            if (!(f >= 0 && f <= 1)) throw new ArgumentException($"split: the {name} fraction must be in [0, 1] (got {F(f)})");
        }
    }

    /// <summary>As users write it: "70/20/10".</summary>
    public override string ToString() => $"{P(Train)}/{P(Validation)}/{P(Test)}";

    private static string P(double f) => (100 * f).ToString("0.##", CultureInfo.InvariantCulture);
    private static string F(double f) => f.ToString("0.######", CultureInfo.InvariantCulture);
}

/// <summary>
/// Row indices of the three parts. Each part lists its rows in ascending order (the file's order), so
/// predictions written per part line up with the file; shuffling for training is <see cref="MiniBatches"/>' job.
/// </summary>
public sealed record DataSplit(int[] Train, int[] Validation, int[] Test)
{
    /// <summary>
    /// A seeded random split of rows 0..n−1. Sizes: test = round(n·Test), validation = round(n·Validation)
    /// (half away from zero), training the rest; a part with a nonzero fraction gets at least one row and
    /// training at least two. The permutation is torch.randperm(n) from a generator seeded with
    /// <paramref name="seed"/>, so PyTorch gives the same order for the same seed.
    /// </summary>
    /// <exception cref="DataException">Too few rows for the requested parts.</exception>
    public static DataSplit Random(int n, SplitFractions fractions, long seed)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        fractions.Validate();
        var (_, validation, test) = Sizes(n, fractions);
        using var generator = new torch.Generator((ulong)seed);
        int[] perm = Permutation(n, generator);
        return FromParts(
            perm[(validation + test)..],
            perm[test..(test + validation)],
            perm[..test]);
    }

    /// <summary>
    /// A seeded split that keeps each class's share the same in every part. Overall sizes follow the rule of
    /// <see cref="Random"/>; each part's rows are apportioned to classes by largest remainder, keeping at
    /// least one row of every class in training; within a class the rows are drawn at random.
    /// </summary>
    /// <exception cref="DataException">A class has a single row, or there are too few rows.</exception>
    public static DataSplit Stratified(IReadOnlyList<int> labels, SplitFractions fractions, long seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(fractions);
        fractions.Validate();
        int n = labels.Count;
        var (train, validation, test) = Sizes(n, fractions);

        var classes = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (!classes.TryGetValue(labels[i], out var rows)) classes[labels[i]] = rows = new List<int>();
            rows.Add(i);
        }
        foreach (var (label, rows) in classes)
            if (rows.Count == 1)
                throw new DataException($"class '{label}' has only one row; cannot stratify (use --no-stratify)");
        if (train < classes.Count)
            throw new DataException(
                $"too few rows ({n}) for a {fractions} stratified split: training would get {train} rows for {classes.Count} classes (use --no-stratify or a larger train fraction)");

        int[] sizes = classes.Values.Select(r => r.Count).ToArray();
        // Every class keeps one row for training, so the caps leave room for it.
        int[] testCounts = Apportion(test, sizes, sizes.Select(s => s - 1).ToArray());
        int[] validationCounts = Apportion(validation, sizes, sizes.Select((s, c) => s - 1 - testCounts[c]).ToArray());

        using var generator = new torch.Generator((ulong)seed);
        var trainRows = new List<int>(train);
        var validationRows = new List<int>(validation);
        var testRows = new List<int>(test);
        int k = 0;
        foreach (var rows in classes.Values)
        {
            int[] perm = Permutation(rows.Count, generator);
            int t = testCounts[k], v = validationCounts[k];
            for (int j = 0; j < perm.Length; j++)
            {
                int row = rows[perm[j]];
                if (j < t) testRows.Add(row);
                else if (j < t + v) validationRows.Add(row);
                else trainRows.Add(row);
            }
            k++;
        }
        return FromParts(trainRows.ToArray(), validationRows.ToArray(), testRows.ToArray());
    }

    /// <summary>The part sizes for n rows, or a <see cref="DataException"/> if a part would be too small.</summary>
    internal static (int Train, int Validation, int Test) Sizes(int n, SplitFractions fractions)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "the number of rows cannot be negative");
        int test = PartSize(n, fractions.Test);
        int validation = PartSize(n, fractions.Validation);
        int train = n - test - validation;
        if (train < 2)
        {
            var needs = new List<string> { "2 training rows" };
            if (fractions.Validation > 0) needs.Add("1 validation row");
            if (fractions.Test > 0) needs.Add("1 test row");
            throw new DataException(
                $"too few rows ({n}) for a {fractions} split: need at least {string.Join(", ", needs)} (would get {train}/{validation}/{test})");
        }
        return (train, validation, test);

        static int PartSize(int n, double fraction) =>
            fraction > 0 ? Math.Max(1, (int)Math.Round(n * fraction, MidpointRounding.AwayFromZero)) : 0;
    }

    /// <summary>
    /// Splits <paramref name="total"/> over groups in proportion to <paramref name="sizes"/> (largest remainder,
    /// ties to the larger group, then the earlier one), never giving a group more than its cap.
    /// </summary>
    internal static int[] Apportion(int total, int[] sizes, int[] caps)
    {
        int groups = sizes.Length;
        long all = sizes.Sum(s => (long)s);
        var counts = new int[groups];
        var remainders = new double[groups];
        int given = 0;
        for (int g = 0; g < groups; g++)
        {
            double quota = all == 0 ? 0 : (double)total * sizes[g] / all;
            counts[g] = Math.Min(caps[g], (int)Math.Floor(quota));
            remainders[g] = quota - counts[g];
            given += counts[g];
        }
        var order = Enumerable.Range(0, groups)
            .OrderByDescending(g => remainders[g]).ThenByDescending(g => sizes[g]).ThenBy(g => g).ToArray();
        while (given < total)
        {
            bool progressed = false;
            foreach (int g in order)
            {
                if (given == total) break;
                if (counts[g] >= caps[g]) continue;
                counts[g]++;
                given++;
                progressed = true;
            }
            if (!progressed) throw new InvalidOperationException("apportion: the caps leave too little room (the callers check sizes first)");
        }
        return counts;
    }

    private static int[] Permutation(int n, torch.Generator generator)
    {
        if (n == 0) return Array.Empty<int>();
        using var perm = torch.randperm(n, torch.ScalarType.Int64, generator: generator);
        return perm.data<long>().Select(i => (int)i).ToArray();
    }

    private static DataSplit FromParts(int[] train, int[] validation, int[] test)
    {
        Array.Sort(train);
        Array.Sort(validation);
        Array.Sort(test);
        return new DataSplit(train, validation, test);
    }
}
