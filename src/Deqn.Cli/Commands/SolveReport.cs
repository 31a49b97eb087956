using System.Globalization;
using Deqn.Cli.Options;
using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Solving;
using Deqn.Reports;
using Spectre.Console;
using BarChart = Deqn.Reports.BarChart;

namespace Deqn.Cli.Commands;

/// <summary>A solved model's diagnostics as the files economists read: CSVs, plots (PNG and SVG), report.md, and a console summary.</summary>
/// <summary>What a run's report says about trusting it: the verdict with its thresholds, and the steady state and first-order solution it was judged against.</summary>
public sealed record SolveAssessment(Verdict Verdict, LinearSolution Linear, VerdictSpec Thresholds)
{
    /// <summary>Lines that belong beside the verdict: a polish cut by the time budget, a training failure, the last good checkpoint.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

public static class SolveReport
{
    public static void Write(string folder, ModelEntry entry, Model model, SolverSpec spec, SolveResult? result, SolutionReport report, DiagnosticsSpec diagnostics, Settings settings,
        SolveAssessment assessment)
    {
        Directory.CreateDirectory(folder);
        string File(string name) => Path.Combine(folder, name);
        TidyCsv.Write(File("path.csv"), report.PathColumns, Enumerable.Range(0, report.Path.GetLength(0))
            .Select(i => (IReadOnlyList<object?>)Enumerable.Range(0, report.PathColumns.Count).Select(j => (object?)report.Path[i, j]).ToArray()));
        TidyCsv.Write(File("euler-errors.csv"), ["equation", "statistic", "value", "log10"], report.Errors.SelectMany(e => Statistics(e.Value)
            .Select(x => (IReadOnlyList<object?>)[e.Key, x.Name, x.Value, Math.Log10(x.Value)])));
        TidyCsv.Write(File("policy-errors.csv"), ["policy", "where", "reference", "mean_rel_error", "max_rel_error"],
            report.Comparisons.Select(c => (IReadOnlyList<object?>)[c.Policy, c.Where, report.ReferenceName, c.Mean, c.Max]));
        TidyCsv.Write(File("policy-slices.csv"), ["state", "policy", "x", "solution", "reference"], report.Slices.SelectMany(sl =>
            sl.X.Select((x, i) => (IReadOnlyList<object?>)[sl.State, sl.Policy, x, sl.Solution[i], sl.Reference?[i]])));

        WriteSummary(File("summary.json"), entry, model, spec, result, report, assessment);

        // Plot labels take the reference's short name ("time iteration"); its details are in report.md.
        string? reference = report.ReferenceName?.Split(" (")[0];
        var plots = new List<(string Title, string File)>();
        Directory.CreateDirectory(File("plots"));
        foreach (var group in report.Slices.GroupBy(sl => sl.Policy))
        {
            var panels = group.Select(sl =>
            {
                var series = new List<Series> { new("DEQN", sl.X, sl.Solution) };
                if (sl.Reference is not null) series.Add(new(reference ?? "reference", sl.X, sl.Reference));
                var others = model.StateWidth <= 3 ? string.Join(", ", model.StateColumns.Select(x => x.Name).Where(x => x != sl.State)) : "others";
                // A Markov chain's few states are points, not a curve.
                return new LineChart($"{sl.Policy} against {sl.State}" + (others.Length > 0 ? $" ({others} at median)" : ""), sl.State, sl.Policy, series) { Markers = sl.X.Length <= 10 };
            }).ToArray();
            var name = $"policy-{Safe(group.Key)}";
            string title = $"Policy {group.Key}: DEQN" + (reference is null ? "" : $" vs {reference}");
            if (panels.Length == 1) ChartRenderer.Save(panels[0] with { Title = title }, File(Path.Combine("plots", name)));
            else ChartRenderer.Save(new GridOfCharts(title, panels, Math.Min(2, panels.Length)), File(Path.Combine("plots", name)));
            plots.Add(($"Policy {group.Key} against each state", $"plots/{name}.png"));
        }

        if (result is not null && result.History.Count > 1)
        {
            var h = result.History.Where(r => double.IsFinite(r.Value("loss")) && r.Value("loss") > 0).ToArray();
            // Polish rounds are one logged episode each but can take half the training time: with them the x axis is
            // training seconds, so the rounds show as the steps they are.
            bool polished = h.Any(r => r.Epoch > spec.Episodes);
            double X(Deqn.Training.Loop.EpochRecord r) => polished ? r.Seconds : r.Epoch;
            string xLabel = polished && h.FirstOrDefault(r => r.Epoch == spec.Episodes) is { } last
                ? string.Create(CultureInfo.InvariantCulture, $"training s (polish from {last.Seconds:0.#} s)")
                : "episode";
            var episodes = h.Select(X).ToArray();
            var training = new GridOfCharts("Training", [
                new LineChart("Loss (mean squared residuals + penalties)", xLabel, "loss", [new Series("loss", episodes, h.Select(r => r.Value("loss")).ToArray())]) { YScale = AxisScale.Log10, Markers = false },
                new LineChart("|Euler residual| on the episode's states", xLabel, "|residual|", [
                    new Series("mean", episodes, h.Select(r => r.Metrics["euler_mean"]).ToArray()),
                    new Series("max", episodes, h.Select(r => r.Metrics["euler_max"]).ToArray())]) { YScale = AxisScale.Log10, Markers = false },
            ], 2);
            var tracked = h.Where(r => r.Metrics.ContainsKey("policy_max_rel_error")).ToArray();
            if (tracked.Length > 1)
            {
                var policyNames = model.PolicyColumns.Select(p => p.Name).Where(p => tracked[0].Metrics.ContainsKey($"policy_max_rel_error_{p}")).Take(8).ToArray();
                var series = policyNames.SelectMany(p => new[]
                {
                    new Series($"{p} mean", tracked.Select(X).ToArray(), tracked.Select(r => r.Metrics[$"policy_mean_rel_error_{p}"]).ToArray()),
                    new Series($"{p} max", tracked.Select(X).ToArray(), tracked.Select(r => r.Metrics[$"policy_max_rel_error_{p}"]).ToArray()),
                }).ToArray();
                training = training with
                {
                    Panels = [.. training.Panels, new LineChart($"Policy vs {reference} (grid)", xLabel, "relative error", series) { YScale = AxisScale.Log10, Markers = false }],
                };
            }
            ChartRenderer.Save(training, File("plots/training"));
            plots.Add((polished ? "Loss, Euler residuals and policy error over training time" : "Loss, Euler residuals and policy error over episodes", "plots/training.png"));
        }

        // One histogram per scalar equation and per vector equation's first and last element: a vector's elements
        // are summarized in the tables, not drawn one by one.
        foreach (var (equation, _) in report.Errors.Where(e => report.PathColumns.Contains($"error_{e.Key}") && (!e.Key.Contains('[') || e.Key.EndsWith("[1]", StringComparison.Ordinal) || !report.Errors.ContainsKey(NextElement(e.Key)))))
        {
            int column = report.PathColumns.ToList().IndexOf($"error_{equation}");
            var logs = Enumerable.Range(0, report.Path.GetLength(0)).Select(i => report.Path[i, column]).Where(double.IsFinite)
                .Select(v => Math.Log10(Math.Max(Math.Abs(v), 1e-17))).ToArray();
            if (logs.Length == 0) continue;
            double lo = Math.Floor(logs.Min() * 4) / 4, hi = Math.Ceiling(logs.Max() * 4) / 4;
            if (hi <= lo) hi = lo + 0.25;
            int bins = (int)Math.Round((hi - lo) / 0.25);
            var counts = new double[bins];
            foreach (var v in logs) counts[Math.Min(bins - 1, (int)((v - lo) / 0.25))]++;
            var name = $"euler-errors-{Safe(equation)}";
            ChartRenderer.Save(new BarChart($"log10 |{equation} error| on the fresh {logs.Length:N0}-period path", "periods",
                Enumerable.Range(0, bins).Select(b => (lo + 0.25 * b).ToString("0.00", CultureInfo.InvariantCulture)).ToArray(),
                [("periods", counts, null, null)]), File(Path.Combine("plots", name)));
            plots.Add(($"Histogram of log10 |{equation} error| on the fresh path", $"plots/{name}.png"));
        }

        int shown = Math.Min(500, report.Path.GetLength(0));
        if (shown < 2)
        {
            WriteMarkdown(File("report.md"), entry, model, spec, result, report, diagnostics, settings, plots, assessment);
            return;
        }
        var t = Enumerable.Range(0, shown).Select(i => (double)i).ToArray();
        // One panel per scalar state and policy; a vector's elements share a panel.
        LineChart Panel(string name, IReadOnlyList<string> elements, int first, int periods = 0)
        {
            periods = periods > 0 ? Math.Min(periods, shown) : shown;
            return new(name + (periods < shown ? $" (first {periods} periods)" : ""), "period", name,
                elements.Take(8).Select((e, k) => new Series(e, t[..periods], Enumerable.Range(0, periods).Select(i => report.Path[i, first + k]).ToArray())).ToArray())
            { Markers = periods < shown };
        }
        // A Markov chain jumps between a few states: 50 periods as points show its regimes, 500 would be a solid block.
        var pathPanels = model.States.Select(x => Panel(x.Name, x.ElementNames, 1 + x.Index, x.Chain is null ? 0 : 50))
            .Concat(model.Policies.Select(p => Panel(p.Name, p.ElementNames, 1 + model.StateWidth + p.Index)))
            .ToArray();
        ChartRenderer.Save(new GridOfCharts($"The first {shown} periods of the evaluation path", pathPanels, Math.Min(2, pathPanels.Length)), File("plots/path"));
        plots.Add(($"The first {shown} periods of the evaluation path", "plots/path.png"));

        WriteMarkdown(File("report.md"), entry, model, spec, result, report, diagnostics, settings, plots, assessment);
    }

