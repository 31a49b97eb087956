using System.Globalization;
using Deqn.Approximation.Study;
using Deqn.Cli.Options;
using Deqn.Cli.Runs;
using Deqn.Reports;
using Spectre.Console;
using BarChart = Deqn.Reports.BarChart;

namespace Deqn.Cli.Commands;

/// <summary>Turns a study's results into the files people read: tidy CSVs, plots, report.md, and the console table.</summary>
public static class ApproxReport
{
    /// <summary>Mean, spread and extremes of one metric over seeds.</summary>
    public sealed record Stat(double Mean, double Sd, double Min, double Max, int Count)
    {
        public static Stat Of(IEnumerable<double> values)
        {
            var v = values.ToArray();
            double mean = v.Average();
            double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
            return new Stat(mean, sd, v.Min(), v.Max(), v.Length);
        }
    }

    public sealed record Cell(string Configuration, IReadOnlyDictionary<string, string> Sweep, string Function, int N, Stat Mean, Stat Max, Stat RelMean, Stat RelMax);

    public static IReadOnlyList<Cell> Summarize(IEnumerable<ExperimentResult> results) =>
        results.GroupBy(r => (r.Key.Configuration, r.Key.Function, r.Key.N))
            .OrderBy(g => g.Key.Configuration).ThenBy(g => g.Key.Function).ThenBy(g => g.Key.N)
            .Select(g => new Cell(g.First().Configuration, g.First().SweepValues, g.First().Function, g.Key.N,
                Stat.Of(g.Select(r => r.MeanAbsError)), Stat.Of(g.Select(r => r.MaxAbsError)),
                Stat.Of(g.Select(r => r.RelMeanAbsError)), Stat.Of(g.Select(r => r.RelMaxAbsError))))
            .ToList();

    public static void Write(RunFolder run, StudySpec study, StudyResults results, Settings settings)
    {
        var sweepKeys = study.Configurations.SelectMany(c => c.SweepValues.Keys).Distinct().ToArray();
        WriteResults(run, results.Results, sweepKeys);
        var cells = Summarize(results.Results);
        WriteSummary(run, cells, sweepKeys);
        var shard = settings.String("shard") is { } text ? StudyShard.Parse(text) : null;
        // A shard's report says what it holds and how to merge, even when it holds nothing.
        if (cells.Count == 0 && shard is null) return;
        var plots = cells.Count == 0 ? [] : Plots(run, study, cells, results.Results);
        WriteMarkdown(run, study, results, cells, plots, settings, shard);
    }

    private static void WriteResults(RunFolder run, IReadOnlyList<ExperimentResult> results, string[] sweepKeys)
    {
        var columns = new List<string> { "experiment", "configuration" };
        columns.AddRange(sweepKeys);
        columns.AddRange(new[] { "function", "n", "seed", "mean_abs_error", "max_abs_error", "rmse", "rel_mean_abs_error", "rel_max_abs_error", "rel_rmse",
            "train_points", "validation_points", "epochs", "stop_reason", "final_loss", "best_val_loss", "seconds", "mode" });
        var rows = results.Select(r =>
        {
            var row = new List<object?> { r.Key.Id, r.Configuration };
            row.AddRange(sweepKeys.Select(k => (object?)(r.SweepValues.TryGetValue(k, out var v) ? v : null)));
            row.AddRange(new object?[] { r.Function, r.Key.N, r.Key.Seed, r.MeanAbsError, r.MaxAbsError, r.Rmse, r.RelMeanAbsError, r.RelMaxAbsError, r.RelRmse,
                r.TrainPoints, r.ValidationPoints, r.Epochs, r.StopReason, r.FinalLoss, r.BestValidationLoss, r.Seconds, r.Mode });
            return (IReadOnlyList<object?>)row;
        });
        TidyCsv.Write(run.File("results.csv"), columns, rows);
    }

