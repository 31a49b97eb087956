using System.Globalization;
using System.Text.Json;
using Deqn.Cli.Options;
using Deqn.Cli.Runs;
using Deqn.Reports;
using Deqn.Training.Data;
using Deqn.Training.Initialization;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Losses;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Persistence;
using Deqn.Training.Supervised;
using Spectre.Console;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary><c>deqn fit</c>: train a network on a CSV file, the lecture's recipe end to end, into a run folder.</summary>
public sealed class FitCommand : CliCommand
{
    public override string Name => "fit";

    public override string Description =>
        "Train a neural network on a CSV file (regression or classification): split 70/20/10, normalize on the training part, " +
        "train with validation and early stopping, report test metrics once, and write a run folder (config.yaml, history.csv, " +
        "tensorboard/, model.deqn, model.safetensors, metrics.json).";

    public override IReadOnlyList<string> Examples => new[]
    {
        "./deqn fit ../shared/data/diabetes.csv --target progression",
        "./deqn fit ../shared/data/digits.csv --target digit --task classification --layers 128,64 --activation relu",
        "./deqn fit data.csv --target y --optimizer sgd --lr 0.05 --momentum 0.9 --schedule cosine --epochs 300",
        "./deqn fit --config configs/fit-diabetes.yaml --seed 3 --out runs/diabetes-seed3",
    };

    public override IReadOnlyList<OptionDef> Positionals { get; } = new OptionDef[]
    {
        new("data", null, "CSV file with a header row", "Data", ValueName: "csv"),
    };

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = new OptionDef[]
    {
        new("target", null, "target column(s), comma-separated", "Data", ValueName: "columns"),
        new("features", null, "feature columns, comma-separated [default: all other columns]", "Data", ValueName: "columns"),
        new("task", "regression", "regression or classification", "Data"),
        new("split", "0.7,0.2,0.1", "train,validation,test fractions (the test part is used once, at the end)", "Data", ValueName: "fractions"),
        new("stratify", "true", "classification: keep class proportions in every part", "Data", Flag: true),
    }.Concat(TrainingOptions.Definitions()).ToArray();

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var dataPath = s.Required("data", "the CSV file to train on, e.g. ./deqn fit data.csv --target y");
        var task = s.Parse("task", v => v.ToLowerInvariant() switch
        {
            "regression" => TaskKind.Regression,
            "classification" => TaskKind.Classification,
            _ => throw new ArgumentException($"unknown task '{v}' (valid: regression, classification)"),
        });
        var targets = s.List("target");
        if (targets.Count == 0) throw new UsageException("missing --target (the column(s) to predict)");
        var table = CsvTable.Load(dataPath);
        var data = TabularData.FromTable(table, targets, s.List("features"), task);
        var spec = TrainingOptions.BuildSpec(s, task);

        var run = RunFolder.Create(s.String("out"), "fit", Path.GetFileNameWithoutExtension(dataPath), s);
        run.WriteConfig("fit", s, new Dictionary<string, string> { ["data"] = Path.GetFullPath(dataPath) });
        bool quiet = s.Bool("quiet");
        var console = terminal.Console;
        console.MarkupLine($"[bold]deqn fit[/] {Markup.Escape(dataPath)}: {data.RowCount} rows, {data.FeatureNames.Count} features → " +
                           $"{(task == TaskKind.Classification ? $"{data.ClassNames!.Count} classes of '{targets[0]}'" : string.Join(", ", targets))}");

        var loggers = new List<ITrainingLogger>
        {
            new CsvHistoryLogger(run.File("history.csv")),
            new TensorBoardLogger(run.File("tensorboard")),
        };
        if (!quiet) loggers.Add(terminal.Progress());
        FitResult result;
        try
        {
            foreach (var l in loggers) l.LogHyperparameters(s.All().Where(x => x.Def.Name is not ("config" or "out")).ToDictionary(x => x.Def.Name, x => x.Value ?? ""));
            result = SupervisedFit.Run(spec, data, new FitHooks
            {
                Loggers = loggers,
                CheckpointDirectory = run.File("checkpoints"),
                OnSummary = summary =>
                {
                    Training.Persistence.AtomicFile.WriteAllText(run.File("summary.txt"), summary + Environment.NewLine);
                    if (!quiet) console.WriteLine(summary.ToString());
                },
            }, cancel);
        }
        finally
        {
            foreach (var l in loggers) l.Dispose();
        }