    /// <summary>
    /// A run that stopped before it could be evaluated (a non-finite residual in training): report.md and summary.json
    /// say so, with the verdict "failed", the reason and the last good checkpoint, so no earlier report is mistaken for it.
    /// </summary>
    public static void WriteFailure(string folder, ModelEntry entry, Model model, SolverSpec spec, string reason, IReadOnlyList<string> notes, LinearSolution linear)
    {
        var verdict = Verdict.Failure(reason);
        var summary = new Dictionary<string, object?>
        {
            ["model"] = entry.Name,
            ["title"] = model.Title,
            ["parameters"] = model.Parameters.ToDictionary(p => p.Name, p => Num(p.Value)),
            ["verdict"] = verdict.Word,
            ["reasons"] = verdict.Reasons,
            ["notes"] = notes,
            ["steady_state"] = SteadyStateJson(linear),
            ["network"] = spec.Network.Hidden.Select(h => $"{h.Width} {h.Activation.ToString().ToLowerInvariant()}").ToArray(),
        };
        Deqn.Training.Persistence.AtomicFile.WriteAllText(Path.Combine(folder, "summary.json"), System.Text.Json.JsonSerializer.Serialize(summary, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        var md = new MarkdownReport();
        md.Heading(1, $"deqn solve {entry.Name}: {model.Title}");
        md.Paragraph($"**Verdict: failed.** {reason}");
        if (notes.Count > 0) md.List(notes);
        WriteLinear(md, model, linear);
        md.Heading(2, "Command");
        md.Code("deqn " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)), "sh");
        md.Save(Path.Combine(folder, "report.md"));
    }

