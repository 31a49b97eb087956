using Deqn.Testing;
using static Deqn.Cli.Tests.ChildProcess;

namespace Deqn.Cli.Tests;

/// <summary>
/// Every command run as in a log file, a pipe, a batch job or CI: no --quiet, no terminal. The study shape has 28
/// experiments, so its first progress line comes at 1/28 &lt; 5% (the shape that crashed `deqn approx` when redirected).
/// </summary>
public sealed class RedirectedOutputTests : IDisposable
{
    private const string Study = "approx --function poly1 --n 10,20,30,40,50,60,70 --repeats 4 --epochs 3";
    private const string ShortSolve = "solve brock-mirman --episodes 30 --polish-rounds 2 --eval-periods 300 --eval-burn-in 20 --eval-grid 8";

    // The exit code of the first command of the last pipeline (deqn's, before head or cat).
    private const string FirstExit = "${PIPESTATUS[0]}";

    private readonly TempFolder _dir = new("deqn-redirected-");

    public void Dispose() => _dir.Dispose();

    private string In(string name) => _dir.File(name);

    private static void AssertPlain(string output)
    {
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\r', output);
    }

    private void AssertCompleteStudy(string folder)
    {
        var results = File.ReadAllLines(Path.Combine(folder, "results.csv"));
        Assert.Equal(1 + 28, results.Length);
        foreach (var file in new[] { "config.yaml", "summary.csv", "report.md", "plots/mean_error_vs_n.png" })
            Assert.True(File.Exists(Path.Combine(folder, file)), $"missing {file} in {folder}");
    }

    [Fact]
    public void Approx_with_its_output_in_a_file_prints_plain_progress_and_finishes_the_study()
    {
        // When the study runs with standard output and error redirected to a file, without --quiet
        var r = Bash($"deqn {Study} --out {Quote(In("run"))} > {Quote(In("log"))} 2>&1 </dev/null");

        // Then it ends normally, with plain progress lines in the log and the whole run folder
        var log = File.ReadAllText(In("log"));
        Assert.True(r.ExitCode == 0, log);
        AssertPlain(log);
        Assert.Contains("experiments 28/28 (100%)", log);
        Assert.Matches(@"(?m)^experiments [12]/28 \(\d%\)", log);
        Assert.Matches(@"(?m)^deqn approx: .* = 28 experiments, 1000 test points$", log);
        AssertCompleteStudy(In("run"));
    }

    [Fact]
    public void Approx_in_a_pipe_under_CI_and_a_dumb_narrow_terminal_setting_prints_plain_lines()
    {
        // When the output is a pipe and the environment says CI, a dumb terminal and 40 columns
        var r = Bash($"deqn {Study} --out {Quote(In("run"))} 2>&1 | cat",
            new Dictionary<string, string?> { ["CI"] = "true", ["TERM"] = "dumb", ["COLUMNS"] = "40" });

        // Then the lines are plain and not folded at any width
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        AssertPlain(r.Output);
        Assert.Contains("experiments 28/28 (100%)", r.Output);
        Assert.Matches(@"(?m)^deqn approx: .* = 28 experiments, 1000 test points$", r.Output);
        AssertCompleteStudy(In("run"));
    }

    [Fact]
    public void Approx_whose_reader_closed_the_pipe_still_completes_its_run_folder()
    {
        // When the reader of the output stops after the first line
        var r = Bash($"set -o pipefail; deqn {Study} --out {Quote(In("run"))} | head -n 1; echo \"deqn exit {FirstExit}\"");

        // Then deqn goes on to the end of the study and exits 0
        Assert.Contains("deqn exit 0", r.Output);
        Assert.StartsWith("deqn approx:", r.Output);
        AssertCompleteStudy(In("run"));
    }

    [Fact]
    public void Approx_with_standard_output_and_error_closed_still_completes_its_run_folder()
    {
        // When the study runs with nothing to write to (>&- 2>&-)
        var r = Bash($"deqn {Study} --out {Quote(In("run"))} >&- 2>&-; echo \"deqn exit $?\" > {Quote(In("status"))}");

        // Then it exits 0 and its run folder is whole
        Assert.Equal("deqn exit 0", File.ReadAllText(In("status")).Trim());
        AssertCompleteStudy(In("run"));
    }

    [SkippableFact]
    public void Approx_on_a_narrow_terminal_writes_the_same_run_folder_as_when_redirected()
    {
        Skip.IfNot(OnPath("script"), "util-linux 'script' (a pseudo-terminal) is not installed");
        // Given the same study once on a 40-column pseudo-terminal and once into a file
        var tty = Bash($"script -qec {Quote($"stty cols 40 2>/dev/null; dotnet {Quote(DeqnDll)} {Study} --out {Quote(In("tty"))}")} /dev/null",
            new Dictionary<string, string?> { ["TERM"] = "xterm", ["COLUMNS"] = "40" });
        var file = Bash($"deqn {Study} --out {Quote(In("file"))} > {Quote(In("log"))} 2>&1 </dev/null");

        // Then both end normally, the terminal one redrew its progress line, and the folders hold the same files and results
        Assert.True(tty.ExitCode == 0, tty.Output + tty.Error);
        Assert.True(file.ExitCode == 0, File.ReadAllText(In("log")));
        Assert.Contains("\rexperiments 28/28", tty.Output);
        Assert.Equal(Files(In("file")), Files(In("tty")));
        Assert.Equal(ResultColumns(In("file")), ResultColumns(In("tty")));
    }

