using Deqn.Cli.Options;
using Deqn.Cli.Output;
using Spectre.Console;

namespace Deqn.Cli.Commands;

/// <summary>One lecture demonstration: the command and config file that run it, and what it shows.</summary>
public sealed record Demo(string Name, string Command, string Config, string Shows);

/// <summary>
/// <c>deqn demos</c>: the lecture's demonstrations with one line on what each shows; <c>deqn demos &lt;name&gt;</c> runs
/// one, exactly as <c>deqn &lt;command&gt; --config configs/&lt;file&gt;</c> would, into its own run folder.
/// </summary>
public sealed class DemosCommand : CliCommand
{
    public static IReadOnlyList<Demo> All { get; } =
    [
        new("learning-rate", "approx", "approx-learning-rate.yaml", "too small a learning rate learns slowly, a good one converges, too large a one diverges (plain SGD)"),
        new("vanishing-gradients", "approx", "approx-vanishing-gradients.yaml", "in a deep sigmoid network the first layers get gradients 10⁵× smaller than the last; tanh, ReLU and swish do not"),
        new("early-stopping", "approx", "approx-early-stopping.yaml", "overfitting: the validation loss turns up while the training loss falls; early stopping keeps the best epoch"),
        new("regularization", "approx", "approx-regularization.yaml", "dropout and batch normalization cost accuracy when there is nothing to overfit (smooth functions, no noise)"),
        new("initialization", "approx", "approx-initialization.yaml", "a seeded normal with a bad scale fits the training points yet generalizes ~100× worse than Glorot or He"),
        new("optimizers", "approx", "approx-optimizers.yaml", "SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam on one problem, rate and budget"),
        new("input-normalization", "approx", "approx-input-normalization.yaml", "inputs on [0, 1000] × [0, 0.001], standardized or left as they are"),
        new("digits", "fit", "fit-digits.toml", "classification of 8×8 handwritten digits: accuracy per class and a confusion matrix (reads ../shared/data)"),
    ];

    public override string Name => "demos";

    public override string Description =>
        "The lecture's demonstrations: without a name, the list with what each one shows and how to run it; with a name, " +
        "runs that demo (its config from the repository's configs/ folder) into a run folder whose report.md says what to look for. " +
        "--out, --seed, --threads, --device and --quiet apply to the demo's run.";

    public override IReadOnlyList<string> Examples => ["./deqn demos", "./deqn demos learning-rate", "./deqn demos early-stopping --out runs/es --seed 1"];

    public override IReadOnlyList<OptionDef> Positionals { get; } =
    [
        new("name", null, "the demo to run (see the list)", "Demos", ValueName: "name"),
    ];

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = [];

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var console = terminal.Console;
        if (s.String("name") is not { } name)
        {
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("demo").AddColumn("shows").AddColumn("config");
            foreach (var d in All)
                table.AddRow(Markup.Escape(d.Name), Markup.Escape(d.Shows), Markup.Escape($"configs/{d.Config}"));
            console.Write(table);
            console.WriteLine("Run one with: ./deqn demos <demo> [--out <folder>] [--seed <n>]");
            var others = All.Where(d => d.Command != "approx").Select(d => $"{d.Name}: ./deqn {d.Command} --config <config>").ToArray();
            console.WriteLine("It is the same as ./deqn approx --config <config>" + (others.Length > 0 ? $" ({string.Join("; ", others)})" : "") + ".");
            return 0;
        }
        var demo = All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw s.Error("name", $"no demo '{name}'; the demos are {string.Join(", ", All.Select(d => d.Name))}");
        CliCommand command = demo.Command == "fit" ? new FitCommand() : new ApproxCommand();
        var config = ConfigPath(demo);
        var settings = command.SettingsFrom(config);
        // The repository's configs name data relative to its root, where ./deqn runs; a demo runs from anywhere.
        if (settings.IsKnown("data") && settings.String("data") is { } data && !Path.IsPathRooted(data))
            settings.Set("data", Path.GetFullPath(Path.Combine(config, "..", "..", data)), config);
        foreach (var option in new[] { "out", "seed", "threads", "device", "quiet" })
            if (s.Source(option) != "default") settings.Set(option, s.Raw(option), s.Source(option));
        return command.Execute(settings, terminal, cancel);
    }

    /// <summary>The demo's config in the repository's configs/ folder, looked for above the working directory and above the program.</summary>
    public static string ConfigPath(Demo demo)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Path.Combine(dir.FullName, "configs", demo.Config) is var path && File.Exists(path))
                    return path;
        throw new UsageException($"demo '{demo.Name}' needs configs/{demo.Config} from the Deqn repository, and it is neither above {Directory.GetCurrentDirectory()} nor above {AppContext.BaseDirectory}");
    }
}