    private static void WriteSummary(RunFolder run, IReadOnlyList<Cell> cells, string[] sweepKeys)
    {
        var columns = new List<string> { "configuration" };
        columns.AddRange(sweepKeys);
        columns.AddRange(new[] { "function", "n", "seeds",
            "mean_abs_error_mean", "mean_abs_error_sd", "mean_abs_error_min", "mean_abs_error_max",
            "max_abs_error_mean", "max_abs_error_sd", "max_abs_error_min", "max_abs_error_max",
            "rel_mean_abs_error_mean", "rel_max_abs_error_mean" });
        var rows = cells.Select(c =>
        {
            var row = new List<object?> { c.Configuration };
            row.AddRange(sweepKeys.Select(k => (object?)(c.Sweep.TryGetValue(k, out var v) ? v : null)));
            row.AddRange(new object?[] { c.Function, c.N, c.Mean.Count, c.Mean.Mean, c.Mean.Sd, c.Mean.Min, c.Mean.Max, c.Max.Mean, c.Max.Sd, c.Max.Min, c.Max.Max, c.RelMean.Mean, c.RelMax.Mean });
            return (IReadOnlyList<object?>)row;
        });
        TidyCsv.Write(run.File("summary.csv"), columns, rows);
    }

    private sealed record PlotFiles(string Title, string Png, string Caption);