    [Fact]
    public void Solve_evaluate_and_models_run_redirected_and_into_a_closed_pipe()
    {
        // When a short solve, its evaluation and the model list run with output in files and into a closed pipe
        var run = Quote(In("solve"));
        var r = Bash($"""
            deqn {ShortSolve} --out {run} > {Quote(In("solve.log"))} 2>&1 </dev/null; echo "solve $?"
            CI=true TERM=dumb deqn evaluate {run} --eval-periods 300 --eval-burn-in 20 --eval-grid 8 --out {Quote(In("evaluation"))} 2>&1 | cat > {Quote(In("evaluate.log"))}; echo "evaluate {FirstExit}"
            deqn models | head -n 1 > /dev/null; echo "models {FirstExit}"
            deqn models > {Quote(In("models.log"))} 2>&1; echo "models-file $?"
            """);

        // Then each exits 0 with plain output and a complete folder
        foreach (var step in new[] { "solve 0", "evaluate 0", "models 0", "models-file 0" }) Assert.Contains(step, r.Output);
        var solveLog = File.ReadAllText(In("solve.log"));
        AssertPlain(solveLog);
        AssertPlain(File.ReadAllText(In("evaluate.log")));
        Assert.Contains("episode 32/32", solveLog);
        Assert.Matches(@"(?m)^  network 1 → .* batch \d+$", solveLog);
        Assert.Matches(@"(?m)^  then 2 polish rounds \(episodes 31–32\): .* states or [\d,]+ least-squares rows, whichever is fewer$", solveLog);
        Assert.Contains("finished after", solveLog);
        foreach (var file in new[] { "report.md", "summary.json", "policy.deqn", "history.csv", "checkpoints/last.ckpt" })
            Assert.True(File.Exists(Path.Combine(In("solve"), file)), $"missing {file}");
        Assert.True(File.Exists(Path.Combine(In("evaluation"), "report.md")));
        var models = File.ReadAllText(In("models.log"));
        AssertPlain(models);
        Assert.Contains("brock-mirman-stochastic", models);
    }

    [Fact]
    public void Fit_and_predict_run_redirected_and_into_a_closed_pipe()
    {
        // Given a small regression data set
        var lines = new List<string> { "x1,x2,y" };
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            double a = random.NextDouble(), b = random.NextDouble();
            lines.Add(FormattableString.Invariant($"{a},{b},{Math.Sin(3 * a) + b * b}"));
        }
        File.WriteAllLines(In("data.csv"), lines);

        // When fit writes to a file, and predict's CSV goes into a pipe that is closed after two lines
        var r = Bash($"""
            deqn fit {Quote(In("data.csv"))} --target y --epochs 30 --out {Quote(In("fit"))} > {Quote(In("fit.log"))} 2>&1 </dev/null; echo "fit $?"
            deqn predict {Quote(In("fit/model.deqn"))} {Quote(In("data.csv"))} | head -n 2 > {Quote(In("head.csv"))}; echo "predict {FirstExit}"
            """, new Dictionary<string, string?> { ["CI"] = "true" });

        // Then both exit 0, fit's log is plain, and its run folder is complete
        Assert.Contains("fit 0", r.Output);
        Assert.Contains("predict 0", r.Output);
        var log = File.ReadAllText(In("fit.log"));
        AssertPlain(log);
        Assert.Contains("epoch 30/30", log);
        Assert.Matches(@"(?m)^deqn fit .*data\.csv: 200 rows, 2 features → y$", log);
        foreach (var file in new[] { "model.deqn", "metrics.json", "history.csv", "summary.txt" })
            Assert.True(File.Exists(Path.Combine(In("fit"), file)), $"missing {file}");
        Assert.Equal("x1,x2,y,predicted_y", File.ReadAllLines(In("head.csv"))[0]);
    }

    // TensorBoard event files carry a timestamp and process id in their names; everything else must match.
    private static string[] Files(string folder) => Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
        .Select(f => System.Text.RegularExpressions.Regex.Replace(Path.GetRelativePath(folder, f), @"events\.out\.tfevents\..*$", "events.out.tfevents"))
        .Order(StringComparer.Ordinal).ToArray();

    private static string[] ResultColumns(string folder)
    {
        var rows = File.ReadAllLines(Path.Combine(folder, "results.csv"));
        int seconds = Array.IndexOf(rows[0].Split(','), "seconds");
        return rows.Select(r => string.Join(',', r.Split(',').Where((_, i) => i != seconds))).Order(StringComparer.Ordinal).ToArray();
    }
}
