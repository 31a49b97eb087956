using System.Globalization;
using System.Text.RegularExpressions;
using Deqn.Equilibrium.Models;
using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

public sealed class SolveCommandTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-solve-");

    public void Dispose() => _dir.Dispose();

    private string Out(string name) => _dir.File(name);

    private static readonly string[] Fast =
    {
        "--episodes", "40", "--trajectories", "16", "--episode-length", "4", "--batch-size", "32", "--layers", "8,8", "--log-every", "5",
        "--checkpoint-every", "10", "--eval-periods", "200", "--eval-burn-in", "20", "--eval-grid", "6", "--polish-rounds", "1", "--polish-states", "64",
    };

    private static Result Solve(params string[] args) => Run(new[] { "solve" }.Concat(args).ToArray());

    private static void AssertBad(Result r, params string[] fragments)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        foreach (var f in fragments) Assert.Contains(f, line);
    }

    [Fact]
    public void A_short_solve_writes_the_run_folder_with_config_history_checkpoint_policy_csvs_plots_and_report()
    {
        // When the stochastic Brock–Mirman model is solved briefly
        var r = Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--set", "alpha=0.3", "--out", Out("run") }).ToArray());

        // Then every promised file is there
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var file in new[] { "config.yaml", "history.csv", "checkpoints/last.ckpt", "policy.deqn", "policy.safetensors", "path.csv",
                     "euler-errors.csv", "policy-errors.csv", "policy-slices.csv", "report.md" })
            Assert.True(File.Exists(Path.Combine(Out("run"), file)), $"missing {file}");
        foreach (var plot in new[] { "policy-s", "training", "euler-errors-euler", "path" })
            foreach (var ext in new[] { ".png", ".svg" })
                Assert.True(File.Exists(Path.Combine(Out("run"), "plots", plot + ext)), $"missing {plot}{ext}");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(Out("run"), "tensorboard"), "events.out.tfevents.*"));
        var config = File.ReadAllText(Path.Combine(Out("run"), "config.yaml"));
        Assert.Contains("model: 'brock-mirman-stochastic'", config);
        Assert.Contains("alpha=0.3;beta=0.99;delta=1;", config);
        var history = File.ReadAllLines(Path.Combine(Out("run"), "history.csv"));
        Assert.StartsWith("episode,loss,mse_euler,mean_abs_euler,max_abs_euler,euler_mean,euler_max", history[0]);
        Assert.Equal(1 + 9 + 1, history.Length);  // nine logged episodes and the polish round
        Assert.Equal(1 + 200, File.ReadAllLines(Path.Combine(Out("run"), "path.csv")).Length);
        Assert.StartsWith("period,K,z,s,Y,W,C,R,error_euler", File.ReadAllLines(Path.Combine(Out("run"), "path.csv"))[0]);
        var errors = File.ReadAllLines(Path.Combine(Out("run"), "policy-errors.csv"));
        Assert.Equal(new[] { "policy,where,reference,mean_rel_error,max_rel_error" }, errors.Take(1));
        Assert.Contains(errors, l => l.StartsWith("s,grid,closed form,", StringComparison.Ordinal));
        var report = File.ReadAllText(Path.Combine(Out("run"), "report.md"));
        Assert.Contains("Euler errors on a fresh path", report);
        Assert.Contains("plots/policy-s.png", report);
        Assert.Contains("Policy against the closed form", report);
        Assert.Contains("Started from the first-order solution, as a fixed linear part of the raw outputs", report);
        Assert.Contains("expectations: Gauss–Hermite 5: 5 next states per state", r.Stdout);
    }

    [Fact]
    public void The_episodes_train_with_lm_when_asked_and_without_the_slope_anchor_it_cannot_hold()
    {
        // When the episodes train by Levenberg–Marquardt from random weights (the anchor's penalty is not a least-squares row)
        var r = Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--optimizer", "lm", "--slope-anchor", "0", "--warm-start", "none", "--out", Out("lm") }).ToArray());

        // Then the run succeeds and its loss falls by orders of magnitude over the episodes
        Assert.True(r.ExitCode == 0, r.Stderr);
        var history = File.ReadAllLines(Path.Combine(Out("lm"), "history.csv"));
        int loss = Array.IndexOf(history[0].Split(','), "loss");
        double Loss(string line) => double.Parse(line.Split(',')[loss], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Loss(history[^2]) < Loss(history[1]) / 100, $"{Loss(history[1])} → {Loss(history[^2])}");

        // and with the anchor on (the default), lm is refused in one line that says what to do
        AssertBad(Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--optimizer", "lm", "--out", Out("anchored") }).ToArray()), "lm", "--slope-anchor 0");
    }

    [Fact]
    public void Summary_json_says_what_the_polish_did()
    {
        // When a solve from random weights (so the polish has work) ends with one polish round
        var r = Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--warm-start", "none", "--out", Out("run") }).ToArray());
        Assert.True(r.ExitCode == 0, r.Stderr);

        // Then summary.json says what its Levenberg–Marquardt steps did, and how the system was solved (64 rows, 97 weights: JJᵀ)
        var summary = Json(Path.Combine(Out("run"), "summary.json"));
        Assert.Equal(1, summary.GetProperty("polish_rounds_run").GetInt32());
        long taken = summary.GetProperty("polish_steps_taken").GetInt64(), rejected = summary.GetProperty("polish_steps_rejected").GetInt64();
        Assert.True(taken + rejected >= 1, $"taken {taken}, rejected {rejected}");
        Assert.Equal("cholesky-rows", summary.GetProperty("polish_solver").GetString());
        Assert.Equal(0, summary.GetProperty("polish_cg_iterations").GetInt64());
    }

    [Fact]
    public void Rerunning_the_merged_config_reproduces_the_solve_and_resume_after_a_stop_ends_as_an_uninterrupted_run()
    {
        // Given an uninterrupted solve
        Assert.Equal(0, Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--out", Out("a") }).ToArray()).ExitCode);
        // When its merged config is rerun
        var again = Solve("--config", Path.Combine(Out("a"), "config.yaml"), "--out", Out("b"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        // and another run stops after its first episode (a time budget) and is resumed without it
        Assert.Equal(0, Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--max-seconds", "0.000001", "--out", Out("c") }).ToArray()).ExitCode);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(Out("c"), "history.csv")).Length);
        var resumed = Solve("brock-mirman-stochastic", "--resume", Out("c"), "--max-seconds", "100000");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);

        // Then all three have the same history (apart from wall time) and the same policy errors
        string Losses(string run) => string.Join("\n", File.ReadAllLines(Path.Combine(Out(run), "history.csv")).Select(l => string.Join(',', l.Split(',').Take(8))));
        Assert.Equal(Losses("a"), Losses("b"));
        Assert.Equal(Losses("a"), Losses("c"));
        Assert.Equal(File.ReadAllText(Path.Combine(Out("a"), "policy-errors.csv")), File.ReadAllText(Path.Combine(Out("c"), "policy-errors.csv")));
    }

    [Fact]
    public void Evaluate_recomputes_the_diagnostics_of_a_saved_run()
    {
        Assert.Equal(0, Solve(Fast.Concat(new[] { "brock-mirman", "--out", Out("run") }).ToArray()).ExitCode);
        // (the model's recommended settings fill what the command line left at its defaults, and the config says so)
        var config = File.ReadAllText(Path.Combine(Out("run"), "config.yaml"));
        Assert.Contains("lr: '0.003'   # from model brock-mirman", config);
        Assert.Contains("episodes: '40'   # from the command line", config);
        var r = Run("evaluate", Out("run"), "--eval-periods", "100", "--out", Out("eval"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(1 + 100, File.ReadAllLines(Path.Combine(Out("eval"), "path.csv")).Length);
        // The grid comparison does not depend on the path: it equals the solve's own
        Assert.Equal(File.ReadAllLines(Path.Combine(Out("run"), "policy-errors.csv"))[1], File.ReadAllLines(Path.Combine(Out("eval"), "policy-errors.csv"))[1]);
    }

    [Fact]
    public void Evaluate_scales_the_inputs_as_the_solve_did_so_the_same_path_gives_the_same_numbers()
    {
        // Given the OLG economy (features, scaled by the simulated states) solved with every input scaled by statistics
        var solve = Solve(Fast.Concat(new[] { "olg-analytic", "--set", "generations=3", "--input-scaling", "simulated", "--out", Out("run") }).ToArray());
        Assert.True(solve.ExitCode == 0, solve.Stderr);
        // When its diagnostics are recomputed on a path of the same length and seed
        var r = Run("evaluate", Out("run"), "--out", Out("eval"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Then the path (states, policies, definitions, errors) is the solve's to rounding
        var solved = File.ReadAllLines(Path.Combine(Out("run"), "path.csv"));
        var evaluated = File.ReadAllLines(Path.Combine(Out("eval"), "path.csv"));
        Assert.Equal(solved.Length, evaluated.Length);
        Assert.Equal(solved[0], evaluated[0]);
        for (int i = 1; i < solved.Length; i++)
            foreach (var (a, b) in solved[i].Split(',').Zip(evaluated[i].Split(',')))
            {
                double x = double.Parse(a, CultureInfo.InvariantCulture), y = double.Parse(b, CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(x - y) <= 1e-10 * Math.Max(1, Math.Abs(x)), $"path.csv row {i}: {a} against {b}");
            }
    }

    [Fact]
    public void The_report_gives_each_definitions_range_on_the_path_so_a_binding_ceilings_multiplier_shows_positive()
    {
        // Given the hours-ceiling model solved briefly (40 small episodes: far from the closed form's μ = 0.0967, but
        // with hours below what the first-order condition asks for, so μ > 0)
        var r = Solve(Fast.Concat(new[] { "brock-mirman-labor-ceiling", "--out", Out("ceiling") }).ToArray());
        Assert.True(r.ExitCode == 0, r.Stderr);
        // When the multiplier's column of path.csv is read
        var lines = File.ReadAllLines(Path.Combine(Out("ceiling"), "path.csv"));
        int column = Array.IndexOf(lines[0].Split(','), "mu");
        Assert.True(column > 0, lines[0]);
        var mu = lines.Skip(1).Select(l => double.Parse(l.Split(',')[column], CultureInfo.InvariantCulture)).ToArray();

        // Then summary.json and report.md give its min, mean and max, and μ is positive all along the path
        var range = Json(Path.Combine(Out("ceiling"), "summary.json")).GetProperty("definitions_on_path").GetProperty("mu");
        Assert.Equal(mu.Min(), range.GetProperty("min").GetDouble(), 12);
        Assert.Equal(mu.Average(), range.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(mu.Max(), range.GetProperty("max").GetDouble(), 12);
        Assert.True(mu.Min() > 0, $"μ ≤ 0 on the path (min {mu.Min()})");
        var report = File.ReadAllText(Path.Combine(Out("ceiling"), "report.md"));
        Assert.Contains("## Definitions along the path", report);
        var row = Regex.Match(report, @"(?m)^\| mu\s+\| multiplier μ = w/C − ψL\^θ of the hours ceiling \(> 0 where it binds\)\s+\| (\S+)\s+\| (\S+)\s+\| (\S+)\s+\|\r?$");
        Assert.True(row.Success, report);
        var printed = row.Groups.Values.Skip(1).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(printed.Zip([mu.Min(), mu.Average(), mu.Max()]), p => Assert.Equal(p.Second, p.First, 5e-4 * p.Second));   // 4 significant digits
    }

    [Fact]
    public void Models_lists_every_model_with_its_parameters()
    {
        // Given the shipped catalog
        var catalog = BuiltinModels.Catalog();
        Assert.NotEmpty(catalog.Entries);

        // When `deqn models` prints it
        var r = Run("models");

        // Then each model has a header "name: summary", in catalog order, and under it (before the next model) one table
        // row per parameter: its name, its default (printed to 6 significant digits) and its meaning
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var headers = catalog.Entries.Select(e => Array.IndexOf(lines, $"{e.Name}: {e.Summary}")).ToArray();
        for (int m = 0; m < catalog.Entries.Count; m++)
        {
            Assert.True(headers[m] >= 0, $"no header line for model '{catalog.Entries[m].Name}' in:\n{r.Stdout}");
            if (m > 0) Assert.True(headers[m] > headers[m - 1], $"'{catalog.Entries[m].Name}' is listed before '{catalog.Entries[m - 1].Name}'");
        }
        for (int m = 0; m < catalog.Entries.Count; m++)
        {
            var entry = catalog.Entries[m];
            var block = lines[(headers[m] + 1)..(m + 1 < catalog.Entries.Count ? headers[m + 1] : lines.Length)];
            Assert.NotEmpty(entry.Parameters);
            foreach (var (name, description, value) in entry.Parameters)
            {
                var row = block.Select(l => Regex.Match(l, $@"^\s*{Regex.Escape(name)}\s+(\S+)\s+(.*?)\s*$")).SingleOrDefault(x => x.Success);
                Assert.True(row is not null, $"model '{entry.Name}': no row for parameter '{name}' in:\n{string.Join('\n', block)}");
                double printed = double.Parse(row!.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(printed - value) <= 5e-6 * Math.Abs(value), $"model '{entry.Name}', parameter '{name}': printed {printed}, default {value}");
                Assert.Equal(description, row.Groups[2].Value);
            }
        }
    }

    [Fact]
    public void A_program_with_a_catalog_of_its_own_solves_its_own_model_through_the_same_command_line()
    {
        // Given the example program's catalog (the shipped models plus crra-growth, a model written outside Deqn)
        var catalog = CustomModel.CustomModels.Catalog();
        Assert.Contains(catalog.Entries, e => e.Name == "crra-growth");
        // When it solves its model briefly with a parameter overridden
        var stderr = new StringWriter();
        int code = Entry.Run(new[] { "solve", "crra-growth" }.Concat(Fast).Concat(new[] { "--set", "gamma=3", "--out", Out("crra"), "--quiet" }).ToArray(), new StringWriter(), stderr, catalog);
        // Then the run folder has its report and the config names the parameter
        Assert.True(code == 0, stderr.ToString());
        Assert.True(File.Exists(Path.Combine(Out("crra"), "report.md")));
        Assert.Contains("gamma=3", File.ReadAllText(Path.Combine(Out("crra"), "config.yaml")));
        // and an unknown parameter of that model is named like any other
        var bad = new StringWriter();
        Assert.Equal(2, Entry.Run(new[] { "solve", "crra-growth", "--set", "eta=1", "--out", Out("bad"), "--quiet" }, new StringWriter(), bad, catalog));
        Assert.Contains("model 'crra-growth' has no parameter 'eta'", bad.ToString());
    }

    [Fact] public void An_unknown_model_lists_the_models() => AssertBad(Solve("ramsey", "--out", Out("x")), "unknown model 'ramsey'", "brock-mirman", "stochastic-growth");
    [Fact] public void An_unknown_parameter_is_named() => AssertBad(Solve("brock-mirman", "--set", "theta=2", "--out", Out("x")), "--set", "no parameter 'theta'", "alpha");
    [Fact] public void A_discount_factor_of_one_is_refused() => AssertBad(Solve("stochastic-growth", "--set", "beta=1", "--out", Out("x")), "beta (β) must be in (0, 1)");
    [Fact] public void A_negative_sigma_is_refused() => AssertBad(Solve("stochastic-growth", "--set", "sigma=-0.1", "--out", Out("x")), "sigma (σ) must be ≥ 0");
    [Fact] public void A_unit_root_is_refused() => AssertBad(Solve("stochastic-growth", "--set", "rho=1", "--out", Out("x")), "rho (ρ) must satisfy |ρ| < 1");
    [Fact] public void A_range_with_lower_above_upper_is_refused() => AssertBad(Solve("stochastic-growth", "--set", "k_low=13", "--out", Out("x")), "k_low (13) must be below k_high (12)");
    [Fact] public void A_setting_through_set_is_checked_like_the_option() => AssertBad(Solve("brock-mirman", "--set", "episodes=zero", "--out", Out("x")), "episodes", "'zero' is not a whole number");
    [Fact] public void An_unknown_input_scaling_is_named() => AssertBad(Solve("brock-mirman", "--input-scaling", "sideways", "--out", Out("x")), "--input-scaling", "'sideways' is not box or simulated");
    [Fact] public void A_weight_that_is_not_a_number_is_named() => AssertBad(Solve("brock-mirman", "--equation-weights", "euler=heavy", "--out", Out("x")), "--equation-weights", "euler", "'heavy' is not a number");
    [Fact] public void A_weight_for_an_equation_the_model_lacks_is_named() => AssertBad(Solve("brock-mirman", "--episodes", "1", "--equation-weights", "budget=2", "--out", Out("x")), "'budget'", "its equations: euler");
    [Fact] public void A_watched_equation_the_model_lacks_is_named() => AssertBad(Solve("olg-analytic", "--episodes", "1", "--target-euler", "1e-3", "--target-equations", "euler[9]", "--out", Out("x")), "'euler[9]'", "its equations: euler");
    [Fact] public void Lbfgs_is_refused_with_the_reason() => AssertBad(Solve("brock-mirman", "--optimizer", "lbfgs", "--out", Out("x")), "--optimizer", "fixed data set");

    [Fact]
    public void An_unknown_config_key_is_named_with_its_file()
    {
        var config = Out("bad.yaml");
        File.WriteAllText(config, "model: brock-mirman\nepisodez: 10\n");
        AssertBad(Solve("--config", config, "--out", Out("x")), "bad.yaml", "unknown key 'episodez'", "episodes");
    }

    [Fact]
    public void A_calibration_section_in_a_config_file_sets_the_parameters_and_a_bad_one_is_named()
    {
        var config = Out("cal.yaml");
        File.WriteAllText(config, "model: brock-mirman\ncalibration:\n  alpha: 1.5\n");
        AssertBad(Solve("--config", config, "--out", Out("x")), "cal.yaml", "alpha (α) must be in (0, 1) (got 1.5)");
    }

    [Fact]
    public void Resuming_a_folder_that_is_not_a_run_or_belongs_to_another_model_is_refused_and_nothing_is_written()
    {
        AssertBad(Solve("brock-mirman", "--resume", Out("nothing")), "--resume", "is not a folder");
        Directory.CreateDirectory(Out("empty"));
        AssertBad(Solve("brock-mirman", "--resume", Out("empty")), "--resume", "not a run folder");
        Assert.Equal(0, Solve(Fast.Concat(new[] { "brock-mirman", "--out", Out("bm") }).ToArray()).ExitCode);
        var before = Directory.GetFiles(Out("bm"), "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        AssertBad(Solve("stochastic-growth", "--resume", Out("bm")), "--resume", "is a solve of model 'brock-mirman', not 'stochastic-growth'");
        AssertBad(Solve("brock-mirman", "--resume", Out("bm"), "--lr", "0.1"), "--lr", "cannot be changed when resuming");
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
    }

    [Fact]
    public void Out_of_an_existing_folder_is_refused() => AssertBad(Solve("brock-mirman", "--out", Path.GetDirectoryName(_dir.Path)!), "--out", "already exists");

    [Fact]
    public void A_diverging_solve_stops_with_one_line_and_exit_code_1()
    {
        var r = Solve(Fast.Concat(new[] { "brock-mirman-stochastic", "--optimizer", "sgd", "--lr", "1e12", "--out", Out("div") }).ToArray());
        Assert.Equal(1, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.Matches("non-finite|left the feasible set", line);
    }
}
