using System.Globalization;
using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

/// <summary>Each lecture demo shows its phenomenon on its own results, so that a change of defaults cannot silently break it.</summary>
public sealed class DemoTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-demo-");

    public void Dispose() => _dir.Dispose();

    private static string Config(string name) => Path.Combine(RepositoryFiles.Root, "configs", name);

    /// <summary>Runs configs/<paramref name="config"/> as a user would (quietly) and returns its run folder.</summary>
    private string RunDemo(string config)
    {
        var run = _dir.File(Path.GetFileNameWithoutExtension(config));
        var r = Run("approx", "--config", Config(config), "--out", run, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return run;
    }

    /// <summary>summary.csv's mean absolute error by the values of <paramref name="keys"/> (joined with '/').</summary>
    private static Dictionary<string, double> MeanErrors(string run, params string[] keys)
    {
        var lines = File.ReadAllLines(Path.Combine(run, "summary.csv"));
        var header = lines[0].Split(',');
        int[] at = keys.Select(k => Array.IndexOf(header, k)).ToArray();
        int error = Array.IndexOf(header, "mean_abs_error_mean");
        return lines.Skip(1).Select(l => l.Split(',')).ToDictionary(c => string.Join('/', at.Select(i => c[i])), c => double.Parse(c[error], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_optimizers_demo_shows_sgd_crawling_momentum_helping_and_adam_lowest()
    {
        // When the demo runs as its config says
        var e = MeanErrors(RunDemo("approx-optimizers.yaml"), "optimizer");
        string all = string.Join(", ", e.Select(kv => $"{kv.Key} {kv.Value:G3}"));
        // Then (measured: SGD 0.117, momentum and Nesterov 0.026, AdaGrad 0.098, RMSProp 0.045, Adam 0.019) plain SGD is at
        // least 3× Adam's error, momentum and Nesterov at most half of SGD's, and Adam is the lowest of all six
        Assert.Equal(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"], e.Keys);
        Assert.True(e["sgd"] >= 3 * e["adam"], all);
        Assert.True(e["momentum"] <= 0.5 * e["sgd"] && e["nesterov"] <= 0.5 * e["sgd"], all);
        Assert.True(e.All(kv => kv.Value >= e["adam"]), all);
    }

    [Fact]
    public void The_regularization_demo_shows_dropout_and_batch_norm_costing_accuracy_when_there_is_nothing_to_overfit()
    {
        // When the demo runs as its config says (trig1 and exp2 without noise; dropout 0 or 0.2, batch norm off or on)
        var e = MeanErrors(RunDemo("approx-regularization.yaml"), "dropout", "batch-norm", "function", "n");
        foreach (var f in new[] { "trig1", "exp2" })
        {
            double plain = e[$"0/false/{f}/500"], dropout = e[$"0.2/false/{f}/500"], batchNorm = e[$"0/true/{f}/500"];
            string what = $"{f}, N = 500: plain {plain:G3}, dropout {dropout:G3}, batch norm {batchNorm:G3}";
            // Then at N = 500 dropout has at least twice the plain network's error (measured: 5.0× trig1, 8.3× exp2),
            // and batch normalization a higher one (measured: 1.4×, 3.6×)
            Assert.True(dropout >= 2 * plain, what);
            Assert.True(batchNorm > plain, what);
        }
    }

    [Fact]
    public void The_input_normalization_demo_is_far_worse_without_normalization()
    {
        // When the demo runs as its config says (x in [0, 1000], y in [0, 0.001], inputs standardized or not)
        var e = MeanErrors(RunDemo("approx-input-normalization.yaml"), "normalize");
        // Then without normalization the mean error is at least 10× higher (measured: 0.0135 standardized, 0.411 not)
        Assert.True(e["none"] >= 10 * e["standard"], $"standard {e["standard"]:G3}, none {e["none"]:G3}");
    }

    /// <summary>One experiment of a demo run: its result.json fields that the tests read and its history.csv rows (column → value).</summary>
    private sealed record Experiment(string Configuration, long Seed, string StopReason, int Epochs, double MeanError, List<Dictionary<string, double>> History)
    {
        public double[] Column(string name) => History.Where(h => h.ContainsKey(name)).Select(h => h[name]).ToArray();
    }

    private static List<Experiment> Experiments(string run)
    {
        var experiments = new List<Experiment>();
        foreach (var folder in Directory.GetDirectories(Path.Combine(run, "experiments")).Order())
        {
            using var result = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "result.json")));
            var r = result.RootElement;
            var lines = File.ReadAllLines(Path.Combine(folder, "history.csv"));
            var header = lines[0].Split(',');
            var rows = lines.Skip(1).Select(l => l.Split(',')).Select(c => header.Zip(c).Where(p => p.Second.Length > 0)
                .ToDictionary(p => p.First, p => double.Parse(p.Second, CultureInfo.InvariantCulture))).ToList();
            experiments.Add(new Experiment(r.GetProperty("configuration").GetString()!, r.GetProperty("key").GetProperty("seed").GetInt64(),
                r.GetProperty("stop_reason").GetString()!, r.GetProperty("epochs").GetInt32(), r.GetProperty("mean_abs_error").GetDouble(), rows));
        }
        return experiments;
    }

    [Fact]
    public void The_learning_rate_demo_shows_slow_good_and_diverging_rates()
    {
        // When the demo runs as its config says (minibatch SGD at lr 0.005, 0.05 and 0.5)
        var run = RunDemo("approx-learning-rate.yaml");
        var x = Experiments(run).ToDictionary(e => e.Configuration);
        double Final(string c) => x[c].Column("loss")[^1];
        string all = string.Join(", ", x.Values.Select(e => $"{e.Configuration}: final loss {e.Column("loss")[^1]:G3}, error {e.MeanError:G3}, {e.StopReason}"));
        // Then the middle rate ends with the lowest loss and error; the small one still learns (its loss falls) but ends at
        // least 3× higher in loss and error (measured: 24× and 4.6×)
        Assert.True(Final("lr=0.005") >= 3 * Final("lr=0.05") && x["lr=0.005"].MeanError >= 3 * x["lr=0.05"].MeanError, all);
        Assert.True(Final("lr=0.005") < 0.5 * x["lr=0.005"].Column("loss")[0], all);
        // And the large one diverges: its loss ends non-finite or 1000× above where the middle one started (measured:
        // not finite after 28 epochs), and the report says where
        var large = x["lr=0.5"].Column("loss");
        Assert.True(!double.IsFinite(large[^1]) || large[^1] > 1000 * x["lr=0.05"].Column("loss")[0], all);
        Assert.Contains("`lr=0.5` diverged at epoch", File.ReadAllText(Path.Combine(run, "report.md")));
    }

    [Fact]
    public void The_early_stopping_demo_overfits_without_it_and_restores_the_best_epoch_with_it()
    {
        // When the demo runs as its config says (40 noisy points, 3 seeds, the same runs with and without early stopping)
        var run = RunDemo("approx-early-stopping.yaml");
        var experiments = Experiments(run);
        foreach (var seed in experiments.Select(e => e.Seed).Distinct())
        {
            var with = experiments.Single(e => e.Seed == seed && e.Configuration == "early-stopping=true");
            var without = experiments.Single(e => e.Seed == seed && e.Configuration == "early-stopping=false");
            var validation = without.Column("val_loss");
            int best = Array.IndexOf(validation, validation.Min());
            string what = $"seed {seed}: best epoch {best + 1} ({validation.Min():G3}), final {validation[^1]:G3}; errors {with.MeanError:G3} with, {without.MeanError:G3} without";
            // Then without early stopping the validation loss ends at least 1.25× above its minimum (measured: 1.4–1.9×)
            Assert.True(validation[^1] >= 1.25 * validation.Min(), what);
            // And early stopping stops 100 epochs (its patience) after that same best epoch, with the best epoch's weights:
            // its test error is below the run that trained on (measured: 0.060–0.088 against 0.104–0.128)
            Assert.Equal("EarlyStopping", with.StopReason);
            Assert.Equal(best + 1 + 100, with.Epochs);
            Assert.True(with.MeanError < without.MeanError, what);
        }
        Assert.Contains("restored epoch", File.ReadAllText(Path.Combine(run, "report.md")));
    }

    [Fact]
    public void The_vanishing_gradients_demo_shows_the_sigmoid_networks_first_layer_starved()
    {
        foreach (var (configuration, _, _, _, _, history) in Experiments(RunDemo("approx-vanishing-gradients.yaml")))
        {
            var ratios = history.Select(h => h["grad_norm/output.weight"] / h["grad_norm/dense_1.weight"]).Order().ToArray();
            double median = ratios[ratios.Length / 2];
            // Then with sigmoid the first layer's gradient norm is at least 100× below the output layer's in a typical
            // epoch (measured: 5e5×), and with tanh, relu and swish within 10× (measured: 0.8–1.0)
            if (configuration == "activation=sigmoid") Assert.True(median >= 100, $"{configuration}: output/first {median:G3}");
            else Assert.True(median is > 0.1 and < 10, $"{configuration}: output/first {median:G3}");
        }
    }

    [Fact]
    public void The_initialization_demo_shows_a_badly_scaled_normal_far_behind_glorot()
    {
        var e = MeanErrors(RunDemo("approx-initialization.yaml"), "init", "n");
        // Then at both N a normal with σ = 1 is at least 20× worse than Glorot (measured: 104× at N = 100, 149× at 500)
        foreach (var size in new[] { "100", "500" })
            Assert.True(e[$"random_normal/{size}"] >= 20 * e[$"glorot_uniform/{size}"], $"N = {size}: normal {e[$"random_normal/{size}"]:G3}, Glorot {e[$"glorot_uniform/{size}"]:G3}");
    }
}