    /// <summary>A number for JSON: non-finite values are null (JSON has no NaN).</summary>
    private static object? Num(double v) => double.IsFinite(v) ? v : null;

    private static Dictionary<string, object?> SteadyStateJson(LinearSolution linear)
    {
        var steady = linear.SteadyState;
        return new Dictionary<string, object?>
        {
            ["status"] = steady.Status.ToString().ToLowerInvariant(),
            ["message"] = steady.Message,
            ["chains"] = steady.Chains,
            ["states"] = steady.States.ToDictionary(v => v.Name, v => Num(v.Value)),
            ["policies"] = steady.Policies.ToDictionary(v => v.Name, v => Num(v.Value)),
            ["definitions"] = steady.Definitions.ToDictionary(v => v.Name, v => Num(v.Value)),
            ["first_order"] = new Dictionary<string, object?>
            {
                ["status"] = linear.Status.ToString(),
                ["message"] = linear.Message,
                ["stable_roots"] = linear.StableRoots,
                ["spectral_radius"] = linear.Solved ? Num(linear.SpectralRadius) : null,
            },
        };
    }

    /// <summary>The steady state and the first-order solution, as report.md shows them.</summary>
    private static void WriteLinear(MarkdownReport md, Model model, LinearSolution linear)
    {
        var steady = linear.SteadyState;
        md.Heading(2, "Steady state and first-order solution");
        md.Paragraph($"Deterministic steady state (shocks at zero{(steady.Chains.Count > 0 ? "; " + string.Join("; ", steady.Chains) : "")}): {steady.Message}.");
        if (steady.Found)
        {
            var rows = steady.States.Select(v => (IReadOnlyList<string>)["state", v.Name, F(v.Value)])
                .Concat(steady.Policies.Select(v => (IReadOnlyList<string>)["policy", v.Name, F(v.Value)]))
                .Concat(steady.Definitions.Select(v => (IReadOnlyList<string>)["definition", v.Name, F(v.Value)])).ToArray();
            md.Table(["kind", "name", "value"], rows.Length <= 60 ? rows : rows.Take(60).Append(["…", $"{rows.Length - 60} more in summary.json", ""]));
        }
        md.Paragraph($"First-order perturbation: {linear.Message}.");
        if (linear.Solved && linear.States.Count <= 6 && linear.Policies.Count <= 12)
            md.Table(["∂ policy / ∂ state", .. linear.States], linear.Policies.Select((p, i) => (IReadOnlyList<string>)[p, .. linear.States.Select((_, j) => F(linear.PolicySlopes[i, j]))]));
    }

