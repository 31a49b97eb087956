using System.Globalization;
using Deqn.Approximation.Study;
using Deqn.Cli.Options;
using Deqn.Cli.Output;
using Deqn.Cli.Runs;
using Spectre.Console;

namespace Deqn.Cli.Commands;

/// <summary>
/// <c>deqn merge &lt;shard folders…&gt;</c>: joins the run folders of a study's shards (<c>deqn approx --shard i/n</c>) into
/// one run folder whose results.csv, summary.csv, plots and report.md are written by the same code, from the same
/// experiments, as an unsharded run's.
/// </summary>
public sealed class MergeCommand : CliCommand
{
    public override string Name => "merge";

    public override string Description =>
        "Join the run folders of the n shards of one study ('deqn approx --shard i/n', i = 0 … n-1) into one run folder: " +
        "the experiments, the shared test points, the study's config.yaml, and results.csv, summary.csv, plots and report.md " +
        "written by the same code as one unsharded run, with the same numbers (docs/cluster.md). Folders that are not shards, " +
        "shards of different studies or splits, a missing or twice-given shard and an unfinished shard are refused in one " +
        "line, and nothing is written. Nothing in it is random: --seed changes nothing.";

    public override IReadOnlyList<string> Examples =>
    [
        "./deqn merge runs/study-shard-0 runs/study-shard-1 runs/study-shard-2 runs/study-shard-3 --out runs/study",
        "./deqn merge runs/study-shard-* --out runs/study",
    ];

    public override IReadOnlyList<OptionDef> Positionals { get; } =
    [
        new("shards", null, "the run folders of all n shards of one study, in any order", "Merge", ValueName: "shard folders", Repeatable: true),
    ];

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = [];

    /// <summary>Settings that change how a shard runs, not what it computes: shards of one study may differ in them.</summary>
    private static readonly string[] RunOnly = ["shard", "parallel", "threads", "quiet", "out", "resume", "config"];

    private sealed record ShardFolder(string Folder, Settings Settings, StudyShard Shard);

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var raw = s.String("shards") ?? throw new UsageException(
            "give the run folders of every shard of the study, e.g. deqn merge runs/study-shard-0 runs/study-shard-1 --out runs/study");
        // From the command line the folders arrive joined by ';'; a config file's list arrives joined by ','.
        char[] separators = s.Source("shards") == "command line" ? [';'] : [';', ','];
        var shards = raw.Split(separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Load).ToList();

        var first = shards[0];
        int n = first.Shard.Count;
        foreach (var x in shards.Skip(1))
        {
            if (x.Shard.Count != n)
                throw new UsageException($"{first.Folder} is shard {first.Shard} and {x.Folder} is shard {x.Shard}: give the shards of one split of one study");
            if (Difference(first.Settings, x.Settings) is { } key)
                throw new UsageException($"{first.Folder} and {x.Folder} are shards of different studies: {key} is {Show(first.Settings.Raw(key))} in {first.Folder} and {Show(x.Settings.Raw(key))} in {x.Folder}");
        }
        foreach (var group in shards.GroupBy(x => x.Shard.Index).Where(g => g.Count() > 1))
        {
            var (a, b) = (group.ElementAt(0).Folder, group.ElementAt(1).Folder);
            throw new UsageException(Path.GetFullPath(a) == Path.GetFullPath(b)
                ? $"{a} is given twice"
                : $"shard {group.Key}/{n} is given twice: {a} and {b}");
        }
        var missing = Enumerable.Range(0, n).Where(i => shards.All(x => x.Shard.Index != i)).Select(i => $"{i}/{n}").ToList();
        if (missing.Count > 0)
            throw new UsageException((missing.Count == 1 ? $"shard {missing[0]} is missing" : $"shards {List(missing)} are missing") +
                                     $" (give the folders of all {n} shards)");

        var study = ApproxCommand.BuildStudy(first.Settings);
        var members = new List<(ShardFolder Shard, IReadOnlyList<ExperimentKey> Keys)>();
        foreach (var x in shards.OrderBy(x => x.Shard.Index))
        {
            var runner = new StudyRunner(study, x.Folder) { Shard = x.Shard };
            var keys = runner.Keys();
            int done = runner.LoadFinished().Count;
            if (done < keys.Count)
                throw new UsageException($"{x.Folder} (shard {x.Shard}) is not finished: {keys.Count - done} of its {keys.Count} experiments {(keys.Count - done == 1 ? "has" : "have")} no result; finish it with ./deqn approx --resume {x.Folder}");
            members.Add((x, keys));
        }
        int total = study.Configurations.Count * study.Functions.Count * study.SampleSizes.Count * study.Seeds.Count;
        if (members.Sum(m => m.Keys.Count) != total || members.SelectMany(m => m.Keys).Distinct().Count() != total)
            throw new InvalidOperationException($"the {n} shards do not partition the study's {total} experiments");