        using var model = result.Model;
        model.Save(run.File("model.deqn"));
        model.ExportSafetensors(run.File("model.safetensors"));
        WriteMetrics(run, result, data);
        WriteSplit(run, result.Split);
        Report(console, result, data, run, quiet);
        return 0;
    }

    private static void WriteMetrics(RunFolder run, FitResult r, TabularData data)
    {
        var doc = new Dictionary<string, object?>
        {
            ["task"] = data.Task.ToString().ToLowerInvariant(),
            ["rows"] = new { train = r.Split.Train.Length, validation = r.Split.Validation.Length, test = r.Split.Test.Length },
            ["stop_reason"] = r.History.StopReason.ToString(),
            ["stop_message"] = r.History.StopMessage,
            ["epochs_run"] = r.History.Epochs.Count,
            ["steps"] = r.History.Steps,
            ["seconds"] = Math.Round(r.History.Elapsed.TotalSeconds, 3),
            ["parameters"] = r.Summary.TotalParameters,
            ["train"] = r.TrainMetrics,
            ["validation"] = r.ValidationMetrics,
            ["test"] = r.TestMetrics,
        };
        if (r.TestClassification is { } c)
        {
            int k = c.ConfusionMatrix.GetLength(0);
            doc["classes"] = data.ClassNames;
            doc["test_confusion_matrix"] = Enumerable.Range(0, k).Select(i => Enumerable.Range(0, k).Select(j => c.ConfusionMatrix[i, j]).ToArray()).ToArray();
            var perClass = c.PerClass();
            doc["test_per_class_accuracy"] = perClass.Select(p => double.IsNaN(p.Accuracy) ? (double?)null : p.Accuracy).ToArray();
            TidyCsv.Write(run.File("per-class.csv"), ["class", "support", "correct", "accuracy"],
                perClass.Select((p, i) => (IReadOnlyList<object?>)[data.ClassNames![i], p.Support, p.Correct, double.IsNaN(p.Accuracy) ? null : p.Accuracy]));
            Directory.CreateDirectory(run.File("plots"));
            ChartRenderer.Save(new ConfusionMatrixChart($"Test confusion matrix (accuracy {c.Accuracy:0.0%})", data.ClassNames!, c.ConfusionMatrix), run.File(Path.Combine("plots", "confusion-matrix")));
        }
        AtomicFile.WriteAllText(run.File("metrics.json"), JsonSerializer.Serialize(doc, TrainedModel.Json));
    }

    /// <summary>split.csv: which part each data row (0-based, header excluded) went to, so the split can be reused elsewhere.</summary>
    private static void WriteSplit(RunFolder run, DataSplit split)
    {
        var part = new string[split.Train.Length + split.Validation.Length + split.Test.Length];
        foreach (var i in split.Train) part[i] = "train";
        foreach (var i in split.Validation) part[i] = "validation";
        foreach (var i in split.Test) part[i] = "test";
        var sb = new System.Text.StringBuilder("row,part\n");
        for (int i = 0; i < part.Length; i++) sb.Append(i).Append(',').Append(part[i]).Append('\n');
        AtomicFile.WriteAllText(run.File("split.csv"), sb.ToString());
    }

    private static void Report(IAnsiConsole console, FitResult r, TabularData data, RunFolder run, bool quiet)
    {
        console.WriteLine();
        // The progress display already printed why training stopped.
        if (quiet) console.MarkupLine($"Stopped: {Markup.Escape(r.History.StopMessage)} ({r.History.Epochs.Count} epochs, {r.History.Elapsed.TotalSeconds:0.0} s)");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("metric").AddColumn(new TableColumn("train").RightAligned())
            .AddColumn(new TableColumn("validation").RightAligned()).AddColumn(new TableColumn("test").RightAligned());
        foreach (var key in r.TrainMetrics.Keys)
            table.AddRow(key, Format(r.TrainMetrics, key), Format(r.ValidationMetrics, key), Format(r.TestMetrics, key));
        console.Write(table);
        if (r.TestClassification is { } c)
        {
            console.WriteLine("Test confusion matrix (rows: actual, columns: predicted; plots/confusion-matrix.png):");
            console.WriteLine(c.FormatConfusionMatrix(data.ClassNames!));
            var perClass = new Table().Border(TableBorder.Rounded).Title("Test accuracy per class (per-class.csv)").AddColumn("class")
                .AddColumn(new TableColumn("examples").RightAligned()).AddColumn(new TableColumn("correct").RightAligned()).AddColumn(new TableColumn("accuracy").RightAligned());
            var rows = c.PerClass();
            for (int i = 0; i < rows.Count; i++)
                perClass.AddRow(Markup.Escape(data.ClassNames![i]), rows[i].Support.ToString(CultureInfo.InvariantCulture), rows[i].Correct.ToString(CultureInfo.InvariantCulture),
                    double.IsNaN(rows[i].Accuracy) ? "–" : rows[i].Accuracy.ToString("0.0%", CultureInfo.InvariantCulture));
            console.Write(perClass);
        }
        console.MarkupLine($"Run folder: [bold]{Markup.Escape(run.Path)}[/]");
        console.MarkupLine($"  predict:     ./deqn predict {Markup.Escape(run.File("model.deqn"))} <csv>");
        console.MarkupLine($"  tensorboard: tensorboard --logdir {Markup.Escape(run.File("tensorboard"))}");
    }

    private static string Format(IReadOnlyDictionary<string, double> m, string key) =>
        m.TryGetValue(key, out var v) ? v.ToString(Math.Abs(v) >= 1e-3 && Math.Abs(v) < 1e5 || v == 0 ? "0.0000" : "0.000e+0", CultureInfo.InvariantCulture) : "–";
}