    private static List<PlotFiles> Plots(RunFolder run, StudySpec study, IReadOnlyList<Cell> cells, IReadOnlyList<ExperimentResult> results)
    {
        var dir = run.File("plots");
        Directory.CreateDirectory(dir);
        var plots = new List<PlotFiles>();
        bool sweep = study.Configurations.Count > 1;
        var functions = cells.Select(c => c.Function).Distinct().ToArray();

        Series Line(string label, IEnumerable<Cell> group, Func<Cell, Stat> stat)
        {
            var g = group.OrderBy(c => c.N).ToArray();
            return new Series(label, g.Select(c => (double)c.N).ToArray(), g.Select(c => stat(c).Mean).ToArray())
            {
                Lower = g.Select(c => stat(c).Min).ToArray(),
                Upper = g.Select(c => stat(c).Max).ToArray(),
            };
        }

        foreach (var (metric, stat, word) in new (string, Func<Cell, Stat>, string)[] { ("mean", c => c.Mean, "Mean"), ("max", c => c.Max, "Maximum") })
        {
            string file = Path.Combine(dir, $"{metric}_error_vs_n");
            string title = $"{word} absolute error vs N ({study.TestPoints} test points)";
            if (!sweep)
            {
                var chart = new LineChart(title, "training points N", $"{metric} |f − f̂|",
                    functions.Select(f => Line(f, cells.Where(c => c.Function == f), stat)).ToArray())
                { XScale = AxisScale.Log10, YScale = AxisScale.Log10 };
                ChartRenderer.Save(chart, file);
            }
            else
            {
                var functionPanels = functions.Select(f => new LineChart(f, "training points N", $"{metric} |f − f̂|",
                    study.Configurations.Select(cfg => Line(cfg.Label, cells.Where(c => c.Function == f && c.Configuration == cfg.Label), stat)).Where(s => s.X.Length > 0).ToArray())
                { XScale = AxisScale.Log10, YScale = AxisScale.Log10 }).ToArray();
                ChartRenderer.Save(new GridOfCharts(title, functionPanels, Math.Min(3, functionPanels.Length)), file);
            }
            plots.Add(new PlotFiles($"{word} error vs N", Path.GetRelativePath(run.Path, file + ".png"),
                $"{word} absolute error against N on log–log axes; the line is the mean over {study.Seeds.Count} seed(s), the band spans the best and worst seed."));
        }

        // Learning curves of the largest N and the first seed: how validation (or training) loss fell.
        int bigN = study.SampleSizes.Max();
        long seed0 = study.Seeds[0];
        var firstRuns = results.Where(r => r.Key.N == bigN && r.Key.Seed == seed0).ToArray();
        if (LearningCurves(run, study, firstRuns, sweep, functions.Length == 1) is { } curves)
        {
            string file = Path.Combine(dir, "learning_curves");
            ChartRenderer.Save(curves.Chart with { Title = $"Learning curves (N = {bigN}, seed {seed0})" }, file);
            plots.Add(new PlotFiles("Learning curves", Path.GetRelativePath(run.Path, file + ".png"), curves.Caption));
        }

        // Per-layer gradient norms over training (the vanishing/exploding-gradient diagnostic), one panel per configuration.
        var panels = new List<LineChart>();
        foreach (var r in firstRuns.Where(r => r.Key.Function == 0).Take(9))
        {
            var history = HistoryPath(run, r);
            if (!File.Exists(history)) continue;
            var layers = File.ReadLines(history).First().Split(',').Where(c => c.StartsWith("grad_norm/", StringComparison.Ordinal)).ToArray();
            if (layers.Length == 0) continue;
            var series = layers.Select(c => { var (e, v) = ReadColumn(history, c); return new Series(c["grad_norm/".Length..].Replace(".weight", ""), e, v); })
                .Where(x => x.X.Length > 0).ToArray();
            panels.Add(new LineChart(sweep ? r.Configuration : r.Function, "epoch", "‖∂loss/∂W‖ of the layer", series) { YScale = AxisScale.Log10, Markers = false });
        }
        if (panels.Count > 0)
        {
            string file = Path.Combine(dir, "gradient_norms");
            ChartRenderer.Save(new GridOfCharts($"Gradient norm per layer over training ({functions[0]}, N = {bigN}, seed {seed0})", panels, Math.Min(2, panels.Count)), file);
            plots.Add(new PlotFiles("Gradient norms per layer", Path.GetRelativePath(run.Path, file + ".png"),
                "L2 norm of each dense layer's weight gradient at the end of every epoch. Layers whose gradient is orders of magnitude below the others barely learn (vanishing gradients); growing norms signal exploding gradients."));
        }

        if (sweep)
        {
            var ns = study.SampleSizes.OrderBy(n => n).ToArray();
            var groups = study.Configurations.Select(cfg =>
            {
                var values = ns.Select(n => Mean(cells.Where(c => c.Configuration == cfg.Label && c.N == n).Select(c => c.RelMean.Mean))).ToArray();
                var lo = ns.Select(n => MinOr(cells.Where(c => c.Configuration == cfg.Label && c.N == n).Select(c => c.RelMean.Mean))).ToArray();
                var hi = ns.Select(n => MaxOr(cells.Where(c => c.Configuration == cfg.Label && c.N == n).Select(c => c.RelMean.Mean))).ToArray();
                return (cfg.Label, values, (double[]?)lo, (double[]?)hi);
            }).ToArray();
            string file = Path.Combine(dir, "comparison");
            ChartRenderer.Save(new BarChart("Relative mean error by configuration (mean over functions; bars span the functions)", "mean |f − f̂| / range of f",
                ns.Select(n => $"N = {n}").ToArray(), groups) { YScale = AxisScale.Log10 }, file);
            plots.Add(new PlotFiles("Configurations compared", Path.GetRelativePath(run.Path, file + ".png"),
                "Mean absolute error relative to each function's range, averaged over functions and seeds, per configuration and N."));
        }
        return plots;
    }

    private sealed record CurvePlot(LineChart Chart, string Caption);

