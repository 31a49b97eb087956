using System.Globalization;
using Deqn.Testing;
using Deqn.Training.Logging;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

public sealed class FitCommandTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-fit-");

    public void Dispose() => _dir.Dispose();

    private string Out(string name) => _dir.File(name);

    /// <summary>y = x1 + 2·x2 − x3 plus a little noise, 80 rows.</summary>
    internal static string SmallCsv(string dir)
    {
        var path = Path.Combine(dir, "small.csv");
        var rng = new Random(3);
        var lines = new List<string> { "x1,x2,x3,y" };
        for (int i = 0; i < 80; i++)
        {
            double a = rng.NextDouble(), b = rng.NextDouble(), c = rng.NextDouble();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{a},{b},{c},{a + 2 * b - c + 0.01 * rng.NextDouble()}"));
        }
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void A_classification_fit_writes_its_confusion_matrix_as_a_plot_and_its_accuracy_per_class()
    {
        // Given three classes by the sign pattern of two inputs (120 rows)
        var rng = new Random(5);
        var lines = new List<string> { "a,b,kind" };
        for (int i = 0; i < 120; i++)
        {
            double a = rng.NextDouble() * 2 - 1, b = rng.NextDouble() * 2 - 1;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{a},{b},{(a > 0 ? "up" : b > 0 ? "left" : "down")}"));
        }
        var csv = _dir.Write("kinds.csv", string.Join("\n", lines) + "\n");
        // When it is fitted as a classification
        var r = Run("fit", csv, "--target", "kind", "--task", "classification", "--epochs", "30", "--out", Out("kinds"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Then the confusion matrix is a PNG and an SVG, and per-class.csv holds each class's examples, correct and share,
        // consistent with the confusion matrix in metrics.json
        Assert.True(new FileInfo(Path.Combine(Out("kinds"), "plots", "confusion-matrix.png")).Length > 1000);
        Assert.True(File.Exists(Path.Combine(Out("kinds"), "plots", "confusion-matrix.svg")));
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Out("kinds"), "metrics.json")));
        var matrix = metrics.RootElement.GetProperty("test_confusion_matrix").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var classes = metrics.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var perClass = File.ReadAllLines(Path.Combine(Out("kinds"), "per-class.csv"));
        Assert.Equal("class,support,correct,accuracy", perClass[0]);
        Assert.Equal(classes.Length + 1, perClass.Length);
        for (int i = 0; i < classes.Length; i++)
        {
            var cells = perClass[i + 1].Split(',');
            Assert.Equal(classes[i], cells[0]);
            Assert.Equal(matrix[i].Sum(), int.Parse(cells[1], CultureInfo.InvariantCulture));
            Assert.Equal(matrix[i][i], int.Parse(cells[2], CultureInfo.InvariantCulture));
            Assert.Equal((double)matrix[i][i] / matrix[i].Sum(), double.Parse(cells[3], CultureInfo.InvariantCulture), 12);
        }
        Assert.Contains("Test accuracy per class", r.Stdout);
    }

    [Fact]
    public void A_fit_writes_a_complete_run_folder_and_its_config_reproduces_it()
    {
        // Given
        var csv = SmallCsv(_dir.Path);

        // When
        var first = Run("fit", csv, "--target", "y", "--epochs", "30", "--layers", "16,16", "--seed", "4", "--out", Out("run1"));

        // Then every output is there
        Assert.True(first.ExitCode == 0, first.Stderr);
        foreach (var f in new[] { "config.yaml", "history.csv", "model.deqn", "model.safetensors", "metrics.json", "split.csv", "summary.txt", "checkpoints/best.deqn", "checkpoints/last.deqn" })
            Assert.True(File.Exists(Path.Combine(Out("run1"), f)), $"missing {f}");
        var events = Directory.GetFiles(Path.Combine(Out("run1"), "tensorboard"), "events.out.tfevents.*");
        Assert.Single(events);
        Assert.Contains(TensorBoardEventReader.Read(events[0]), e => e.Tag == "val_loss");
        var history = File.ReadAllLines(Path.Combine(Out("run1"), "history.csv"));
        Assert.StartsWith("epoch,", history[0]);
        Assert.Contains("val_loss", history[0]);
        var metrics = Json(Path.Combine(Out("run1"), "metrics.json"));
        Assert.Equal(56, metrics.GetProperty("rows").GetProperty("train").GetInt32());
        Assert.True(metrics.GetProperty("test").GetProperty("r2").GetDouble() > 0.5);

        // When the merged config is run again into another folder
        var second = Run("fit", "--config", Path.Combine(Out("run1"), "config.yaml"), "--out", Out("run2"));

        // Then the results are identical
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Equal(metrics.GetProperty("test").ToString(), Json(Path.Combine(Out("run2"), "metrics.json")).GetProperty("test").ToString());
    }

    [Fact]
    public void An_existing_run_folder_is_never_overwritten()
    {
        var csv = SmallCsv(_dir.Path);
        Directory.CreateDirectory(Out("taken"));
        File.WriteAllText(Path.Combine(Out("taken"), "keep.txt"), "precious");

        var r = Run("fit", csv, "--target", "y", "--epochs", "2", "--out", Out("taken"));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("already exists", r.Stderr);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(Out("taken"), "keep.txt")));
        Assert.Single(Directory.GetFileSystemEntries(Out("taken")));
    }

    [Fact]
    public void Predict_writes_one_prediction_per_row_that_matches_the_fit()
    {
        var csv = SmallCsv(_dir.Path);
        Assert.Equal(0, Run("fit", csv, "--target", "y", "--epochs", "40", "--out", Out("run")).ExitCode);

        var r = Run("predict", Path.Combine(Out("run"), "model.deqn"), csv, "--out", Out("pred.csv"));

        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = File.ReadAllLines(Out("pred.csv"));
        Assert.Equal("x1,x2,x3,y,predicted_y", lines[0]);
        Assert.Equal(81, lines.Length);
        double sse = 0;
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            sse += Math.Pow(cells[3] - cells[4], 2);
        }
        Assert.True(sse / 80 < 0.05, $"mean squared error {sse / 80}");
    }

    [SkippableFact]
    public void Diabetes_reaches_a_test_r2_no_worse_than_least_squares_minus_a_tenth()
    {
        // Given the shared diabetes data
        var csv = SharedData("diabetes.csv");

        // When trained with the shipped config (the data path given explicitly, since tests do not run from the repository root)
        var config = Path.Combine(RepositoryRoot, "configs", "fit-diabetes.yaml");
        var r = Run("fit", csv, "--config", config, "--seed", "0", "--out", Out("diabetes"));

        // Then
        Assert.True(r.ExitCode == 0, r.Stderr);
        double r2 = Json(Path.Combine(Out("diabetes"), "metrics.json")).GetProperty("test").GetProperty("r2").GetDouble();
        double ols = OlsTestR2(csv, Path.Combine(Out("diabetes"), "split.csv"));
        Assert.True(r2 >= ols - 0.1, $"network test R² {r2:0.000} vs least squares {ols:0.000}");
    }

    [SkippableFact]
    public void Digits_reach_a_test_accuracy_of_at_least_95_percent_over_three_seeds()
    {
        var csv = SharedData("digits.csv");
        var accuracies = new List<double>();
        foreach (var seed in new[] { "0", "1", "2" })
        {
            var r = Run("fit", csv, "--target", "digit", "--task", "classification", "--seed", seed, "--out", Out($"digits{seed}"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            accuracies.Add(Json(Path.Combine(Out($"digits{seed}"), "metrics.json")).GetProperty("test").GetProperty("accuracy").GetDouble());
        }
        Assert.True(accuracies.Average() >= 0.95, $"accuracies {string.Join(", ", accuracies)}");
    }

    /// <summary>Ordinary least squares with an intercept on the run's training rows, R² on its test rows.</summary>
    private static double OlsTestR2(string csv, string splitCsv)
    {
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var part = File.ReadAllLines(splitCsv).Skip(1).Select(l => l.Split(',')).ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => p[1]);
        int d = rows[0].Length - 1;
        var train = rows.Where((_, i) => part[i] == "train").ToArray();
        var test = rows.Where((_, i) => part[i] == "test").ToArray();
        int k = d + 1;
        var xtx = new double[k, k];
        var xty = new double[k];
        foreach (var r in train)
        {
            var x = new double[k];
            x[0] = 1;
            Array.Copy(r, 0, x, 1, d);
            for (int i = 0; i < k; i++)
            {
                xty[i] += x[i] * r[d];
                for (int j = 0; j < k; j++) xtx[i, j] += x[i] * x[j];
            }
        }
        var beta = Solve(xtx, xty);
        double mean = test.Average(r => r[d]);
        double ssRes = 0, ssTot = 0;
        foreach (var r in test)
        {
            double p = beta[0];
            for (int i = 0; i < d; i++) p += beta[i + 1] * r[i];
            ssRes += (r[d] - p) * (r[d] - p);
            ssTot += (r[d] - mean) * (r[d] - mean);
        }
        return 1 - ssRes / ssTot;
    }

    private static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int pivot = Enumerable.Range(c, n - c).MaxBy(r => Math.Abs(m[r, c]));
            for (int j = 0; j < n; j++) (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
            (x[c], x[pivot]) = (x[pivot], x[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                for (int j = c; j < n; j++) m[r, j] -= f * m[c, j];
                x[r] -= f * x[c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            for (int j = r + 1; j < n; j++) x[r] -= m[r, j] * x[j];
            x[r] /= m[r, r];
        }
        return x;
    }
}