    private static void WriteVerdict(MarkdownReport md, SolveAssessment assessment)
    {
        var verdict = assessment.Verdict;
        md.Heading(2, $"Verdict: {verdict.Word}");
        md.Paragraph(verdict.Status switch
        {
            VerdictStatus.Solved => "Every check below passed.",
            VerdictStatus.Suspect => "Do not use this solution as it is: " + string.Join("; ", verdict.Reasons) + ". What each check means and what to do: docs/when-deqn-fails.md.",
            _ => "No usable solution: " + string.Join("; ", verdict.Reasons) + ".",
        });
        if (verdict.Rules.Count > 0)
            md.Table(["check", "outcome", "measured", "needs"], verdict.Rules.Select(r => (IReadOnlyList<string>)
                [r.Name, r.Outcome switch { RuleOutcome.Pass => "pass", RuleOutcome.Fail => "**fail**", _ => "not applicable" }, r.Measured, r.Threshold]));
        if (verdict.Notes.Count + assessment.Notes.Count > 0) md.List([.. verdict.Notes, .. assessment.Notes]);
    }

    // "euler[3]" → "euler[4]".
    private static string NextElement(string element)
    {
        int open = element.LastIndexOf('[');
        return $"{element[..open]}[{int.Parse(element[(open + 1)..^1], CultureInfo.InvariantCulture) + 1}]";
    }

