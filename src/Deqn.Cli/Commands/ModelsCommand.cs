using System.Globalization;
using Deqn.Cli.Options;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Solving;
using Spectre.Console;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary>
/// <c>deqn models</c>: the models <c>deqn solve</c> knows, with their parameters and defaults; <c>deqn models &lt;name&gt;</c>:
/// one model in full — its equations, variables with their dimensions, parameters with their ranges, and its reference.
/// </summary>
public sealed class ModelsCommand(ModelCatalog catalog) : CliCommand
{
    public override string Name => "models";

    public override string Description => "List the models 'deqn solve' can solve, with their parameters and defaults (override them with --set name=value or a 'calibration:' section in a config file). With a name: that model's equations, states, policies and shocks, parameters with their valid ranges, and what a solution is checked against.";

    public override IReadOnlyList<string> Examples => new[] { "./deqn models", "./deqn models brock-mirman-labor", "./deqn models --model stochastic-growth" };

    public override IReadOnlyList<OptionDef> Positionals { get; } = new OptionDef[]
    {
        new("name", null, "show this model in full (see the list for the names)", "Models", ValueName: "name"),
    };

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = new OptionDef[]
    {
        new("model", null, "the same as the positional name", "Models", ValueName: "name"),
    };

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var console = terminal.Console;
        string? positional = s.String("name"), option = s.String("model");
        if (positional is not null && option is not null && !string.Equals(positional, option, StringComparison.OrdinalIgnoreCase))
            throw s.Error("model", $"names model '{option}' but the command line names '{positional}'; give one");
        if ((positional ?? option) is not null)
        {
            Describe(console, s.Parse(positional is not null ? "name" : "model", catalog.Find));
            return 0;
        }
        foreach (var entry in catalog.Entries)
        {
            console.MarkupLine($"[bold]{Markup.Escape(entry.Name)}[/]: {Markup.Escape(entry.Summary)}");
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("parameter").AddColumn(new TableColumn("default").RightAligned()).AddColumn("meaning");
            foreach (var (parameter, description, value) in entry.Parameters)
                table.AddRow(Markup.Escape(parameter), SolveCommand.Format(value), Markup.Escape(description));
            console.Write(table);
            Recommended(console, entry.Create(new Dictionary<string, double>()));
        }
        console.WriteLine("Show one in full with: ./deqn models <model>");
        console.WriteLine("Solve one with: ./deqn solve <model> [--set name=value ...] [--config configs/solve-<model>.yaml]");
        return 0;
    }

    /// <summary>One model in full: the equations as the model writes them, its variables with dimensions, parameters with ranges, its reference.</summary>
    private static void Describe(IAnsiConsole console, ModelEntry entry)
    {
        var model = entry.Create(new Dictionary<string, double>());
        console.MarkupLine($"[bold]{Markup.Escape(entry.Name)}[/]: {Markup.Escape(entry.Summary)}");
        console.WriteLine($"  {model.Title}");

        console.WriteLine();
        console.MarkupLine("[bold]Equations[/] (′: next period; E: expectation over next period's shocks)");
        if (model.Formulas.Count == 0) console.WriteLine("  (the model does not write its formulas out)");
        foreach (var line in model.Formulas) console.WriteLine($"  {line}");

        console.WriteLine();
        var variables = new Table().Border(TableBorder.Simple).Title("[bold]States, policies, features and shocks[/]");
        variables.AddColumn("kind").AddColumn("name").AddColumn(new TableColumn("dim").RightAligned()).AddColumn("values").AddColumn("meaning");
        foreach (var state in model.States)
        {
            string values = state.Chain is { } chain
                ? $"Markov chain over {string.Join(", ", chain.Labels)}{(chain.IsIid ? $", iid with probabilities {string.Join(", ", chain.Stationary.Select(p => p.ToString("G4", CultureInfo.InvariantCulture)))}" : "")}"
                : state.Initials.Distinct().Count() == 1 ? $"starts ~ {state.Initial}"
                : state.Size <= 3 ? $"starts ~ {string.Join("; ", state.Initials)}"
                : $"starts ~ {state.Initials[0]} ({state.ElementNames[0]}) … {state.Initials[^1]} ({state.ElementNames[^1]})";
            variables.AddRow(state.Chain is null ? "state" : "exogenous", Markup.Escape(state.Name), Dimension(state), Markup.Escape(values), Markup.Escape(state.Description));
        }
        foreach (var policy in model.Policies)
            variables.AddRow("policy", Markup.Escape(policy.Name), Dimension(policy), Markup.Escape(Output(policy)), Markup.Escape(policy.Description));
        foreach (var feature in model.Features)
            variables.AddRow("feature", Markup.Escape(feature.Name), Dimension(feature), "a network input computed from the states", Markup.Escape(feature.Description));
        string correlation = model.ShocksIndependent ? "" : " (correlated; see the model's covariance)";
        foreach (var shock in model.Shocks)
            variables.AddRow("shock", Markup.Escape(shock.Name), "1", Markup.Escape($"N(0, σ²), σ = {SolveCommand.Format(shock.Sigma)}{correlation}"), Markup.Escape(shock.Description));
        console.Write(variables);

        var parameters = new Table().Border(TableBorder.Simple).Title("[bold]Parameters[/] (set with --set name=value)");
        parameters.AddColumn("parameter").AddColumn(new TableColumn("default").RightAligned()).AddColumn("range").AddColumn("meaning");
        foreach (var (name, description, value) in entry.Parameters)
            parameters.AddRow(Markup.Escape(name), SolveCommand.Format(value), Markup.Escape(entry.ParameterRanges.GetValueOrDefault(name) ?? "—"), Markup.Escape(description));
        console.Write(parameters);

        console.WriteLine($"Checked against: {model.ReferenceSummary ?? (model.HasClosedForm ? "its closed form" : "nothing (no closed form or reference solution for this calibration: judge it by its verdict)")}");
        SolveCommand.PrintLinear(console, Deqn.Equilibrium.Perturbation.LinearSolution.Of(model));
        Recommended(console, model);
    }

    private static string Dimension(Variable v) => v.IsVector ? v.Size.ToString(CultureInfo.InvariantCulture) : "1";

    private static string Output(Policy policy) => policy.Output switch
    {
        PolicyOutput.Implied => $"sigmoid into ({policy.Bounds!.Lower:G6}, {policy.Bounds.Upper:G6})",
        PolicyOutput.Softplus => "softplus: > 0",
        PolicyOutput.Exp => "exp: > 0",
        _ => "linear",
    } + (policy.Output != PolicyOutput.Implied && policy.Bounds is { } b ? $", bounds {b}" : "");

    private static void Recommended(IAnsiConsole console, Model model)
    {
        var recommended = SolverSettings.Differences(SolverSpec.For(model));
        if (recommended.Count > 0)
            console.WriteLine("  solved by default with: " + string.Join(", ", recommended.Select(kv => $"{kv.Key} {kv.Value}")));
    }
}