    /// <summary>
    /// The loss curves of one seed's runs, one colour per configuration (training solid, validation dashed when both
    /// fit on one chart), with what a reader should notice marked on them: the best validation epoch, where early
    /// stopping stopped, and where a run diverged. Runs that blow up are drawn at a ceiling of 10× the typical first-epoch
    /// loss so that the others keep their scale. The caption states those events in words.
    /// </summary>
    private static CurvePlot? LearningCurves(RunFolder run, StudySpec study, IReadOnlyList<ExperimentResult> runs, bool sweep, bool oneFunction)
    {
        bool both = oneFunction && study.Configurations.Count <= 6;
        var drawn = new List<(string Label, ExperimentResult Result, (double[] E, double[] V) Training, (double[] E, double[] V) Validation)>();
        var unplotted = new List<string>();
        foreach (var r in runs)
        {
            var history = HistoryPath(run, r);
            string label = sweep ? (oneFunction ? r.Configuration : $"{r.Function} · {r.Configuration}") : r.Function;
            (double[] E, double[] V) training = File.Exists(history) ? ReadColumn(history, "loss") : ([], []);
            if (training.E.Length == 0)
            {
                // A loss that was not finite within the first epoch leaves no row to draw: say so instead.
                if (r.StopReason == nameof(Deqn.Training.Loop.StopReason.NonFiniteLoss)) unplotted.Add($"`{label}` diverged within its first epoch (no finite loss to draw)");
                continue;
            }
            drawn.Add((label, r, training, ReadColumn(history, "val_loss")));
            if (drawn.Count >= (both ? 6 : 12)) break;
        }
        // "· training" says nothing when no run has a validation curve.
        both &= drawn.Any(d => d.Validation.E.Length > 0);
        // Longest first, so that a run that stopped early is drawn on top of the one that went on from the same start.
        drawn = drawn.OrderByDescending(d => d.Training.E.Length).ToList();
        var series = new List<Series>();
        foreach (var (label, _, training, validation) in drawn)
        {
            bool hasValidation = validation.E.Length > 0;
            if (hasValidation) series.Add(new Series(both ? $"{label} · validation" : label, validation.E, validation.V) { Group = both ? label : null, Dashed = both });
            if ((both || !hasValidation) && training.E.Length > 0) series.Add(new Series(both ? $"{label} · training" : label, training.E, training.V) { Group = both ? label : null });
        }
        if (series.Count == 0) return null;

        var starts = drawn.Where(d => d.Training.V.Length > 0 && double.IsFinite(d.Training.V[0])).Select(d => d.Training.V[0]).Order().ToArray();
        double? ceiling = starts.Length > 0 ? 10 * starts[(starts.Length - 1) / 2] : null;  // the lower median: a diverging half does not lift it
        // Only a run that ends above the ceiling needs it; clipping a high start that came down would misstate it.
        if (ceiling is { } limit && !drawn.Any(d => DivergedFrom(d.Training.V, limit) is not null)) ceiling = null;
        var marks = new List<Mark>();
        var events = new List<string>(unplotted);
        foreach (var (label, result, training, validation) in drawn)
        {
            if (ceiling is { } c && DivergedFrom(training.V, c) is { } k)
            {
                marks.Add(new Mark(label, training.E[k], c, $"diverged at epoch {training.E[k]:0}", MarkShape.Cross));
                events.Add($"`{label}` diverged at epoch {training.E[k]:0} (its training loss went above {c:G3} and stayed there{(result.StopReason == nameof(Deqn.Training.Loop.StopReason.NonFiniteLoss) ? " until it was no longer finite" : "")})");
            }
            if (validation.E.Length == 0) continue;
            int best = ArgMin(validation.V);
            if (best < 0) continue;
            double last = validation.V[^1];
            bool stoppedEarly = result.StopReason == nameof(Deqn.Training.Loop.StopReason.EarlyStopping);
            // The best epoch is news only where the run stopped early or its validation loss turned up afterwards.
            if (!stoppedEarly && last < 1.1 * validation.V[best]) continue;
            marks.Add(new Mark(label, validation.E[best], validation.V[best], $"best {validation.E[best]:0}"));
            string ending = stoppedEarly
                ? $"early stopping stopped it at epoch {validation.E[^1]:0}" + (study.Configurations[result.Key.Configuration].Spec.EarlyStopping?.RestoreBestWeights == true ? $" and restored epoch {validation.E[best]:0}'s weights" : "")
                : $"it ended at epoch {validation.E[^1]:0}";
            if (stoppedEarly)
                marks.Add(new Mark(label, validation.E[^1], last, $"stopped {validation.E[^1]:0}", MarkShape.Cross));
            events.Add($"`{label}`: validation loss lowest at epoch {validation.E[best]:0} ({validation.V[best]:G3}); {ending} with {last:G3}" +
                       (last >= 1.1 * validation.V[best] ? $", {last / validation.V[best]:0.0}× its minimum" : ""));
        }

        var caption = $"Loss per epoch for N = {study.SampleSizes.Max()} and the first seed: " +
                      (both ? "training loss solid, validation loss dashed, one colour per configuration." : "the validation loss where there was a hold-out, else the training loss.") +
                      (ceiling is { } cc ? $" Losses above {cc:G3} (10× the median first-epoch training loss) are drawn at that ceiling, a cross where a run diverged." : "") +
                      (marks.Any(m => m.Shape == MarkShape.Ring)
                          ? " A ring marks the lowest validation loss of a run that stopped early (a cross where it stopped) or whose validation loss rose afterwards."
                          : "") +
                      (events.Count > 0 ? " What the runs did: " + string.Join("; ", events) + "." : "");
        var chart = new LineChart("Learning curves", "epoch", "loss (MSE on normalized targets)", series)
        { YScale = AxisScale.Log10, Markers = false, Ceiling = ceiling, Marks = marks };
        return new CurvePlot(chart, caption);
    }