    /// <summary>The numbers of the run in one machine-readable file (benchmarks and scripts read it).</summary>
    private static void WriteSummary(string path, ModelEntry entry, Model model, SolverSpec spec, SolveResult? result, SolutionReport report, SolveAssessment assessment)
    {
        var verdict = assessment.Verdict;
        var summary = new Dictionary<string, object?>
        {
            ["model"] = entry.Name,
            ["title"] = model.Title,
            ["verdict"] = verdict.Word,
            ["reasons"] = verdict.Reasons,
            ["checks"] = verdict.Rules.Select(r => new Dictionary<string, string> { ["name"] = r.Name, ["outcome"] = r.Outcome.ToString().ToLowerInvariant(), ["measured"] = r.Measured, ["needs"] = r.Threshold }).ToArray(),
            ["notes"] = verdict.Notes.Concat(assessment.Notes).ToArray(),
            ["thresholds"] = new Dictionary<string, double>
            {
                ["mean_residual"] = assessment.Thresholds.MeanResidual, ["max_residual"] = assessment.Thresholds.MaxResidual,
                ["slope_tolerance"] = assessment.Thresholds.SlopeTolerance, ["inside_share"] = assessment.Thresholds.InsideShare,
                ["range_widening"] = assessment.Thresholds.RangeWidening, ["clipped_share"] = assessment.Thresholds.ClippedShare,
            },
            ["evaluation_failure"] = report.Failure,
            ["steady_state"] = SteadyStateJson(assessment.Linear),
            ["polish_rounds_planned"] = result?.PolishRounds.Planned,
            ["polish_rounds_run"] = result?.PolishRounds.Run,
            ["paths_collapsed_at_episode"] = result?.CollapsedAt,
            ["strays_restarted"] = result?.Strays,
            ["polish_rounds_guarded"] = result?.GuardedRounds,
            ["polish_steps_taken"] = result?.PolishSteps?.Taken,
            ["polish_steps_rejected"] = result?.PolishSteps?.Rejected,
            ["polish_cg_iterations"] = result?.PolishSteps?.Iterations,
            ["polish_solver"] = result?.PolishSteps?.Solver,
            ["polish_halted_after_round"] = result?.PolishHalted?.Round,
            ["polish_halted_slope_gap"] = result?.PolishHalted?.Gap,
            ["polish_halted_fresh_loss_before"] = result?.PolishHalted?.FreshLossBefore,
            ["polish_halted_fresh_loss_after"] = result?.PolishHalted?.FreshLossAfter,
            ["warm_start"] = result?.WarmStart,
            ["parameters"] = model.Parameters.ToDictionary(p => p.Name, p => p.Value),
            ["episodes"] = result?.Episodes,
            ["steps"] = result?.Steps,
            ["training_seconds"] = result?.Seconds,
            ["stop"] = result?.Stop.ToString(),
            ["stop_message"] = result?.StopMessage,
            ["final_loss"] = result is { History.Count: > 0 } ? Num(result.History[^1].Value("loss")) : null,
            ["quadrature"] = report.Quadrature,
            ["euler_errors"] = report.Errors.ToDictionary(e => e.Key, e => new Dictionary<string, object?>
            {
                ["mean"] = Num(e.Value.Mean), ["median"] = Num(e.Value.Median), ["p90"] = Num(e.Value.P90), ["p99"] = Num(e.Value.P99), ["max"] = Num(e.Value.Max),
                ["non_finite"] = e.Value.NonFinite,
            }),
            ["reference"] = report.ReferenceName,
            ["policy_errors"] = report.Comparisons.Select(c => new Dictionary<string, object> { ["policy"] = c.Policy, ["where"] = c.Where, ["mean"] = c.Mean, ["max"] = c.Max }).ToArray(),
            ["grid_box"] = report.GridBox.ToDictionary(b => b.State, b => new[] { b.Low, b.High }),
            ["definitions_on_path"] = DefinitionRanges(model, report).ToDictionary(d => d.Name, d => new Dictionary<string, object?> { ["min"] = Num(d.Min), ["mean"] = Num(d.Mean), ["max"] = Num(d.Max) }),
            ["network"] = spec.Network.Hidden.Select(h => $"{h.Width} {h.Activation.ToString().ToLowerInvariant()}").ToArray(),
        };
        Deqn.Training.Persistence.AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(summary, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Each definition's min, mean and max along the evaluation path (its column of <see cref="SolutionReport.Path"/>).</summary>
    internal static IEnumerable<(string Name, string Description, double Min, double Mean, double Max)> DefinitionRanges(Model model, SolutionReport report)
    {
        int rows = report.Path.GetLength(0);
        var columns = report.PathColumns.ToList();
        foreach (var definition in model.Definitions)
        {
            // A long vector's first, middle and last elements stand for it (path.csv has them all).
            var names = definition.ElementNames;
            var shown = names.Count <= 3 ? names : [names[0], names[names.Count / 2], names[^1]];
            foreach (var name in shown)
            {
                int column = columns.IndexOf(name);
                if (column < 0 || rows == 0) continue;
                var values = Enumerable.Range(0, rows).Select(i => report.Path[i, column]).ToArray();
                yield return (name, definition.Description, values.Min(), values.Average(), values.Max());
            }
        }
    }

    private static IEnumerable<(string Name, double Value)> Statistics(EulerErrorStatistics s) =>
        [("mean", s.Mean), ("median", s.Median), ("p90", s.P90), ("p99", s.P99), ("max", s.Max)];

    private static void WriteMarkdown(string path, ModelEntry entry, Model model, SolverSpec spec, SolveResult? result, SolutionReport report, DiagnosticsSpec diagnostics,
        Settings settings, List<(string Title, string File)> plots, SolveAssessment assessment)
    {
        var md = new MarkdownReport();
        md.Heading(1, $"deqn solve {entry.Name}: {model.Title}");
        md.Paragraph(string.Join(", ", model.Parameters.Select(p => $"{p.Name} = {SolveCommand.Format(p.Value)}")) + ".");
        if (result is not null)
        {
            md.Paragraph($"Trained {result.Episodes:N0} episodes ({result.Steps:N0} steps) in {result.Seconds:F1} s; stopped: {result.StopMessage}. Network {PolicyNetwork.InputWidth(model)} → {string.Join(" → ", spec.Network.Hidden.Select(h => $"{h.Width} {h.Activation.ToString().ToLowerInvariant()}"))} → {model.PolicyWidth}, " +
                $"{spec.Network.Precision.ToString().ToLowerInvariant()}; training expectations by {result.Quadrature}. Final loss {MarkdownReport.FormatNumber(result.History[^1].Value("loss"))}." +
                (result.WarmStart is { } start ? $" Started from {start}." : ""));
        }
        WriteVerdict(md, assessment);
        md.Heading(2, "Euler errors on a fresh path");
        md.Paragraph($"Relative Euler errors |e| on {report.Periods:N0} periods of a fresh simulated path (seed {diagnostics.Seed}, after {diagnostics.BurnIn} burn-in periods), expectations by {report.Quadrature}." +
            (report.Failure is { } failure ? $" The path was to have {diagnostics.Periods:N0} periods: {failure}." : ""));
        md.Table(["equation", "mean", "median", "p90", "p99", "max", "log10 mean", "log10 max", "non-finite"], report.Errors.Select(e => (IReadOnlyList<string>)
        [
            e.Key, F(e.Value.Mean), F(e.Value.Median), F(e.Value.P90), F(e.Value.P99), F(e.Value.Max),
            L(e.Value.Log10Mean), L(e.Value.Log10Max), e.Value.NonFinite.ToString("N0", CultureInfo.InvariantCulture),
        ]));
        WriteLinear(md, model, assessment.Linear);
        if (model.Definitions.Count > 0)
        {
            md.Heading(2, "Definitions along the path");
            md.Paragraph($"Each definition's smallest, mean and largest value on the same {diagnostics.Periods:N0} periods (every period is in `path.csv`): where a multiplier is one, its sign says where a constraint binds.");
            md.Table(["definition", "meaning", "min", "mean", "max"], DefinitionRanges(model, report).Select(d => (IReadOnlyList<string>)
                [d.Name, d.Description, F(d.Min), F(d.Mean), F(d.Max)]));
        }
        if (report.ReferenceName is not null)
        {
            md.Heading(2, $"Policy against the {report.ReferenceName}");
            string ergodic = !model.IsStochastic ? " (the initial distribution's range)" : " (the 0.5 %–99.5 % range of the reference's own simulated paths: its ergodic set)";
            md.Paragraph(report.Comparisons.Any(c => c.Where == "grid")
                ? $"Relative error |policy / reference − 1| on a {diagnostics.GridPoints}-point-per-state grid over " +
                  string.Join(" × ", report.GridBox.Select(b => $"{b.State} ∈ [{F(b.Low)}, {F(b.High)}]")) + ergodic + ", and along the path."
                : $"Relative error |policy / reference − 1| on {diagnostics.SampleSize:N0} states sampled from the reference's own simulated ergodic set " +
                  $"(with {model.StateWidth} states a grid is out of reach), and along the path.");
            md.Table(["policy", "where", "mean rel. error", "max rel. error"], report.Comparisons.Select(c => (IReadOnlyList<string>)[c.Policy, c.Where, F(c.Mean), F(c.Max)]));
        }
        md.Heading(2, "Plots");
        foreach (var (title, file) in plots) md.Image(title, file);
        md.Heading(2, "Files");
        md.List([
            "`config.yaml`: the merged settings; rerun with `./deqn solve --config config.yaml --out <new folder>`",
            "`history.csv`, `tensorboard/`: loss, per-equation residuals, penalties, learning rate per logged episode",
            "`policy.deqn` (and `policy.safetensors`): the trained network (`./deqn predict policy.deqn states.csv`: its policies and definitions at any states); `checkpoints/last.ckpt`: everything to resume",
            "`summary.json`: the numbers of this report in one machine-readable file",
            "`path.csv`: the evaluation path with states, policies, definitions and errors; `euler-errors.csv`, `policy-errors.csv`, `policy-slices.csv`",
        ]);
        md.Heading(2, "Command");
        md.Code("deqn " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)), "sh");
        md.Save(path);
    }

