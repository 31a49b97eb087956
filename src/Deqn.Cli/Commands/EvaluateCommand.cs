using Deqn.Cli.Options;
using Deqn.Cli.Runs;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Persistence;
using Spectre.Console;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary><c>deqn evaluate &lt;run&gt;</c>: recomputes a solved model's diagnostics from its run folder (config and policy network).</summary>
public sealed class EvaluateCommand(ModelCatalog catalog) : CliCommand
{
    public override string Name => "evaluate";

    public override string Description =>
        "Recompute the diagnostics and the verdict of a 'deqn solve' run from its folder: Euler errors on a fresh path and on the " +
        "initial region, the steady state and first-order checks, the policy against the closed form or reference, CSVs, plots and " +
        "report.md, written to <run>/evaluation-<time> (or --out). From the run it reuses the model and its parameters (config.yaml), " +
        "the trained network (policy.deqn), the states it was trained on (training-states.csv), what its polish guard recorded (summary.json) and every --eval-* and --verdict-* " +
        "setting it had; the options below replace those.";

    public override IReadOnlyList<string> Examples => new[]
    {
        "./deqn evaluate runs/solve-stochastic-growth-20261127-101500",
        "./deqn evaluate runs/solve-brock-mirman-20261127-101500 --eval-periods 100000 --eval-nodes 20",
    };

    public override IReadOnlyList<OptionDef> Positionals { get; } = new OptionDef[]
    {
        new("run", null, "the run folder of a deqn solve", "Evaluate", ValueName: "folder"),
    };

    private static readonly string[] EvaluationKeys = ["eval-periods", "eval-burn-in", "eval-quadrature", "eval-nodes", "eval-grid", "eval-seed",
        "verdict-mean-residual", "verdict-max-residual", "verdict-slope-tolerance"];

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } =
        new SolveCommand().AllOptions.Where(d => EvaluationKeys.Contains(d.Name)).Select(d => d with { Default = null }).ToArray();

    public override int Execute(Settings now, Terminal terminal, CancellationToken cancel)
    {
        var folder = now.Required("run", "the folder of a deqn solve run");
        var config = Path.Combine(folder, "config.yaml");
        var policyFile = Path.Combine(folder, SolveCommand.PolicyFile);
        if (!Directory.Exists(folder)) throw now.Error("run", $"{folder} is not a folder");
        if (!File.Exists(config)) throw now.Error("run", $"{folder} is not a run folder (no config.yaml)");
        if (!File.Exists(policyFile)) throw now.Error("run", $"{folder} has no {SolveCommand.PolicyFile}; is it a deqn solve run?");

        var solve = new SolveCommand(catalog);
        var s = new Settings(solve.AllOptions);
        foreach (var (key, value) in ConfigFile.Load(config))
        {
            if (!s.IsKnown(key)) throw new UsageException($"{config}: key '{key}' is not a solve setting; is {folder} a solve run?");
            s.Set(key, value, config);
        }
        foreach (var key in EvaluationKeys)
            if (now.String(key) is { } v) s.Set(key, v, "command line");
        var (entry, model) = solve.BuildModel(s);
        var spec = SolveCommand.BuildSolver(s);
        var diagnostics = SolveCommand.BuildDiagnostics(s);

        using var trained = TrainedModel.Load(policyFile);
        if (!trained.Metadata.Provenance.TryGetValue("deqn-model", out var saved) || saved != entry.Name)
            throw now.Error("run", $"{policyFile} is not a policy of model '{entry.Name}'");
        var out_ = now.String("out") ?? Path.Combine(folder, $"evaluation-{DateTime.Now:yyyyMMdd-HHmmss}");
        var run = RunFolder.Create(out_, "evaluate", entry.Name, now);
        // The saved scaling, not the initial box: features and --input-scaling simulated are scaled by the trained statistics.
        PolicyNetwork policy;
        try { policy = PolicyNetwork.From(model, trained); }
        catch (ArgumentException e) { throw new ModelFileException($"{policyFile}: {e.Message}"); }
        var console = terminal.Console;
        console.MarkupLine($"[bold]deqn evaluate[/] {Markup.Escape(folder)}: {Markup.Escape(model.Title)}; a fresh {diagnostics.Periods:N0}-period path…");
        var linear = LinearSolution.Of(model);
        SolveCommand.PrintLinear(console, linear);
        var report = SolutionDiagnostics.Run(model, policy, diagnostics, trained.Network.DType);
        var assessment = SolveCommand.Assess(s, model, policy, report, linear, TrainingStates(Path.Combine(folder, SolveCommand.TrainingStatesFile), model), diagnostics, trained.Network.DType,
            Guard(Path.Combine(folder, "summary.json")));
        SolveReport.Write(run.Path, entry, model, spec, null, report, diagnostics, s, assessment);
        SolveReport.Print(console, model, null, report, run.Path, assessment);
        return assessment.Verdict.Status == VerdictStatus.Failed ? Entry.Failure : 0;
    }

    /// <summary>
    /// What the run's polish guard recorded in its summary.json (null when the run predates it or has no summary: the
    /// verdict then calls the polish check not applicable).
    /// </summary>
    private static PolishGuard? Guard(string summaryFile)
    {
        if (!File.Exists(summaryFile)) return null;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(summaryFile));
            var root = doc.RootElement;
            double? Number(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number ? v.GetDouble() : null;
            if (Number("polish_rounds_guarded") is not double rounds) return null;
            var halt = Number("polish_halted_after_round") is double round && Number("polish_halted_slope_gap") is double gap
                && Number("polish_halted_fresh_loss_before") is double before && Number("polish_halted_fresh_loss_after") is double after
                ? new PolishHalt((int)round, gap, before, after) : null;
            return new PolishGuard((int)rounds, halt);
        }
        catch (System.Text.Json.JsonException) { return null; }
    }

    /// <summary>The run's training states (empty when the run predates them or the file does not fit the model).</summary>
    private static double[,] TrainingStates(string file, Model model)
    {
        if (!File.Exists(file)) return new double[0, 0];
        var table = Deqn.Training.Data.CsvTable.Load(file);
        var names = model.StateColumns.Select(c => c.Name).ToArray();
        if (!names.All(table.Columns.Contains)) return new double[0, 0];
        var columns = names.Select(table.Numeric).ToArray();
        var states = new double[table.RowCount, names.Length];
        for (int j = 0; j < names.Length; j++)
            for (int i = 0; i < table.RowCount; i++) states[i, j] = columns[j][i];
        return states;
    }
}