        var settings = MergedSettings(first.Settings, n);
        var run = RunFolder.Create(s.String("out"), "approx", ApproxCommand.FolderName(settings), s);
        var console = terminal.Console;
        console.MarkupLine($"[bold]deqn merge[/]: {n} shard(s) of one study: {study.Functions.Count} function(s) × N ∈ {{{string.Join(", ", study.SampleSizes)}}} × {study.Seeds.Count} seed(s) × {study.Configurations.Count} configuration(s) = {total} experiments");
        foreach (var (x, keys) in members)
        {
            console.MarkupLine($"  shard {x.Shard}: {keys.Count} experiments from {Markup.Escape(x.Folder)}");
            foreach (var key in keys)
            {
                cancel.ThrowIfCancellationRequested();
                CopyFolder(Path.Combine(x.Folder, "experiments", key.Id), Path.Combine(run.Path, "experiments", key.Id));
            }
            var data = Path.Combine(x.Folder, "data");
            if (Directory.Exists(data))
                foreach (var file in Directory.GetFiles(data))
                    if (Path.Combine(run.Path, "data", Path.GetFileName(file)) is var target && !File.Exists(target))
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.Copy(file, target);
                    }
        }
        run.WriteConfig("approx", settings);

        var finished = new StudyRunner(study, run.Path).LoadFinished();
        var ordered = new StudyRunner(study, null).AllKeys().Select(k => finished[k]).ToList();
        var results = new StudyResults(ordered, total, total, 0, true, TimeSpan.Zero);
        ApproxReport.Write(run, study, results, settings);
        ApproxReport.PrintTables(console, study, results);
        console.MarkupLine($"{total} experiments merged from {n} shard(s)");
        console.MarkupLine($"Run folder: [bold]{Markup.Escape(run.Path)}[/]  (report.md, results.csv, summary.csv, plots/)");
        return 0;
    }

    /// <summary>A shard's run folder: its approx settings (config.yaml) and which shard it is.</summary>
    private static ShardFolder Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new UsageException($"{folder} is not a folder");
        var config = Path.Combine(folder, "config.yaml");
        if (!File.Exists(config)) throw new UsageException($"{folder} is not a run folder of deqn approx (no config.yaml)");
        var s = new Settings(new ApproxCommand().AllOptions);
        foreach (var (key, value) in ConfigFile.Load(config))
        {
            if (!s.IsKnown(key)) throw new UsageException($"{folder} is not a run folder of deqn approx: its config.yaml has key '{key}'");
            s.Set(key, value, config);
        }
        if (s.String("shard") is null)
            throw new UsageException($"{folder} is not a shard: its config.yaml records no shard (runs of deqn approx --shard i/n are shards; an unsharded run needs no merge)");
        return new ShardFolder(folder, s, s.Parse("shard", StudyShard.Parse));
    }

    /// <summary>The first setting (other than <see cref="RunOnly"/> ones) in which two shards' studies differ; null when none does.</summary>
    private static string? Difference(Settings a, Settings b) =>
        a.All().Select(x => x.Def.Name).Where(k => !RunOnly.Contains(k)).FirstOrDefault(k => a.Raw(k) != b.Raw(k));

    /// <summary>
    /// The unsharded study's settings: the shards' own, without the shard, and with --parallel at the number of shards,
    /// the plan the shards were cut from, so that <c>--config</c> on the merged config.yaml retrains the same stacks.
    /// </summary>
    private static Settings MergedSettings(Settings shard, int n)
    {
        var merged = new Settings(shard.Definitions);
        foreach (var (def, value, _) in shard.All())
        {
            if (def.Name is "shard" or "quiet" or "out" or "resume" or "config") continue;
            merged.Set(def.Name, value, value == def.Default ? "default" : "the shards' config.yaml");
        }
        merged.Set("parallel", n.ToString(CultureInfo.InvariantCulture), $"deqn merge: the {n} shards were planned as one run with --parallel {n}");
        return merged;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    private static string Show(string? value) => value is null ? "unset" : $"'{value}'";

    private static string List(IReadOnlyList<string> items) =>
        items.Count > 10 ? $"{string.Join(", ", items.Take(10))} and {items.Count - 10} more"
        : $"{string.Join(", ", items.Take(items.Count - 1))} and {items[^1]}";
}
