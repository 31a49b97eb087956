using Deqn.Cli.Options;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Solving;
using Spectre.Console;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary><c>deqn models</c>: the models <c>deqn solve</c> knows, with their parameters and defaults.</summary>
public sealed class ModelsCommand(ModelCatalog catalog) : CliCommand
{
    public override string Name => "models";

    public override string Description => "List the models 'deqn solve' can solve, with their parameters and defaults (override them with --set name=value or a 'calibration:' section in a config file).";

    public override IReadOnlyList<string> Examples => new[] { "./deqn models", "./deqn models --model stochastic-growth" };

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = new OptionDef[]
    {
        new("model", null, "show only this model", "Models", ValueName: "name"),
    };

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var entries = s.String("model") is { } name ? [s.Parse("model", catalog.Find)] : catalog.Entries;
        var console = terminal.Console;
        foreach (var entry in entries)
        {
            console.MarkupLine($"[bold]{Markup.Escape(entry.Name)}[/]: {Markup.Escape(entry.Summary)}");
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("parameter").AddColumn(new TableColumn("default").RightAligned()).AddColumn("meaning");
            foreach (var (parameter, description, value) in entry.Parameters)
                table.AddRow(Markup.Escape(parameter), SolveCommand.Format(value), Markup.Escape(description));
            console.Write(table);
            var recommended = SolverSettings.Differences(SolverSpec.For(entry.Create(new Dictionary<string, double>())));
            if (recommended.Count > 0)
                console.WriteLine("  solved by default with: " + string.Join(", ", recommended.Select(kv => $"{kv.Key} {kv.Value}")));
        }
        console.WriteLine("Solve one with: ./deqn solve <model> [--set name=value ...] [--config configs/solve-<model>.yaml]");
        return 0;
    }
}
