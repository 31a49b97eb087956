using System.Globalization;
using CsvHelper;
using Deqn.Cli.Options;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Persistence;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary>
/// <c>deqn predict</c>: a saved model's predictions for every row of a CSV file. On a solve's policy it gives the
/// policies (after their transforms) and the model's definitions at each row's states; with --raw, and on a fit's
/// model, the network's outputs.
/// </summary>
public sealed class PredictCommand : CliCommand
{
    /// <param name="catalog">The models a solve's policy may be of; the shipped ones when null (a program of your own passes its catalog to <see cref="Entry.Run"/>).</param>
    public PredictCommand(ModelCatalog? catalog = null) => Catalog = catalog ?? BuiltinModels.Catalog();

    public ModelCatalog Catalog { get; }

    public override string Name => "predict";

    public override string Description =>
        "Predict every row of a CSV file with a saved model; the other columns are kept and copied to the output. A model of " +
        "'deqn fit' (model.deqn): its feature columns are read by name; regression adds one column per target, classification the " +
        "predicted class and one probability column per class. A policy of 'deqn solve' (policy.deqn): the model's state columns are " +
        "read by name (a Markov chain's state as its index 0 … n−1), and each policy element is written after its transform (sigmoid " +
        "into its bounds, softplus, exp), named as in path.csv (s, k[1] …), then every definition of the model (output, consumption, " +
        "multipliers, the network's features) as the solver computes it; a column of the file with the same name is replaced. " +
        "--raw writes the network's raw outputs instead. Writes CSV to --out, or to standard output.";

    public override IReadOnlyList<string> Examples => new[]
    {
        "./deqn predict runs/fit-diabetes-20261127-101500/model.deqn ../shared/data/diabetes.csv --out predictions.csv",
        "./deqn predict runs/solve-brock-mirman-20261127-101500/policy.deqn states.csv           # a column K; adds s, Y, W, C, R",
        "./deqn predict runs/solve-olg-analytic-20261127-101500/policy.deqn runs/solve-olg-analytic-20261127-101500/path.csv --definitions false",
        "./deqn predict runs/solve-brock-mirman-20261127-101500/policy.deqn states.csv --raw     # the network's outputs, predicted_s",
        "dotnet run --project examples/CustomModel -c Release -- predict runs/solve-crra-growth-20261127-101500/policy.deqn states.csv",
    };