    public static void Print(IAnsiConsole console, Model model, SolveResult? result, SolutionReport report, string folder, SolveAssessment assessment)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Euler errors on a fresh path");
        foreach (var h in new[] { "equation", "mean", "p99", "max", "log10 mean", "log10 max" }) table.AddColumn(h);
        foreach (var (name, s) in report.Errors)
            table.AddRow(Markup.Escape(name), F(s.Mean), F(s.P99), F(s.Max), L(s.Log10Mean), L(s.Log10Max));
        if (report.Errors.Count > 0) console.Write(table);
        if (report.ReferenceName is not null)
        {
            var policy = new Table().Border(TableBorder.Rounded).Title($"Policy vs {Markup.Escape(report.ReferenceName)}");
            foreach (var h in new[] { "policy", "where", "mean rel. error", "max rel. error" }) policy.AddColumn(h);
            foreach (var c in report.Comparisons) policy.AddRow(Markup.Escape(c.Policy), c.Where, F(c.Mean), F(c.Max));
            console.Write(policy);
        }
        if (result is not null) console.MarkupLine($"{result.Episodes:N0} episodes, {result.Steps:N0} steps, {result.Seconds:F1} s of training.");
        PrintVerdict(console, assessment);
        console.MarkupLine($"Report: {Markup.Escape(Path.Combine(folder, "report.md"))}");
    }

