using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

/// <summary>
/// One tiny study (2 functions × N ∈ {10, 30} × 2 seeds × 2 configurations, lm: 4 units of 4 stacked experiments) run
/// whole and as two shards with different --parallel, plus shard 1/2 of another study; the tests share them.
/// </summary>
public sealed class ShardedStudy : IDisposable
{
    public static readonly string[] Tiny =
        ["--function", "poly1,trig1", "--n", "10,30", "--repeats", "2", "--sweep", "activation=tanh|relu", "--epochs", "5", "--layers", "8", "--test-points", "100"];

    public TempFolder Dir { get; } = new("deqn-shards-");
    public string Whole => Dir.File("whole");
    public string Shard0 => Dir.File("s0");
    public string Shard1 => Dir.File("s1");
    public string OtherStudyShard1 => Dir.File("other-s1");
    public Result Shard0Run { get; }

    public ShardedStudy()
    {
        Expect(Run(["approx", .. Tiny, "--parallel", "2", "--out", Whole]));
        Shard0Run = Expect(Run(["approx", .. Tiny, "--shard", "0/2", "--parallel", "1", "--out", Shard0]));
        Expect(Run(["approx", .. Tiny, "--shard", "1/2", "--parallel", "2", "--out", Shard1]));
        Expect(Run(["approx", .. Tiny.Select(a => a == "10,30" ? "10,50" : a), "--shard", "1/2", "--out", OtherStudyShard1]));
    }

    private static Result Expect(Result r) => r.ExitCode == 0 ? r : throw new InvalidOperationException(r.Stderr);

    public void Dispose() => Dir.Dispose();
}

public sealed class ShardCommandTests(ShardedStudy study) : IClassFixture<ShardedStudy>, IDisposable
{
    private readonly TempFolder _dir = new("deqn-merge-");

    public void Dispose() => _dir.Dispose();

    private static Result Approx(params string[] args) => Run(["approx", .. args]);
    private static Result Merge(params string[] args) => Run(["merge", .. args]);