    public override IReadOnlyList<OptionDef> Positionals { get; } = new OptionDef[]
    {
        new("model", null, "a model file written by deqn fit (model.deqn) or deqn solve (policy.deqn)", "Input", ValueName: "model"),
        new("data", null, "CSV file with the model's feature columns, or the policy's state columns", "Input", ValueName: "csv"),
    };

    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = new OptionDef[]
    {
        new("definitions", "true", "a solve's policy: also write every definition of its model (output, consumption, multipliers, features…) at each row", "Policy", Flag: true),
        new("raw", "false", "a solve's policy: write the raw outputs (the network's, plus the first-order part of a policy solved with --warm-start correction) as predicted_<policy>, reading its inputs by name (the continuous states, the features' values, a 0/1 column 'shock=<label>' per chain state), as predict did before it applied the transforms", "Policy", Flag: true),
    };

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        var modelPath = s.Required("model", "the model file, e.g. runs/<run>/model.deqn");
        var dataPath = s.Required("data", "the CSV file to predict");
        bool raw = s.Bool("raw");
        bool definitions = s.Bool("definitions");
        bool definitionsAsked = definitions && s.Source("definitions") != "default";
        using var model = TrainedModel.Load(modelPath, TorchEngine.Device(s.Required("device", "cpu")));
        if (!model.Metadata.Provenance.TryGetValue(PolicyNetwork.ModelKey, out var modelName))
        {
            if (definitionsAsked) throw s.Error("definitions", $"{modelPath} is not a policy of deqn solve; only a policy has a model whose definitions it could write");
            return Write(s, terminal, RawOutputs(model, modelPath, dataPath));
        }
        if (raw)
        {
            if (definitionsAsked) throw s.Error("definitions", "needs the policies after their transforms; leave out --raw");
            return Write(s, terminal, RawOutputs(model, modelPath, dataPath));
        }
        return Write(s, terminal, PolicyOutputs(model, modelName, modelPath, dataPath, definitions, terminal));
    }

    private sealed record Output(IReadOnlyList<string> Header, List<string>[] Rows);

    /// <summary>The network's outputs at the model's input columns (a fit's predictions; a policy's raw values).</summary>
    private static Output RawOutputs(TrainedModel model, string modelPath, string dataPath)
    {
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
        // A policy that learned the correction to the first-order solution: its raw outputs include the linear part,
        // which reads the continuous states, the network's first inputs.
        if (meta.Provenance.TryGetValue(PolicyNetwork.LinearKey, out var linearText))
        {
            LinearPart linear;
            try { linear = LinearPart.Parse(linearText); }
            catch (ArgumentException e) { throw new DataException($"{modelPath}: {e.Message}"); }
            var row = new double[linear.Columns.Count];
            for (int i = 0; i < table.RowCount; i++)
            {
                for (int j = 0; j < row.Length; j++) row[j] = x[i, j];
                var part = linear.RawAt(row);
                for (int t = 0; t < part.Length; t++) predicted[i, t] += part[t];
            }
        }

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

        return new Output(header, rows);
    }

    /// <summary>
    /// A solve's policy at the states of each row: the policies after their transforms, then (with
    /// <paramref name="definitions"/>) every definition, computed by the model rebuilt from the catalog with the saved calibration.
    /// </summary>
    private Output PolicyOutputs(TrainedModel trained, string modelName, string modelPath, string dataPath, bool definitions, Terminal terminal)
    {
        var entry = Catalog.Entries.FirstOrDefault(e => string.Equals(e.Name, modelName, StringComparison.OrdinalIgnoreCase));
        if (entry is null)
        {
            var solvedBy = trained.Metadata.Provenance.TryGetValue(SolveCommand.ProgramKey, out var program) && program != SolveCommand.ProgramName
                ? $"it was solved by the program '{program}', whose predict knows it"
                : "the program that solved it (one that passes its models to Entry.Run) knows it";
            throw new UsageException($"{modelPath}: model '{modelName}' is not one of this program's models ({string.Join(", ", Catalog.Entries.Select(e => e.Name))}); {solvedBy} (or give --raw for the network's raw outputs)");
        }
        Model model;
        try { model = entry.Create(ModelCatalog.ParseOverrides(trained.Metadata.Provenance.GetValueOrDefault(PolicyNetwork.CalibrationKey))); }
        catch (ArgumentException e) { throw new ModelFileException($"{modelPath}: its calibration does not fit model '{entry.Name}' of this program: {e.Message}"); }
        PolicyNetwork policy;
        try { policy = PolicyNetwork.From(model, trained); }
        catch (ArgumentException e) { throw new ModelFileException($"{modelPath}: {e.Message}"); }

        var table = CsvTable.Load(dataPath);
        var columns = model.StateColumns;
        var missing = columns.Select(c => c.Name).Where(c => !table.Columns.Contains(c)).ToArray();
        if (missing.Length > 0)
            throw new DataException($"{dataPath}: the policy of model '{entry.Name}' needs state column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} (available: {string.Join(", ", table.Columns)})");
        var states = new double[table.RowCount, columns.Count];
        for (int j = 0; j < columns.Count; j++)
        {
            var col = table.Numeric(columns[j].Name);
            int chain = columns[j].State.Chain?.Count ?? 0;
            for (int i = 0; i < col.Length; i++)
            {
                if (chain > 0 && (col[i] != Math.Floor(col[i]) || col[i] < 0 || col[i] > chain - 1))
                    throw new DataException($"{dataPath}: row {i + 1}, column '{columns[j].Name}': {col[i].ToString(CultureInfo.InvariantCulture)} is not a state of its Markov chain (0 … {chain - 1})");
                states[i, j] = col[i];
            }
        }
        var result = PolicyTable.At(model, policy, states, definitions);
        if (result.LeftOut.Count > 0)
            terminal.Error.WriteLine($"deqn predict: left out {string.Join(", ", result.LeftOut)}: they read next period (an expectation), which the states alone do not give");

        // Every column of the file is kept; one named like an output is replaced by it in place, the others follow.
        var header = table.Columns.ToList();
        var text = table.Columns.Select(table.Text).ToArray();
        var target = result.Columns.Select(c => header.IndexOf(c)).ToArray();
        foreach (var (name, at) in result.Columns.Zip(target))
            if (at < 0) header.Add(name);
        var rows = new List<string>[table.RowCount];
        for (int i = 0; i < rows.Length; i++)
        {
            var row = rows[i] = new List<string>(header.Count);
            for (int j = 0; j < text.Length; j++) row.Add(text[j][i]);
            for (int k = 0; k < target.Length; k++)
            {
                var cell = result.Values[i, k].ToString("R", CultureInfo.InvariantCulture);
                if (target[k] >= 0) row[target[k]] = cell;
                else row.Add(cell);
            }
        }
        return new Output(header, rows);
    }

    private static int Write(Settings s, Terminal terminal, Output output)
    {
        void Write(TextWriter w)
        {
            using var csv = CsvWriter.Create(w, new CsvWriterOptions(), leaveOpen: true);
            foreach (var h in output.Header) csv.WriteField(h);
            csv.EndRecord();
            foreach (var r in output.Rows)
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
            terminal.Error.WriteLine($"deqn predict: wrote {output.Rows.Length} predictions to {outPath}");
        }
        else
        {
            Write(terminal.Out);
        }
        return 0;
    }
}