    /// <summary>The verdict in one block: the word, then each failed check with its number and threshold.</summary>
    public static void PrintVerdict(IAnsiConsole console, SolveAssessment assessment)
    {
        var verdict = assessment.Verdict;
        string colour = verdict.Status switch { VerdictStatus.Solved => "green", VerdictStatus.Suspect => "yellow", _ => "red" };
        int passed = verdict.Rules.Count(r => r.Outcome == RuleOutcome.Pass), applicable = verdict.Rules.Count(r => r.Outcome != RuleOutcome.NotApplicable);
        console.MarkupLine($"Verdict: [bold {colour}]{verdict.Word}[/]" + (verdict.Rules.Count > 0 ? $" ({passed} of {applicable} checks passed)" : ""));
        foreach (var reason in verdict.Reasons) console.MarkupLine($"  [{colour}]✗[/] {Markup.Escape(reason)}");
        foreach (var note in verdict.Notes.Concat(assessment.Notes)) console.MarkupLine($"  note: {Markup.Escape(note)}");
        if (verdict.Status == VerdictStatus.Suspect) console.MarkupLine("  What each check means and what to do: docs/when-deqn-fails.md");
    }

    private static string L(double log10) => double.IsFinite(log10) ? log10.ToString("F2", CultureInfo.InvariantCulture) : "—";

    private static string F(double v) => MarkdownReport.FormatNumber(v);

    private static string Safe(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