    /// <summary>A CSV file's lines without the named column.</summary>
    private static string[] Without(string csv, string column)
    {
        var lines = File.ReadAllLines(csv);
        int at = Array.IndexOf(lines[0].Split(','), column);
        Assert.True(at >= 0, $"{csv} has no column {column}");
        return lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != at))).ToArray();
    }

    /// <summary>report.md without its command line, which names the command that wrote the folder.</summary>
    private static string[] ReportOf(string folder) =>
        File.ReadAllLines(Path.Combine(folder, "report.md")).Where(l => !l.StartsWith("./deqn ", StringComparison.Ordinal)).ToArray();

    private string CopyOf(string folder, string name)
    {
        var to = _dir.File(name);
        foreach (var dir in Directory.GetDirectories(folder, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(folder, to));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(folder, to));
        return to;
    }

    private static void AssertMergedEqualsWhole(string merged, string whole)
    {
        Assert.Equal(Without(Path.Combine(whole, "results.csv"), "seconds"), Without(Path.Combine(merged, "results.csv"), "seconds"));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "summary.csv")), File.ReadAllText(Path.Combine(merged, "summary.csv")));
        Assert.Equal(ReportOf(whole), ReportOf(merged));
        var plots = Directory.GetFiles(Path.Combine(whole, "plots")).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(plots, Directory.GetFiles(Path.Combine(merged, "plots")).Select(Path.GetFileName).Order().ToArray());
        // The charts are the same but for the numbering of their clip paths, which counts on through one process.
        string Svg(string folder, string name) => System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(folder, "plots", name)), @"\bcl_[0-9a-f]+\b", "cl");
        foreach (var svg in plots.Where(p => p!.EndsWith(".svg", StringComparison.Ordinal)))
            Assert.Equal(Svg(whole, svg!), Svg(merged, svg!));
        Assert.Equal(Directory.GetDirectories(Path.Combine(whole, "experiments")).Select(Path.GetFileName).Order(),
            Directory.GetDirectories(Path.Combine(merged, "experiments")).Select(Path.GetFileName).Order());
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "data", "test-f2.csv")), File.ReadAllText(Path.Combine(merged, "data", "test-f2.csv")));
    }

    [Fact]
    public void Merged_shards_equal_the_unsharded_run_in_every_column_but_seconds()
    {
        // When the two shards (run with --parallel 1 and 2) are merged
        var merged = _dir.File("merged");
        var r = Merge(study.Shard1, study.Shard0, "--out", merged);

        // Then results.csv equals the unsharded run's but for the timings, and summary.csv, plots and report.md are the same
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertMergedEqualsWhole(merged, study.Whole);
        Assert.Contains("16 experiments merged from 2 shard(s)", r.Stdout);
        // And config.yaml is the unsharded study's, planned as the shards were
        var config = File.ReadAllText(Path.Combine(merged, "config.yaml"));
        Assert.Contains("shard: ~", config);
        Assert.Contains("parallel: '2'", config);
        Assert.Contains("n: '10,30'", config);
    }

    [Fact]
    public void A_shard_records_which_it_is_holds_its_share_and_says_how_to_merge()
    {
        Assert.Contains("Shard 0/2: 8 of the 16 experiments (2 of the study's 4 units of work)", study.Shard0Run.Stdout);
        Assert.Contains("./deqn merge", study.Shard0Run.Stdout);
        Assert.Contains("shard: '0/2'", File.ReadAllText(Path.Combine(study.Shard0, "config.yaml")));
        Assert.Equal(1 + 8, File.ReadAllLines(Path.Combine(study.Shard0, "results.csv")).Length);
        Assert.Equal(8, Directory.GetDirectories(Path.Combine(study.Shard0, "experiments")).Length);
        Assert.True(File.Exists(Path.Combine(study.Shard0, "data", "test-f1.csv")));
        var report = File.ReadAllText(Path.Combine(study.Shard0, "report.md"));
        Assert.Contains("# Function approximation study: shard 0/2", report);
        Assert.Contains("8 of its 16 experiments", report);
        Assert.Contains("./deqn merge <the 2 shard folders> --out <folder>", report);
        var experiments = (string folder) => Directory.GetDirectories(Path.Combine(folder, "experiments")).Select(Path.GetFileName);
        Assert.Empty(experiments(study.Shard0).Intersect(experiments(study.Shard1)));
    }

    [Fact]
    public void With_more_shards_than_units_a_shard_is_empty_says_so_and_the_merge_is_still_the_whole_study()
    {
        // Given the study (4 units of work) split in 5
        var shards = Enumerable.Range(0, 5).Select(i => _dir.File($"five-{i}")).ToArray();
        var runs = shards.Select((folder, i) => Approx([.. ShardedStudy.Tiny, "--shard", $"{i}/5", "--out", folder])).ToArray();

        // Then every shard succeeds; the empty one writes its folder and says it holds nothing
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        var empty = Enumerable.Range(0, 5).Single(i => runs[i].Stdout.Contains("none of the 16 experiments"));
        Assert.Single(File.ReadAllLines(Path.Combine(shards[empty], "results.csv")));
        Assert.Contains("none of its 16 experiments", File.ReadAllText(Path.Combine(shards[empty], "report.md")));
        Assert.True(File.Exists(Path.Combine(shards[empty], "config.yaml")));

        // And the five merge into the whole study
        var merged = _dir.File("merged-5");
        var m = Merge([.. shards, "--out", merged]);
        Assert.True(m.ExitCode == 0, m.Stderr);
        Assert.Equal(Without(Path.Combine(study.Whole, "results.csv"), "seconds"), Without(Path.Combine(merged, "results.csv"), "seconds"));
        Assert.Equal(File.ReadAllText(Path.Combine(study.Whole, "summary.csv")), File.ReadAllText(Path.Combine(merged, "summary.csv")));
    }

    [Fact]
    public void Resuming_an_interrupted_shard_trains_only_its_missing_experiment()
    {
        // Given a copy of shard 1/2 that lost one experiment
        var shard = CopyOf(study.Shard1, "interrupted");
        var victim = Directory.GetDirectories(Path.Combine(shard, "experiments"))[0];
        Directory.Delete(victim, recursive: true);

        // Then merging refuses it, naming the folder and the fix
        var refused = Merge(study.Shard0, shard, "--out", _dir.File("never"));
        AssertBad(refused, shard, "shard 1/2", "1 of its 8 experiments has no result", $"./deqn approx --resume {shard}");
        Assert.False(Directory.Exists(_dir.File("never")));

        // And changing --stack on resume is refused (it decides the shard's share); a resume trains just the lost one
        AssertBad(Approx("--resume", shard, "--stack", "false"), "--stack", "cannot be changed");
        var r = Approx("--resume", shard, "--parallel", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("1 experiments trained, 7 reused", r.Stdout);
        Assert.True(Directory.Exists(victim));
        AssertSameUpToRounding(Path.Combine(study.Shard1, "results.csv"), Path.Combine(shard, "results.csv"));
        // And the finished shard merges into the whole study
        var merged = _dir.File("merged-after-resume");
        Assert.Equal(0, Merge(study.Shard0, shard, "--out", merged).ExitCode);
        AssertSameUpToRounding(Path.Combine(study.Whole, "results.csv"), Path.Combine(merged, "results.csv"));
    }

    /// <summary>
    /// Two results.csv with the same experiments, trained the same way, and errors equal up to rounding: a resumed
    /// experiment trains in what is left of its stack, which may sum in another order.
    /// </summary>
    private static void AssertSameUpToRounding(string expectedCsv, string actualCsv)
    {
        string[] numeric = ["mean_abs_error", "max_abs_error", "rmse", "rel_mean_abs_error", "rel_max_abs_error", "rel_rmse", "final_loss", "best_val_loss"];
        var expected = File.ReadAllLines(expectedCsv).Select(l => l.Split(',')).ToArray();
        var actual = File.ReadAllLines(actualCsv).Select(l => l.Split(',')).ToArray();
        Assert.Equal(expected[0], actual[0]);
        Assert.Equal(expected.Length, actual.Length);
        for (int row = 1; row < expected.Length; row++)
            for (int col = 0; col < expected[0].Length; col++)
            {
                var (name, e, a) = (expected[0][col], expected[row][col], actual[row][col]);
                if (name == "seconds") continue;
                if (numeric.Contains(name) && e.Length > 0 && a.Length > 0)
                {
                    double x = double.Parse(e, System.Globalization.CultureInfo.InvariantCulture), y = double.Parse(a, System.Globalization.CultureInfo.InvariantCulture);
                    Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{expected[row][0]} {name}: {e} vs {a}");
                }
                else
                {
                    Assert.Equal(e, a);
                }
            }
    }

    private static void AssertBad(Result r, params string[] fragments)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Stderr}");
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        foreach (var f in fragments) Assert.Contains(f, line);
    }

    private void AssertRefused(string[] folders, params string[] fragments)
    {
        var out_ = _dir.File("refused");
        AssertBad(Merge([.. folders, "--out", out_]), fragments);
        Assert.False(Directory.Exists(out_), "the merge wrote its output folder");
    }

    [Fact] public void A_missing_shard_is_refused() => AssertRefused([study.Shard1], "shard 0/2 is missing");
    [Fact] public void A_shard_given_twice_is_refused() => AssertRefused([study.Shard0, study.Shard1, CopyOf(study.Shard1, "again")], "shard 1/2 is given twice", study.Shard1, _dir.File("again"));
    [Fact] public void The_same_folder_given_twice_is_refused() => AssertRefused([study.Shard0, study.Shard0, study.Shard1], $"{study.Shard0} is given twice");
    [Fact] public void Shards_of_different_studies_are_refused() => AssertRefused([study.Shard0, study.OtherStudyShard1], "different studies", "n is '10,30'", "'10,50'");
    [Fact] public void An_unsharded_run_is_refused() => AssertRefused([study.Shard0, study.Whole], study.Whole, "is not a shard");
    [Fact] public void A_folder_that_is_not_a_run_is_refused() => AssertRefused([study.Shard0, _dir.Path], "not a run folder of deqn approx");
    [Fact] public void No_folders_at_all_is_refused() => AssertRefused([], "give the run folders of every shard");

    [Fact]
    public void Shards_of_different_splits_are_refused() =>
        AssertRefused([study.Shard0, study.Shard1, CopyOfWithShard(study.Shard1, "of-three", "2/3")], "is shard 0/2", "is shard 2/3");

    private string CopyOfWithShard(string folder, string name, string shard)
    {
        var copy = CopyOf(folder, name);
        var config = Path.Combine(copy, "config.yaml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("shard: '1/2'", $"shard: '{shard}'"));
        return copy;
    }

    [Fact] public void A_shard_out_of_range_is_refused() => AssertBad(Approx([.. ShardedStudy.Tiny, "--shard", "3/3", "--out", _dir.File("x")]), "--shard", "3/3 is out of range", "0/3 … 2/3");
    [Fact] public void A_shard_not_of_the_form_i_slash_n_is_refused() => AssertBad(Approx([.. ShardedStudy.Tiny, "--shard", "3", "--out", _dir.File("x")]), "--shard", "not of the form i/n");

    [Fact]
    public void A_bad_shard_creates_no_folder()
    {
        Approx([.. ShardedStudy.Tiny, "--shard", "2/2", "--out", _dir.File("x")]);
        Assert.False(Directory.Exists(_dir.File("x")));
    }

    [Fact]
    public void Help_of_merge_and_of_approx_explain_shards()
    {
        var merge = Run("merge", "--help");
        Assert.Equal(0, merge.ExitCode);
        Assert.Contains("shards of one study", merge.Stdout);
        Assert.Contains("./deqn merge runs/study-shard-0", merge.Stdout);
        var approx = Run("approx", "--help");
        Assert.Contains("--shard <i/n>", approx.Stdout);
    }
}
