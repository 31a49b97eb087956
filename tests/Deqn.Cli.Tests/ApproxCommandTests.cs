using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

public sealed class ApproxCommandTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-approx-");

    public void Dispose() => _dir.Dispose();

    private string Out(string name) => _dir.File(name);

    private static readonly string[] Fast = { "--n", "10,30", "--repeats", "2", "--test-points", "100", "--epochs", "20", "--layers", "8" };

    private Result Approx(params string[] args) => Run(new[] { "approx" }.Concat(args).ToArray());

    [Fact]
    public void A_small_study_writes_results_summary_plots_report_and_models()
    {
        // When
        var r = Approx(Fast.Concat(new[] { "--function", "poly1,trig1", "--out", Out("study") }).ToArray());

        // Then
        Assert.True(r.ExitCode == 0, r.Stderr);
        var results = File.ReadAllLines(Path.Combine(Out("study"), "results.csv"));
        Assert.StartsWith("experiment,configuration,function,n,seed,mean_abs_error,max_abs_error", results[0]);
        Assert.Equal(1 + 2 * 2 * 2, results.Length);
        Assert.Equal(1 + 2 * 2, File.ReadAllLines(Path.Combine(Out("study"), "summary.csv")).Length);
        foreach (var plot in new[] { "mean_error_vs_n", "max_error_vs_n", "learning_curves" })
        {
            Assert.True(File.Exists(Path.Combine(Out("study"), "plots", plot + ".png")), $"missing {plot}.png");
            Assert.True(File.Exists(Path.Combine(Out("study"), "plots", plot + ".svg")), $"missing {plot}.svg");
        }
        var report = File.ReadAllText(Path.Combine(Out("study"), "report.md"));
        Assert.Contains("plots/mean_error_vs_n.png", report);
        Assert.Contains("./deqn approx", report);
        var models = Directory.GetFiles(Path.Combine(Out("study"), "experiments"), "model.deqn", SearchOption.AllDirectories);
        Assert.Equal(8, models.Length);

        // And any saved model predicts through deqn predict
        var points = _dir.File("points.csv");
        File.WriteAllText(points, "x,y,z\n0.5,0.5,0.5\n0.1,0.2,0.3\n");
        var p = Run("predict", models[0], points, "--out", _dir.File("pred.csv"));
        Assert.True(p.ExitCode == 0, p.Stderr);
        Assert.Equal(3, File.ReadAllLines(_dir.File("pred.csv")).Length);
    }

    [Fact]
    public void A_sweep_writes_a_comparison_chart_and_a_ranking()
    {
        var r = Approx(Fast.Where(a => a != "--repeats" && a != "2").Concat(new[] { "--function", "trig1", "--repeats", "1", "--sweep", "activation=tanh|relu", "--sweep", "layers=8|8,8", "--out", Out("sweep") }).ToArray());
        Assert.True(r.ExitCode == 0, r.Stderr);
        var results = File.ReadAllLines(Path.Combine(Out("sweep"), "results.csv"));
        Assert.StartsWith("experiment,configuration,activation,layers,function", results[0]);
        Assert.Equal(1 + 4 * 2, results.Length);
        Assert.True(File.Exists(Path.Combine(Out("sweep"), "plots", "comparison.png")));
        Assert.Contains("Ranking per N", File.ReadAllText(Path.Combine(Out("sweep"), "report.md")));
    }

    [Fact]
    public void Resume_through_the_command_line_trains_only_what_is_missing()
    {
        Assert.Equal(0, Approx(Fast.Concat(new[] { "--function", "poly1", "--out", Out("r") }).ToArray()).ExitCode);
        string Errors() => string.Join("\n", File.ReadAllLines(Path.Combine(Out("r"), "results.csv")).Select(l => string.Join(',', l.Split(',').Take(9))));
        var before = Errors();
        var victim = Directory.GetDirectories(Path.Combine(Out("r"), "experiments"))[0];
        Directory.Delete(victim, recursive: true);

        var r = Approx("--resume", Out("r"));

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(before, Errors());
        Assert.True(Directory.Exists(victim));
    }

    private void AssertBad(Result r, params string[] fragments)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        foreach (var f in fragments) Assert.Contains(f, line);
    }

    [Fact] public void Unknown_function_lists_the_built_ins() => AssertBad(Approx("--function", "poly9", "--out", Out("x")), "poly9", "poly1", "trig1");
    [Fact] public void An_expression_that_does_not_parse_says_where() => AssertBad(Approx("--function", "sin(pi*x", "--out", Out("x")), "--function", "sin(pi*x");
    [Fact] public void An_unknown_variable() => AssertBad(Approx("--function", "w*x", "--out", Out("x")), "--function", "'w'");
    [Fact] public void Too_few_points() => AssertBad(Approx("--n", "1,10", "--out", Out("x")), "--n", "at least 2");
    [Fact] public void Too_many_points() => AssertBad(Approx("--n", "10,5000000", "--out", Out("x")), "--n", "sane");
    [Fact] public void An_inverted_domain() => AssertBad(Approx("--function", "x+y", "--domain", "0:1,1:0", "--out", Out("x")), "--domain");
    [Fact] public void An_empty_domain() => AssertBad(Approx("--function", "x+y", "--domain", "0:1,2:2", "--out", Out("x")), "--domain");
    [Fact] public void A_dimension_mismatch() => AssertBad(Approx("--function", "x+y+z", "--domain", "0:1,0:1", "--out", Out("x")), "--");
    [Fact] public void An_unknown_sweep_key() => AssertBad(Approx("--sweep", "colour=red|blue", "--out", Out("x")), "--sweep", "colour", "activation");
    [Fact] public void An_unknown_sweep_value() => AssertBad(Approx("--sweep", "activation=tanh|relux", "--out", Out("x")), "activation=relux", "relux");
    [Fact] public void Dropout_with_the_default_lm_names_the_fix() => AssertBad(Approx(Fast.Concat(new[] { "--function", "poly1", "--dropout", "0.2", "--out", Out("x") }).ToArray()), "lm", "dropout", "--optimizer lbfgs");
    [Fact] public void Fit_refuses_lm_for_a_loss_that_is_not_mse_in_one_line() => AssertBad(Run(["fit", _dir.Write("data.csv", "x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n"), "--target", "y", "--optimizer", "lm", "--loss", "mae", "--out", Out("x")]), "lm", "mse");

    [Fact]
    public void Fit_trains_a_regression_with_lm()
    {
        // Given a smooth one-dimensional regression
        var rows = string.Join("\n", Enumerable.Range(0, 60).Select(i => { double x = i / 59.0; return $"{x:R},{Math.Sin(3 * x):R}"; }));
        var run = Out("lm-fit");

        // When fit trains it with Levenberg–Marquardt
        var r = Run(["fit", _dir.Write("sine.csv", "x,y\n" + rows + "\n"), "--target", "y", "--optimizer", "lm", "--epochs", "30", "--out", run]);

        // Then the run succeeds and its history records lm's falling loss
        Assert.True(r.ExitCode == 0, r.Stderr);
        var history = File.ReadAllLines(Path.Combine(run, "history.csv"));
        var header = history[0].Split(',');
        int loss = Array.IndexOf(header, "loss");
        double first = double.Parse(history[1].Split(',')[loss], System.Globalization.CultureInfo.InvariantCulture);
        double last = double.Parse(history[^1].Split(',')[loss], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(last < first / 100, $"loss {first} → {last}");
    }
    [Fact] public void A_resume_folder_that_is_not_a_run() => AssertBad(Approx("--resume", _dir.Path), "--resume", "config.yaml");

    [Fact]
    public void An_unwritable_output_folder()
    {
        var file = _dir.File("a-file");
        File.WriteAllText(file, "");
        AssertBad(Approx("--out", Path.Combine(file, "run")), "--out");
    }

    [Fact]
    public void A_diverging_run_beside_a_good_one_is_drawn_at_a_ceiling_set_by_the_good_run_and_named_in_the_caption()
    {
        // Given plain SGD at a good rate and at one 100× too large (its first epoch's loss is already ~1e9)
        var run = Out("diverging");
        var r = Run("approx", "--function", "trig1", "--n", "256", "--repeats", "1", "--optimizer", "sgd", "--batch-size", "64",
            "--epochs", "20", "--early-stopping", "false", "--sweep", "lr=0.05|5", "--out", run);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Then the caption names the diverged run, and the ceiling is 10× the good run's start (the lower median of two),
        // not 10× the diverged run's
        var report = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("`lr=5` diverged at epoch", report);
        var ceiling = double.Parse(System.Text.RegularExpressions.Regex.Match(report, @"Losses above ([0-9.eE+]+) \(10×").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ceiling, 1, 100);
    }
}
