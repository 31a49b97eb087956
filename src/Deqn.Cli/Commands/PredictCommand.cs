using System.Globalization;
using CsvHelper;
using Deqn.Cli.Options;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Persistence;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary><c>deqn predict</c>: a saved model's predictions for every row of a CSV file.</summary>
public sealed class PredictCommand : CliCommand
{
    public override string Name => "predict";

    public override string Description =>
        "Predict every row of a CSV file with a saved model. The model's feature columns are read by name (others are kept " +
        "and copied to the output); regression adds one column per target, classification the predicted class and one " +
        "probability column per class. Writes CSV to --out, or to standard output.";

    public override IReadOnlyList<string> Examples => new[]
    {
        "./deqn predict runs/fit-diabetes-20261127-101500/model.deqn ../shared/data/diabetes.csv --out predictions.csv",
    };

    public override IReadOnlyList<OptionDef> Positionals { get; } = new OptionDef[]
    {
        new("model", null, "a model file written by deqn fit (model.deqn)", "Input", ValueName: "model"),
        new("data", null, "CSV file with the model's feature columns", "Input", ValueName: "csv"),
    };

    protected override IReadOnlyList<OptionDef> OwnOptions => Array.Empty<OptionDef>();

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var modelPath = s.Required("model", "the model file, e.g. runs/<run>/model.deqn");
        var dataPath = s.Required("data", "the CSV file to predict");
        using var model = TrainedModel.Load(modelPath, TorchEngine.Device(s.Required("device", "cpu")));
        var table = CsvTable.Load(dataPath);
        var meta = model.Metadata;
        var missing = meta.Features.Where(f => !table.Columns.Contains(f)).ToArray();
        if (missing.Length > 0)
            throw new DataException($"{dataPath}: the model needs column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} (available: {string.Join(", ", table.Columns)})");

        var x = new double[table.RowCount, meta.Features.Count];
        for (int j = 0; j < meta.Features.Count; j++)
        {
            var col = table.Numeric(meta.Features[j]);
            for (int i = 0; i < col.Length; i++) x[i, j] = col[i];
        }
        var predicted = model.Predict(x);

        var header = table.Columns.ToList();
        var rows = Enumerable.Range(0, table.RowCount).Select(_ => new List<string>()).ToArray();
        var text = table.Columns.Select(table.Text).ToArray();
        for (int i = 0; i < table.RowCount; i++)
            for (int j = 0; j < text.Length; j++) rows[i].Add(text[j][i]);
        if (meta.Task == TaskKind.Classification)
        {
            var classes = meta.Classes!;
            header.Add($"predicted_{meta.Targets[0]}");
            header.AddRange(classes.Select(c => $"p_{c}"));
            var best = TrainedModel.ArgMax(predicted);
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i].Add(classes[best[i]]);
                for (int c = 0; c < classes.Count; c++) rows[i].Add(predicted[i, c].ToString("R", CultureInfo.InvariantCulture));
            }
        }
        else
        {
            header.AddRange(meta.Targets.Select(t => $"predicted_{t}"));
            for (int i = 0; i < rows.Length; i++)
                for (int t = 0; t < meta.Targets.Count; t++) rows[i].Add(predicted[i, t].ToString("R", CultureInfo.InvariantCulture));
        }

        void Write(TextWriter w)
        {
            using var csv = CsvWriter.Create(w, new CsvWriterOptions(), leaveOpen: true);
            foreach (var h in header) csv.WriteField(h);
            csv.EndRecord();
            foreach (var r in rows)
            {
                foreach (var cell in r) csv.WriteField(cell);
                csv.EndRecord();
            }
        }

        if (s.String("out") is { } outPath)
        {
            if (Directory.Exists(outPath)) throw s.Error("out", $"{outPath} is a folder; give a file name");
            AtomicFile.Write(outPath, temp =>
            {
                using var w = new StreamWriter(temp);
                Write(w);
            });
            terminal.Error.WriteLine($"deqn predict: wrote {rows.Length} predictions to {outPath}");
        }
        else
        {
            Write(terminal.Out);
        }
        return 0;
    }
}
