using System.Globalization;
using Deqn.Approximation.Functions;
using Deqn.Approximation.Study;
using Deqn.Cli.Options;
using Deqn.Cli.Runs;
using Deqn.Training.Persistence;
using Spectre.Console;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary>
/// <c>deqn approx</c>: the lecture's exercise. Approximate functions from N random points, score on shared test points,
/// and show how the errors fall with N — for one configuration or a sweep of them.
/// </summary>
public sealed class ApproxCommand : CliCommand
{
    public override string Name => "approx";

    public override string Description =>
        "The lecture's function-approximation study: for each function, number of training points N and seed, sample N points " +
        "uniformly in the domain, train a network, and measure the mean and maximum absolute error on 1,000 shared random test " +
        "points; then plot the errors against N. --sweep compares architectures, activations, optimizers and any other " +
        "training setting. Writes a run folder with results.csv, summary.csv, plots (PNG and SVG), report.md, models and " +
        "histories; --resume finishes an interrupted study. --shard i/n runs one share of the study (a cluster job array), and " +
        "'deqn merge' joins the shards' folders into the whole study's (docs/cluster.md).";

    public override IReadOnlyList<string> Examples => new[]
    {
        "./deqn approx",
        "./deqn approx --function trig1 --n 10,50,100,500,1000 --repeats 5",
        "./deqn approx --function \"sin(pi*x)*exp(y)\" --domain 0:1,0:2",
        "./deqn approx --function poly1,trig1 --sweep layers=32|64,64|128,128,128 --sweep activation=tanh|relu|swish",
        "./deqn approx --config configs/approx-learning-rate.yaml",
        "./deqn approx --resume runs/approx-20261127-101500",
        "./deqn approx --config study.yaml --shard 0/8 --out runs/study-shard-0 --parallel 2",
    };

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = new OptionDef[]
    {
        new("function", "all", "built-in name(s) (" + string.Join(", ", BuiltinFunctions.All.Select(f => f.Name)) + "; 'all' = the lecture's eight 3-D functions) or an expression in x, y, z or x1..xd; several separated by ';' (or ',' for names)", "Study", ValueName: "names|expression"),
        new("domain", null, "the box to sample from, lo:hi per dimension (e.g. 0:1,0:1,-1:1) [default: each function's own, [0,1]³ for the lecture's]", "Study", ValueName: "box"),
        new("n", "10,50,100,500", "numbers of training points", "Study", ValueName: "list"),
        new("repeats", "3", "seeds per (function, N): --seed, --seed+1, ...", "Study", ValueName: "k"),
        new("test-points", "1000", "uniform random test points, shared by every experiment", "Study", ValueName: "m"),
        new("validation-fraction", "0", "share of the N points held out for early stopping (0: all N points train and early stopping watches the training loss)", "Study", ValueName: "x"),
        new("min-validation", "5", "fewer validation points than this: no hold-out, early stopping watches the training loss", "Study", ValueName: "k"),
        new("noise", "0", "standard deviation of Gaussian noise added to the sampled values (training and validation), as a fraction of f's standard deviation on the test points; errors are measured against f itself", "Study", ValueName: "x"),
        new("description", null, "a paragraph that report.md shows under its title (the demos say there what to look for)", "Study", ValueName: "text"),
        new("sweep", null, "vary a training setting: key=v1|v2|v3 (repeat --sweep for a grid)", "Study", ValueName: "key=values", Repeatable: true),
        new("parallel", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), "experiments trained at once (one thread each)", "Study", ValueName: "k"),
        new("stack", "true", "train same-shape experiments together as one batched model where that is faster", "Study", Flag: true),
        new("resume", null, "finish the study of an earlier run folder (its config.yaml), training only the missing experiments", "Study", ValueName: "run folder"),
        new("shard", null, "run only shard i of n (counted from 0: 0/n … (n-1)/n) of the study's experiments into its own folder; 'deqn merge' joins the n folders (docs/cluster.md)", "Study", ValueName: "i/n"),
    }.Concat(SpecSettings.WithDefaults(TrainingOptions.Definitions(), SpecSettings.Of(StudySpec.DefaultTraining))).ToArray();

    /// <summary>Settings a resumed run may change: they change how fast it runs, not what it computes.</summary>
    private static readonly string[] ResumeMayChange = ["parallel", "threads", "quiet", "stack"];

    /// <summary>A shard's stacking decides its share of the study, so a resumed shard keeps it.</summary>
    private static readonly string[] ShardResumeMayChange = ["parallel", "threads", "quiet"];

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        RunFolder run;
        StudyShard? shard;
        if (s.String("resume") is { } resume)
        {
            (s, run) = RunFolder.Resume(s, resume, "approx", IsShardFolder(resume) ? ShardResumeMayChange : ResumeMayChange);
            shard = Shard(s);
        }
        else
        {
            shard = Shard(s);
            run = RunFolder.Create(s.String("out"), "approx", FolderName(s) + (shard is null ? "" : $"-shard{shard.Index}of{shard.Count}"), s);
        }
        var study = BuildStudy(s);
        if (s.Source("resume") == "default") run.WriteConfig("approx", s);

        var console = terminal.Console;
        bool quiet = s.Bool("quiet");
        int total = study.Configurations.Count * study.Functions.Count * study.SampleSizes.Count * study.Seeds.Count;
        console.MarkupLine($"[bold]deqn approx[/]: {study.Functions.Count} function(s) × N ∈ {{{string.Join(", ", study.SampleSizes)}}} × {study.Seeds.Count} seed(s) × {study.Configurations.Count} configuration(s) = {total} experiments, {study.TestPoints} test points");

        using var progress = new StudyProgress(terminal, quiet);
        int mine = total;
        var runner = new StudyRunner(study, run.Path)
        {
            Shard = shard,
            OnPlanned = left => progress.Start(left, mine - left),
            OnExperimentDone = progress.Advance,
        };
        if (shard is not null)
        {
            var plan = runner.PlanShards(shard.Count);
            var units = plan.UnitsOf(shard.Index);
            mine = units.Sum(u => u.Keys.Count);
            console.MarkupLine(mine > 0
                ? $"Shard {shard}: {mine} of the {total} experiments ({units.Count} of the study's {plan.Units.Count} units of work)"
                : $"Shard {shard}: none of the {total} experiments (the study has {plan.Units.Count} units of work, and experiments trained together stay in one shard); this folder records that the shard is done");
        }
        var results = runner.Run(cancel);
        progress.Finish();

        ApproxReport.Write(run, study, results, s);
        if (results.Planned > 0) ApproxReport.Print(console, study, results, run);
        else console.MarkupLine($"Run folder: [bold]{Markup.Escape(run.Path)}[/]  (config.yaml, report.md, data/)");
        if (!results.Completed)
        {
            console.MarkupLine($"[yellow]Interrupted[/]: {results.Results.Count} of {results.Planned} experiments are done and saved. Finish with: ./deqn approx --resume {Markup.Escape(run.Path)}");
            return 130;
        }
        if (shard is not null)
            console.MarkupLine($"Shard {shard} is done. When all {shard.Count} are: ./deqn merge <the {shard.Count} shard folders> --out <folder>");
        return 0;
    }

    private static StudyShard? Shard(Settings s) => s.String("shard") is null ? null : s.Parse("shard", StudyShard.Parse);

    /// <summary>Whether a run folder's config.yaml records a shard (false when it has none, or no config.yaml: Resume says why).</summary>
    internal static bool IsShardFolder(string folder)
    {
        var config = Path.Combine(folder, "config.yaml");
        return File.Exists(config) && ConfigFile.Load(config).Any(kv => Settings.Canonical(kv.Key) == "shard" && !string.IsNullOrWhiteSpace(kv.Value));
    }

    internal static string FolderName(Settings s)
    {
        var f = s.String("function") ?? "all";
        return f.All(c => char.IsLetterOrDigit(c) || c is ',' or '-' or '_') && f.Length <= 40 ? f.Replace(',', '+') : "custom";
    }

    internal static StudySpec BuildStudy(Settings s)
    {
        var functions = ParseFunctions(s);
        Box? domain = null;
        if (s.String("domain") is { } d)
        {
            int dims = functions.Max(f => f.Dimension);
            domain = s.Parse("domain", v => Box.Parse(v, dims));
            foreach (var f in functions)
                if (f.Dimension > domain.Dimension)
                    throw s.Error("domain", $"{domain} has {domain.Dimension} dimensions but '{f.Name}' uses {f.Dimension}");
        }
        var sizes = s.List("n").Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw s.Error("n", $"'{v}' is not a whole number")).ToArray();
        if (sizes.Length == 0) throw s.Error("n", "give at least one number of training points");
        foreach (var n in sizes)
        {
            if (n < 2) throw s.Error("n", $"needs at least 2 training points (got {n})");
            if (n > 1_000_000) throw s.Error("n", $"{n} training points is beyond any sane limit (1,000,000)");
        }
        int repeats = s.Int("repeats", min: 1);
        long seed = s.Long("seed");
        int testPoints = s.Int("test-points", min: 1);
        if (testPoints > 10_000_000) throw s.Error("test-points", $"{testPoints} is beyond any sane limit (10,000,000)");
        double vf = s.Double("validation-fraction");
        if (!(vf >= 0 && vf < 1)) throw s.Error("validation-fraction", $"must be in [0, 1) (got {vf})");

        double noise = s.Double("noise");
        if (!(noise >= 0 && double.IsFinite(noise))) throw s.Error("noise", $"must be 0 or positive (got {noise})");

        var axes = Sweeps.Parse(s.String("sweep"), s, TrainingOptions.Names.Where(n => n is not "normalize-targets"));
        var configurations = new List<StudyConfiguration>();
        foreach (var combo in Sweeps.Combinations(axes))
        {
            var variant = s.Clone();
            foreach (var (key, value) in combo) variant.Set(key, value, $"--sweep {key}={value}");
            var spec = TrainingOptions.BuildSpec(variant, TaskKind.Regression);
            configurations.Add(new StudyConfiguration(Sweeps.Label(combo), combo, spec));
        }

        return new StudySpec
        {
            Functions = functions,
            Domain = domain,
            SampleSizes = sizes,
            Seeds = Enumerable.Range(0, repeats).Select(i => seed + i).ToArray(),
            TestPoints = testPoints,
            ValidationFraction = vf,
            MinValidationPoints = s.Int("min-validation", min: 0),
            Noise = noise,
            Configurations = configurations,
            Parallelism = s.Int("parallel", min: 1),
            BatchSameShape = s.Bool("stack"),
        };
    }

    private static IReadOnlyList<ITargetFunction> ParseFunctions(Settings s)
    {
        var text = s.Required("function", "a built-in name or an expression");
        if (text.Equals("all", StringComparison.OrdinalIgnoreCase))
            return BuiltinFunctions.All.Where(f => f.Dimension == 3).ToArray();
        string[] parts = text.Contains(';')
            ? text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : text.Split(',', StringSplitOptions.TrimEntries) is var names && names.All(n => BuiltinFunctions.TryGet(n, out _)) ? names : new[] { text };
        int? dims = null;
        if (s.String("domain") is { } d) dims = d.Contains(':') ? d.Split(',').Length : null;
        return parts.Select(p =>
        {
            if (BuiltinFunctions.TryGet(p, out var f)) return f;
            // A bare word that is not a variable was meant as a built-in name: list those rather than call it an unknown variable.
            if (System.Text.RegularExpressions.Regex.IsMatch(p, "^[A-Za-z_][A-Za-z0-9_]*$") && !System.Text.RegularExpressions.Regex.IsMatch(p, "^([xyzXYZ]|[xX][0-9]+)$"))
                return s.Parse("function", BuiltinFunctions.Get);
            return s.Parse("function", _ => ExpressionFunction.Parse(p, dims));
        }).ToArray();
    }
}