    /// <summary>The first index from which every value is above the ceiling or not finite; null when the run ends below it.</summary>
    private static int? DivergedFrom(double[] values, double ceiling)
    {
        int k = values.Length;
        while (k > 0 && !(values[k - 1] <= ceiling)) k--;
        return k < values.Length ? k : null;
    }

    private static int ArgMin(double[] values)
    {
        int best = -1;
        for (int i = 0; i < values.Length; i++)
            if (double.IsFinite(values[i]) && (best < 0 || values[i] < values[best])) best = i;
        return best;
    }

    private static double Mean(IEnumerable<double> v) { var a = v.ToArray(); return a.Length == 0 ? double.NaN : a.Average(); }
    private static double MinOr(IEnumerable<double> v) { var a = v.ToArray(); return a.Length == 0 ? double.NaN : a.Min(); }
    private static double MaxOr(IEnumerable<double> v) { var a = v.ToArray(); return a.Length == 0 ? double.NaN : a.Max(); }

    private static string HistoryPath(RunFolder run, ExperimentResult r) => Path.Combine(run.Path, "experiments", r.Key.Id, "history.csv");

    /// <summary>One column of a history.csv against its epoch column (NaN and ∞ kept: a diverged run ends in them); empty when the column is absent.</summary>
    private static (double[] Epochs, double[] Values) ReadColumn(string historyCsv, string column)
    {
        var lines = File.ReadAllLines(historyCsv);
        if (lines.Length < 2) return (Array.Empty<double>(), Array.Empty<double>());
        int col = Array.IndexOf(lines[0].Split(','), column);
        if (col < 0) return (Array.Empty<double>(), Array.Empty<double>());
        var epochs = new List<double>();
        var values = new List<double>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (col >= cells.Length) continue;
            if (double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var e) &&
                double.TryParse(cells[col], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                epochs.Add(e);
                values.Add(v);
            }
        }
        return values.Any(double.IsFinite) ? (epochs.ToArray(), values.ToArray()) : (Array.Empty<double>(), Array.Empty<double>());
    }

    private static void WriteMarkdown(RunFolder run, StudySpec study, StudyResults results, IReadOnlyList<Cell> cells, List<PlotFiles> plots, Settings settings, StudyShard? shard)
    {
        var md = new MarkdownReport();
        md.Heading(1, shard is null ? "Function approximation study" : $"Function approximation study: shard {shard}");
        if (settings.String("description") is { Length: > 0 } description) md.Paragraph(description.Trim());
        md.Paragraph($"{study.Functions.Count} function(s) × N ∈ {{{string.Join(", ", study.SampleSizes)}}} × {study.Seeds.Count} seed(s) × {study.Configurations.Count} configuration(s); " +
                     $"errors on {study.TestPoints} uniformly random test points shared by every experiment" +
                     (study.Noise > 0 ? $", against f itself; the sampled values carry Gaussian noise of {study.Noise:G3}× f's standard deviation" : "") +
                     (shard is null ? $". {results.Results.Count} of {results.Planned} experiments done"
                         : results.Planned == 0 ? ". This shard holds none of them"
                         : $". {results.Results.Count} of this shard's {results.Planned} experiments done") +
                     (results.Completed ? "." : " (interrupted: finish with `--resume`)."));
        if (shard is not null)
        {
            int total = study.Configurations.Count * study.Functions.Count * study.SampleSizes.Count * study.Seeds.Count;
            md.Paragraph($"This folder is shard {shard} of the study (`--shard {shard}`; shards are counted from 0, 0/{shard.Count} … {shard.Count - 1}/{shard.Count}): " +
                         (results.Planned == 0
                             ? $"none of its {total} experiments, because the study has fewer units of work than shards (experiments trained together stay in one shard). "
                             : $"{results.Planned} of its {total} experiments, so the tables and plots below cover only those. ") +
                         $"When all {shard.Count} shards are done, `./deqn merge <the {shard.Count} shard folders> --out <folder>` writes the whole study's " +
                         "results.csv, summary.csv, plots and report.md, as one unsharded run writes them (docs/cluster.md in the Deqn repository).");
        }
        md.Code($"./deqn {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}", "bash");
        md.Paragraph("Every setting of this run is in `config.yaml`; `./deqn approx --config config.yaml --out <new folder>` reproduces it. " +
                     "Each experiment's model, history and TensorBoard events are under `experiments/<id>/`; `results.csv` has one row per experiment, `summary.csv` one per configuration, function and N.");
        md.Heading(2, "Functions");
        md.Table(new[] { "name", "formula", "domain" },
            study.Functions.Select(f => (IReadOnlyList<string>)new[] { f.Name, f.Formula, study.DomainOf(f).ToString() }).ToArray());
        if (cells.Count == 0)
        {
            md.Save(run.File("report.md"));
            return;
        }
        foreach (var p in plots)
        {
            md.Heading(2, p.Title);
            md.Image(p.Title, p.Png);
            md.Paragraph(p.Caption);
        }
        var ns = study.SampleSizes.OrderBy(n => n).ToArray();
        // A configuration without results (one another shard holds, or an interrupted run had not reached) gets no table.
        foreach (var cfg in study.Configurations.Where(cfg => cells.Any(c => c.Configuration == cfg.Label)))
        {
            md.Heading(2, study.Configurations.Count > 1 ? $"Errors: {cfg.Label}" : "Errors");
            md.Paragraph("Mean absolute error / maximum absolute error, each the mean over seeds.");
            md.Table(new[] { "function" }.Concat(ns.Select(n => $"N = {n}")).ToArray(),
                cells.Where(c => c.Configuration == cfg.Label).GroupBy(c => c.Function).Select(g =>
                    (IReadOnlyList<string>)new[] { g.Key }.Concat(ns.Select(n => g.FirstOrDefault(c => c.N == n) is { } c
                        ? $"{MarkdownReport.FormatNumber(c.Mean.Mean)} / {MarkdownReport.FormatNumber(c.Max.Mean)}" : "–")).ToArray()).ToArray());
        }
        if (study.Configurations.Count > 1)
        {
            md.Heading(2, "Ranking per N");
            md.Paragraph("Configurations ranked by relative mean error (mean absolute error divided by the function's range on the test points), averaged over functions and seeds.");
            foreach (var n in ns)
            {
                var ranked = study.Configurations.Select(cfg => (cfg.Label, Rel: Mean(cells.Where(c => c.Configuration == cfg.Label && c.N == n).Select(c => c.RelMean.Mean)),
                        RelMax: Mean(cells.Where(c => c.Configuration == cfg.Label && c.N == n).Select(c => c.RelMax.Mean))))
                    .Where(x => double.IsFinite(x.Rel)).OrderBy(x => x.Rel).ToArray();
                md.Heading(3, $"N = {n}");
                md.Table(new[] { "rank", "configuration", "relative mean error", "relative max error" },
                    ranked.Select((x, i) => (IReadOnlyList<string>)new[] { (i + 1).ToString(CultureInfo.InvariantCulture), x.Label, MarkdownReport.FormatNumber(x.Rel), MarkdownReport.FormatNumber(x.RelMax) }).ToArray());
            }
            md.Heading(2, "Best configuration per function and N");
            md.Table(new[] { "function" }.Concat(ns.Select(n => $"N = {n}")).ToArray(),
                cells.GroupBy(c => c.Function).Select(g => (IReadOnlyList<string>)new[] { g.Key }.Concat(ns.Select(n =>
                    g.Where(c => c.N == n).OrderBy(c => c.Mean.Mean).FirstOrDefault() is { } best ? $"{best.Configuration} ({MarkdownReport.FormatNumber(best.Mean.Mean)})" : "–")).ToArray()).ToArray());
        }
        md.Save(run.File("report.md"));
    }

    /// <summary>Three significant digits, scientific below 0.01: keeps the console table within 80 columns.</summary>
    private static string Compact(double v) =>
        !double.IsFinite(v) ? v.ToString(CultureInfo.InvariantCulture)
        : v != 0 && (Math.Abs(v) < 0.01 || Math.Abs(v) >= 1e4) ? v.ToString("0.##e+0", CultureInfo.InvariantCulture)
        : v.ToString(Math.Abs(v) >= 100 ? "0" : Math.Abs(v) >= 10 ? "0.0" : Math.Abs(v) >= 1 ? "0.00" : Math.Abs(v) >= 0.1 ? "0.000" : "0.0000", CultureInfo.InvariantCulture);

    public static void Print(IAnsiConsole console, StudySpec study, StudyResults results, RunFolder run)
    {
        PrintTables(console, study, results);
        console.MarkupLine($"{results.Ran} experiments trained, {results.Reused} reused, in {results.Elapsed.TotalSeconds:0.0} s");
        console.MarkupLine($"Run folder: [bold]{Markup.Escape(run.Path)}[/]  (report.md, results.csv, summary.csv, plots/)");
    }

    /// <summary>The console's error table per configuration: mean / max absolute error over seeds, per function and N.</summary>
    public static void PrintTables(IAnsiConsole console, StudySpec study, StudyResults results)
    {
        var cells = Summarize(results.Results);
        var ns = study.SampleSizes.OrderBy(n => n).ToArray();
        foreach (var cfg in study.Configurations.Where(cfg => cells.Any(c => c.Configuration == cfg.Label)))
        {
            var table = new Table().Border(TableBorder.Rounded)
                .Title(study.Configurations.Count > 1 ? Markup.Escape(cfg.Label) : "mean / max absolute error (mean over seeds)");
            table.AddColumn("function");
            foreach (var n in ns) table.AddColumn(new TableColumn($"N = {n}").RightAligned());
            foreach (var g in cells.Where(c => c.Configuration == cfg.Label).GroupBy(c => c.Function))
                table.AddRow(new[] { Markup.Escape(g.Key) }.Concat(ns.Select(n => g.FirstOrDefault(c => c.N == n) is { } c
                    ? $"{Compact(c.Mean.Mean)} / {Compact(c.Max.Mean)}" : "–")).ToArray());
            console.Write(table);
        }
    }
}
