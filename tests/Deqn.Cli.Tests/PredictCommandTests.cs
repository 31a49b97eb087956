using System.Globalization;
using Deqn.Testing;
using Deqn.Training.Persistence;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

/// <summary>
/// <c>deqn predict</c> on a solve's policy: the policies after their transforms and the model's definitions at the
/// states of each row, as the solve's own path.csv has them; <c>--raw</c> as predict wrote before.
/// </summary>
public sealed class PredictCommandTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-predict-");

    public void Dispose() => _dir.Dispose();

    private string Out(string name) => _dir.File(name);

    private static string Data(string name) => Path.Combine(RepositoryRoot, "tests", "Deqn.Cli.Tests", "Data", name);

    private static readonly string[] Fast =
    {
        "--episodes", "20", "--trajectories", "16", "--episode-length", "4", "--batch-size", "32", "--layers", "8,8", "--log-every", "10",
        "--checkpoint-every", "10", "--eval-periods", "100", "--eval-burn-in", "20", "--eval-grid", "6", "--polish-rounds", "0",
    };

    private string Solve(string model, string folder, params string[] more)
    {
        var r = Run(new[] { "solve", model }.Concat(Fast).Concat(more).Concat(new[] { "--out", Out(folder) }).ToArray());
        Assert.True(r.ExitCode == 0, r.Stderr);
        return Out(folder);
    }

    /// <summary>A CSV as its header and its rows of cells (no quoting in these files).</summary>
    private static (string[] Header, string[][] Rows) Csv(string path)
    {
        var lines = File.ReadAllLines(path);
        return (lines[0].Split(','), lines.Skip(1).Select(l => l.Split(',')).ToArray());
    }

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);

    /// <summary>Every column of <paramref name="predicted"/> named in <paramref name="columns"/> equals path's column of that name, row by row, to 1e-12.</summary>
    private static void AssertColumnsAsPath(string predicted, string path, IEnumerable<string> columns)
    {
        var (header, rows) = Csv(predicted);
        var (pathHeader, pathRows) = Csv(path);
        Assert.Equal(pathRows.Length, rows.Length);
        foreach (var column in columns)
        {
            int j = Array.IndexOf(header, column), p = Array.IndexOf(pathHeader, column);
            Assert.True(j >= 0 && p >= 0, $"column {column}: predicted has it at {j}, path at {p}");
            for (int i = 0; i < rows.Length; i++)
            {
                double value = Number(rows[i][j]), expected = Number(pathRows[i][p]);
                Assert.True(Math.Abs(value - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"{column}, row {i + 1}: {value:R} against path.csv's {expected:R}");
            }
        }
    }

    /// <summary>Writes <paramref name="columns"/> of path.csv (and any extra text column) as a CSV of states.</summary>
    private string States(string path, string name, IReadOnlyList<string> columns, (string Name, string Value)? extra = null)
    {
        var (header, rows) = Csv(path);
        var index = columns.Select(c => Array.IndexOf(header, c)).ToArray();
        var lines = new List<string> { string.Join(',', extra is { } e ? columns.Append(e.Name) : columns) };
        lines.AddRange(rows.Select(r => string.Join(',', extra is { } e ? index.Select(j => r[j]).Append(e.Value) : index.Select(j => r[j]))));
        return _dir.Write(name, string.Join('\n', lines) + "\n");
    }

    [Fact]
    public void A_solved_brock_mirman_policy_gives_the_paths_savings_rate_and_definitions_at_each_rows_capital()
    {
        // Given a short solve of Brock–Mirman and a CSV of its path's capital with a column of notes
        var run = Solve("brock-mirman", "bm");
        var path = Path.Combine(run, "path.csv");
        var states = States(path, "states.csv", ["K"], ("note", "from the path"));

        // When its policy predicts them
        var r = Run("predict", Path.Combine(run, "policy.deqn"), states, "--out", Out("predicted.csv"));

        // Then the notes are kept, and s (through its sigmoid) and every definition are path.csv's
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("K,note,s,Y,W,C,R", File.ReadLines(Out("predicted.csv")).First());
        Assert.All(Csv(Out("predicted.csv")).Rows, row => Assert.Equal("from the path", row[1]));
        AssertColumnsAsPath(Out("predicted.csv"), path, ["K", "s", "Y", "W", "C", "R"]);

        // And predicting path.csv itself replaces its columns in place: the same header, the same numbers
        var again = Run("predict", Path.Combine(run, "policy.deqn"), path, "--out", Out("path-again.csv"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(File.ReadLines(path).First(), File.ReadLines(Out("path-again.csv")).First());
        AssertColumnsAsPath(Out("path-again.csv"), path, Csv(path).Header);
    }

    [Fact]
    public void A_solved_olg_policy_gives_the_paths_vector_policies_and_definitions_from_the_holdings_and_the_chains_index()
    {
        // Given a short solve of the three-generation OLG economy (vector states and policies, a four-state Markov chain,
        // features) and its path's states: holdings and the chain's state as its index
        var run = Solve("olg-analytic", "olg", "--set", "generations=3");
        var path = Path.Combine(run, "path.csv");
        var states = States(path, "states.csv", ["k[1]", "k[2]", "shock"]);

        // When its policy predicts them, with and without definitions
        var r = Run("predict", Path.Combine(run, "policy.deqn"), states, "--out", Out("predicted.csv"));
        var policiesOnly = Run("predict", Path.Combine(run, "policy.deqn"), states, "--definitions", "false", "--out", Out("policies.csv"));

        // Then the savings rates, the chain's values, the features and every definition are path.csv's
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] expected = ["s[1]", "s[2]", "eta", "delta", "K", "r", "w", "income[1]", "income[2]", "income[3]", "c[1]", "c[2]", "c[3]", "c_per_k[1]", "c_per_k[2]"];
        Assert.Equal(["k[1]", "k[2]", "shock", .. expected], Csv(Out("predicted.csv")).Header);
        AssertColumnsAsPath(Out("predicted.csv"), path, expected);
        // and without definitions only the policies are added
        Assert.True(policiesOnly.ExitCode == 0, policiesOnly.Stderr);
        Assert.Equal(["k[1]", "k[2]", "shock", "s[1]", "s[2]"], Csv(Out("policies.csv")).Header);
        AssertColumnsAsPath(Out("policies.csv"), path, ["s[1]", "s[2]"]);
    }

    [Fact]
    public void Raw_writes_byte_for_byte_what_predict_wrote_before_it_applied_the_transforms()
    {
        // Given a policy file and the rows predict was given before this change, and what it wrote then
        var before = File.ReadAllBytes(Data("olg-analytic-4-raw-before.csv"));
        // When --raw predicts them, to a file and to standard output
        var r = Run("predict", Data("olg-analytic-4-policy.deqn"), Data("olg-analytic-4-rows.csv"), "--raw", "--out", Out("raw.csv"));
        var stdout = Run("predict", Data("olg-analytic-4-policy.deqn"), Data("olg-analytic-4-rows.csv"), "--raw");
        // Then both are what it wrote then, byte for byte
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(Out("raw.csv")));
        Assert.Equal(0, stdout.ExitCode);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(before), stdout.Stdout);
    }

    [Fact]
    public void Raw_outputs_of_a_corrected_policy_include_its_first_order_part()
    {
        // Given stochastic Brock–Mirman solved as the correction to its first-order solution (the default), s = αβ through a
        // sigmoid: the linear part carries all of it, so raw outputs without it would give σ(≈0) = 0.5
        var run = Solve("brock-mirman-stochastic", "corrected", "--warm-start", "correction");
        var path = Path.Combine(run, "path.csv");
        // When --raw predicts at its path's states
        var r = Run("predict", Path.Combine(run, "policy.deqn"), path, "--raw", "--out", Out("raw.csv"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Then the sigmoid of each raw output is the path's savings rate: the linear part is in the raw outputs
        var (header, rows) = Csv(Out("raw.csv"));
        var (pathHeader, pathRows) = Csv(path);
        int j = Array.IndexOf(header, "predicted_s"), p = Array.IndexOf(pathHeader, "s");
        for (int i = 0; i < rows.Length; i++)
        {
            double s = 1 / (1 + Math.Exp(-Number(rows[i][j]))), expected = Number(pathRows[i][p]);
            Assert.True(Math.Abs(s - expected) <= 1e-12, $"row {i + 1}: σ(raw) = {s:R}, path.csv's s {expected:R}");
        }
    }

    [Fact]
    public void A_policy_written_before_the_scaling_was_recorded_predicts_its_paths_values()
    {
        // Given that policy file (its provenance has no input scaling, its calibration six digits) and its path's first rows
        var r = Run("predict", Data("olg-analytic-4-policy.deqn"), Data("olg-analytic-4-rows.csv"), "--out", Out("predicted.csv"));
        // Then the policies and definitions are its path's (the rows' aggregate capital and incomes replaced in place)
        Assert.True(r.ExitCode == 0, r.Stderr);
        var header = Csv(Out("predicted.csv")).Header;
        Assert.Equal(Csv(Data("olg-analytic-4-rows.csv")).Header, header.Take(14));
        AssertColumnsAsPath(Out("predicted.csv"), Data("olg-analytic-4-path.csv"),
            ["s[1]", "s[2]", "s[3]", "eta", "delta", "K", "r", "w", "income[1]", "income[4]", "c[1]", "c[4]", "c_per_k[1]", "c_per_k[3]"]);
    }

    [Fact]
    public void A_model_this_program_does_not_know_is_named_with_the_program_that_solved_it()
    {
        // Given a policy of crra-growth, a model of the example program only
        var catalog = CustomModel.CustomModels.Catalog();
        var stderr = new StringWriter();
        Assert.Equal(0, Entry.Run(new[] { "solve", "crra-growth" }.Concat(Fast).Concat(new[] { "--out", Out("crra"), "--quiet" }).ToArray(), new StringWriter(), stderr, catalog));
        var policy = Path.Combine(Out("crra"), "policy.deqn");
        var path = Path.Combine(Out("crra"), "path.csv");
        // and the same file as if the example program had solved it
        string other;
        using (var trained = TrainedModel.Load(policy))
        {
            var provenance = trained.Metadata.Provenance.ToDictionary(p => p.Key, p => p.Value);
            provenance["program"] = "custom-model";
            other = Out("other.deqn");
            new TrainedModel(trained.Network, trained.Metadata with { Provenance = provenance }).Save(other);
        }

        // When deqn's own predict reads them
        var r = Run("predict", policy, path);
        var named = Run("predict", other, path);

        // Then each is one line naming the model, the models it knows and who does know it, and exit code 2
        AssertBad(r, $"{policy}: model 'crra-growth' is not one of this program's models (brock-mirman,", "the program that solved it", "--raw");
        AssertBad(named, "model 'crra-growth'", "it was solved by the program 'custom-model', whose predict knows it");
        // and the program with that model predicts its path
        var stdout = new StringWriter();
        Assert.Equal(0, Entry.Run(["predict", policy, path, "--out", Out("crra.csv"), "--quiet"], stdout, stderr, catalog));
        AssertColumnsAsPath(Out("crra.csv"), path, ["s", "W", "C", "R"]);
    }

    private static void AssertBad(Result r, params string[] fragments)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("deqn predict: ", line);
        foreach (var f in fragments) Assert.Contains(f, line);
    }

    [Fact]
    public void A_csv_without_a_state_column_names_the_file_and_the_column()
    {
        var states = _dir.Write("states.csv", "k[1],k[3],shock\n0.2,0.05,1\n");
        AssertBad(Run("predict", Data("olg-analytic-4-policy.deqn"), states, "--out", Out("x.csv")),
            $"{states}: the policy of model 'olg-analytic' needs state column(s) 'k[2]' (available: k[1], k[3], shock)");
        Assert.False(File.Exists(Out("x.csv")));
    }

    [Fact]
    public void A_chain_state_that_is_not_an_index_of_its_chain_names_the_row_and_column()
    {
        var states = _dir.Write("states.csv", "k[1],k[2],k[3],shock\n0.2,0.1,0.05,1\n0.2,0.1,0.05,4\n");
        AssertBad(Run("predict", Data("olg-analytic-4-policy.deqn"), states), $"{states}: row 2, column 'shock': 4 is not a state of its Markov chain (0 … 3)");
    }

    [Fact]
    public void Definitions_with_raw_or_with_a_fits_model_are_refused()
    {
        var states = _dir.Write("states.csv", "k[1],k[2],k[3],shock\n0.2,0.1,0.05,1\n");
        AssertBad(Run("predict", Data("olg-analytic-4-policy.deqn"), states, "--raw", "--definitions"), "--definitions: needs the policies after their transforms; leave out --raw");
        var csv = FitCommandTests.SmallCsv(_dir.Path);
        Assert.Equal(0, Run("fit", csv, "--target", "y", "--epochs", "2", "--out", Out("fit")).ExitCode);
        AssertBad(Run("predict", Path.Combine(Out("fit"), "model.deqn"), csv, "--definitions"), "--definitions:", "is not a policy of deqn solve");
    }

    [Fact]
    public void Help_shows_the_policy_options_and_examples()
    {
        var r = Run("predict", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var text in new[] { "--raw", "--definitions", "policy.deqn states.csv", "examples/CustomModel" })
            Assert.Contains(text, r.Stdout);
    }
}
