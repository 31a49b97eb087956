using Deqn.Approximation.Functions;
using Deqn.Approximation.Study;
using Deqn.Testing;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Supervised;

namespace Deqn.Approximation.Tests.Study;

public sealed class StudyShardTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-shard-");

    public void Dispose() => _dir.Dispose();

    private static StudyConfiguration Config(string label, OptimizerKind optimizer, int epochs = 4) =>
        new(label, new Dictionary<string, string>(), new SupervisedSpec
        {
            Network = new NetworkBodySpec { Hidden = [new LayerSpec(8)], Precision = Precision.Float64 },
            Optimization = new OptimizationSpec { Optimizer = new OptimizerSpec(optimizer) { LearningRate = optimizer == OptimizerKind.Adam ? 0.01 : 1 } },
            Training = new() { Epochs = epochs, BatchSize = 0 },
        });

    /// <summary>
    /// Two functions × N ∈ {10, 40} × 6 seeds: a stacked (lm) group of 12 is cut into 2 units for one thread and 3 for
    /// more, so the plan depends on how it is made; the Adam configuration trains one experiment per unit.
    /// </summary>
    private static StudySpec Study(int parallelism, bool withAdam = false) => new()
    {
        Functions = new[] { BuiltinFunctions.Get("poly1"), BuiltinFunctions.Get("trig1") },
        SampleSizes = new[] { 10, 40 },
        Seeds = Enumerable.Range(0, 6).Select(i => (long)i).ToArray(),
        TestPoints = 100,
        Parallelism = parallelism,
        BatchSameShape = false,
        Configurations = withAdam
            ? new[] { Config("lm", OptimizerKind.Lm), Config("adam", OptimizerKind.Adam, epochs: 3) }
            : new[] { Config("lm", OptimizerKind.Lm) },
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(40)]
    [InlineData(100)]
    public void Shards_are_disjoint_cover_the_study_and_never_split_a_unit(int shards)
    {
        // Given a study of 48 experiments: 24 single (adam) and 24 in stacks (lm)
        var study = Study(parallelism: 2, withAdam: true);
        var whole = new StudyRunner(study, null).AllKeys().ToList();
        var plan = new StudyRunner(study, null).PlanShards(shards);

        // When each shard lists its experiments
        var parts = Enumerable.Range(0, shards).Select(i => new StudyRunner(study, null) { Shard = new StudyShard(i, shards) }.Keys()).ToList();

        // Then no experiment is in two shards and together they hold the whole study
        Assert.Equal(whole.Count, parts.Sum(p => p.Count));
        Assert.Equal(whole.OrderBy(k => k.Id), parts.SelectMany(p => p).OrderBy(k => k.Id));
        // And the members of a unit are in one shard
        foreach (var unit in plan.Units)
            Assert.Single(parts.Where(p => p.Contains(unit.Keys[0])), p => unit.Keys.All(p.Contains));
        // And with more shards than units some are empty, which is fine
        if (shards > plan.Units.Count) Assert.Contains(parts, p => p.Count == 0);
    }

    [Fact]
    public void The_shards_plan_depends_on_the_number_of_shards_not_on_the_parallelism_a_shard_runs_with()
    {
        var one = new StudyRunner(Study(parallelism: 1), null).PlanShards(3);
        var four = new StudyRunner(Study(parallelism: 4), null).PlanShards(3);
        Assert.Equal(one.Units.Select(u => string.Join(' ', u.Keys.Select(k => k.Id))), four.Units.Select(u => string.Join(' ', u.Keys.Select(k => k.Id))));
        Assert.Equal(one.ShardOfUnit, four.ShardOfUnit);
    }

    [Fact]
    public void Units_go_to_the_least_loaded_shard_the_most_expensive_first_ties_by_plan_order_and_lowest_shard()
    {
        Assert.Equal(new[] { 0, 1, 0, 1, 1, 0 }, ShardPlan.Assign(new long[] { 5, 5, 4, 3, 3, 3 }, 2));
        Assert.Equal(new[] { 1, 0, 1 }, ShardPlan.Assign(new long[] { 1, 10, 1 }, 2));
        Assert.Equal(new[] { 0, 1 }, ShardPlan.Assign(new long[] { 7, 7 }, 5));
    }

    [Fact]
    public void The_shards_results_together_equal_the_unsharded_runs_with_one_thread_per_shard()
    {
        // Given the study run whole on 3 threads, and as 3 shards of 1 thread each
        var whole = new StudyRunner(Study(parallelism: 3, withAdam: true), null).Run();
        var shards = Enumerable.Range(0, 3)
            .Select(i => new StudyRunner(Study(parallelism: 1, withAdam: true), null) { Shard = new StudyShard(i, 3) }.Run()).ToList();

        // Then each shard completed its share, and every experiment's numbers are the same (all but the timing)
        Assert.All(shards, s => Assert.True(s.Completed));
        var merged = shards.SelectMany(s => s.Results).OrderBy(r => r.Key.Id).ToList();
        var expected = whole.Results.OrderBy(r => r.Key.Id).ToList();
        Assert.Equal(expected.Count, merged.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(Numbers(expected[i]), Numbers(merged[i]));
    }

    private static object?[] Numbers(ExperimentResult r) =>
        [r.Key, r.Configuration, r.Function, r.MeanAbsError, r.MaxAbsError, r.Rmse, r.RelMeanAbsError, r.RelMaxAbsError, r.RelRmse,
         r.TrainPoints, r.ValidationPoints, r.Epochs, r.StopReason, r.FinalLoss, r.BestValidationLoss, r.Mode];

    [Fact]
    public void Resuming_a_shard_trains_only_its_missing_experiments()
    {
        // Given shard 1 of 2 run into a folder, then two of its experiments (of one stack) and one single removed
        var study = Study(parallelism: 2, withAdam: true);
        var shard = new StudyShard(1, 2);
        var first = new StudyRunner(study, _dir.Path) { Shard = shard }.Run();
        var runner = new StudyRunner(study, _dir.Path) { Shard = shard };
        var removed = first.Results.Where(r => r.Mode == "stacked").Take(2).Concat(first.Results.Where(r => r.Mode == "single").Take(1)).Select(r => r.Key).ToArray();
        Assert.Equal(3, removed.Length);
        foreach (var key in removed) Directory.Delete(runner.ExperimentFolder(key), recursive: true);

        // When it is resumed
        var ran = new List<ExperimentKey>();
        var resumed = new StudyRunner(study, _dir.Path) { Shard = shard, OnExperimentDone = r => ran.Add(r.Key) }.Run();

        // Then exactly those three were trained, no experiment of the other shard, each the way it was the first time
        // (the two stack members now in a stack of two: the same numbers up to rounding)
        Assert.Equal(removed.OrderBy(k => k.Id), ran.OrderBy(k => k.Id));
        Assert.Equal(first.Planned - 3, resumed.Reused);
        Assert.True(resumed.Completed);
        Assert.Equal(first.Results.Select(r => (r.Key, r.Mode, r.Epochs, r.StopReason)), resumed.Results.Select(r => (r.Key, r.Mode, r.Epochs, r.StopReason)));
        foreach (var (a, b) in first.Results.Zip(resumed.Results))
        {
            Assert.Equal(a.MeanAbsError, b.MeanAbsError, 1e-9 * Math.Max(1, a.MeanAbsError));
            Assert.Equal(a.MaxAbsError, b.MaxAbsError, 1e-9 * Math.Max(1, a.MaxAbsError));
        }
        Assert.Equal(first.Planned, Directory.GetDirectories(Path.Combine(_dir.Path, "experiments")).Length);
    }

    [Fact]
    public void A_shard_with_no_unit_runs_nothing_and_is_complete()
    {
        var study = Study(parallelism: 1);
        int units = new StudyRunner(study, null).PlanShards(10).Units.Count;
        Assert.True(units < 10, $"{units} units");
        var empty = new StudyRunner(study, _dir.Path) { Shard = new StudyShard(9, 10) }.Run();
        Assert.Equal(0, empty.Planned);
        Assert.Empty(empty.Results);
        Assert.True(empty.Completed);
        Assert.True(File.Exists(Path.Combine(_dir.Path, "data", "test-f1.csv")));
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/8", 3, 8)]
    [InlineData(" 7 / 8 ", 7, 8)]
    public void A_shard_is_written_i_slash_n(string text, int index, int count)
    {
        var shard = StudyShard.Parse(text);
        Assert.Equal((index, count), (shard.Index, shard.Count));
        Assert.Equal($"{index}/{count}", shard.ToString());
    }

    [Theory]
    [InlineData("3/3", "3/3 is out of range: shards are counted from 0, 0/3 … 2/3")]
    [InlineData("-1/4", "out of range")]
    [InlineData("1/1", "the only shard is 0/1")]
    [InlineData("0/0", "at least 1 shard")]
    [InlineData("2", "not of the form i/n")]
    [InlineData("a/b", "not of the form i/n")]
    [InlineData("1/2/3", "not of the form i/n")]
    [InlineData("99999999999/2", "not of the form i/n")]
    public void A_bad_shard_is_refused_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => StudyShard.Parse(text));
        Assert.Contains(reason, e.Message);
    }
}
