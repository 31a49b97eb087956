using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

/// <summary>Every kind of bad input gets one line naming the problem, exit code 2, no stack trace, and nothing written.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-bad-");

    public void Dispose() => _dir.Dispose();

    private string File(string name, string content)
    {
        var path = _dir.File(name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    private void AssertBad(Result r, params string[] fragments)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", line);
        foreach (var f in fragments) Assert.Contains(f, line);
        Assert.False(Directory.Exists(_dir.File("out")) && Directory.EnumerateFiles(_dir.File("out"), "model.deqn", SearchOption.AllDirectories).Any(),
            "a model was written despite bad input");
    }

    private string Small() => FitCommandTests.SmallCsv(_dir.Path);

    private Result Fit(params string[] args) => Run(new[] { "fit" }.Concat(args).Concat(new[] { "--epochs", "2", "--out", _dir.File("out") }).ToArray());

    [Fact] public void Missing_file() => AssertBad(Fit(_dir.File("nope.csv"), "--target", "y"), "nope.csv", "not found");
    [Fact] public void Empty_file() => AssertBad(Fit(File("empty.csv", ""), "--target", "y"), "empty.csv", "empty");
    [Fact] public void Header_without_rows() => AssertBad(Fit(File("header.csv", "a,b,y\n"), "--target", "y"), "header.csv", "no rows");
    [Fact] public void Unknown_target_lists_the_columns() => AssertBad(Fit(Small(), "--target", "z"), "'z'", "x1, x2, x3, y");
    [Fact] public void Unknown_feature_lists_the_columns() => AssertBad(Fit(Small(), "--target", "y", "--features", "x1,q"), "'q'", "x1, x2, x3, y");
    [Fact] public void Non_numeric_cell_names_row_and_column() => AssertBad(Fit(File("text.csv", "a,y\n1,2\n3,abc\n"), "--target", "y"), "row 2", "'y'", "abc");
    [Fact] public void Not_finite_value() => AssertBad(Fit(File("nan.csv", "a,y\n1,2\nNaN,3\n"), "--target", "y"), "row 2", "'a'", "finite");
    [Fact] public void Too_few_rows_for_the_split() => AssertBad(Fit(File("tiny.csv", "a,y\n1,2\n3,4\n"), "--target", "y"), "too few rows");
    [Fact] public void A_class_with_one_member_when_stratifying() =>
        AssertBad(Fit(File("cls.csv", "a,c\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{(i == 0 ? "rare" : i % 2 == 0 ? "even" : "odd")}")) + "\n"),
            "--target", "c", "--task", "classification"), "'rare'", "one");
    [Fact] public void Unknown_activation_lists_valid_names() => AssertBad(Fit(Small(), "--target", "y", "--activation", "relux"), "--activation", "relux", "tanh");
    [Fact] public void Unknown_initializer_lists_valid_names() => AssertBad(Fit(Small(), "--target", "y", "--init", "xavier"), "--init", "glorot_uniform");
    [Fact] public void Unknown_optimizer_lists_valid_names() => AssertBad(Fit(Small(), "--target", "y", "--optimizer", "adamm"), "--optimizer", "adamm", "rmsprop");
    [Fact] public void Unknown_schedule_lists_valid_names() => AssertBad(Fit(Small(), "--target", "y", "--schedule", "linear"), "--schedule", "cosine");
    [Fact] public void Negative_learning_rate() => AssertBad(Fit(Small(), "--target", "y", "--lr", "-0.1"), "--lr", "> 0");
    [Fact] public void Zero_learning_rate() => AssertBad(Fit(Small(), "--target", "y", "--lr", "0"), "--lr", "> 0");
    [Fact] public void Zero_width() => AssertBad(Fit(Small(), "--target", "y", "--layers", "16,0"), "--layers", "'0'");
    [Fact] public void Negative_batch_size() => AssertBad(Fit(Small(), "--target", "y", "--batch-size", "-1"), "--batch-size");
    [Fact] public void Dropout_of_one() => AssertBad(Fit(Small(), "--target", "y", "--dropout", "1"), "--dropout", "[0, 1)");
    [Fact] public void A_value_that_is_not_a_number() => AssertBad(Fit(Small(), "--target", "y", "--patience", "many"), "--patience", "many");

    [Fact]
    public void A_misspelled_config_key_is_named_with_a_suggestion()
    {
        var config = File("run.yaml", "target: y\nlerning_rate: 0.1\n");
        AssertBad(Fit(Small(), "--config", config), "run.yaml", "lerning_rate");
    }

    [Fact]
    public void A_bad_value_in_a_config_file_names_the_file_and_key()
    {
        var config = File("run.toml", "target = \"y\"\n[optimizer]\nlr = -1\n");
        AssertBad(Fit(Small(), "--config", config), "run.toml", "key 'lr'");
    }

    [Fact]
    public void A_model_file_that_is_missing_or_not_a_model()
    {
        AssertBad(Run("predict", _dir.File("none.deqn"), Small()), "none.deqn", "not found");
        AssertBad(Run("predict", File("fake.deqn", "not a zip"), Small()), "fake.deqn", "not a Deqn model");
    }

    [Fact]
    public void An_unknown_option_is_one_line()
    {
        var r = Run("fit", Small(), "--target", "y", "--lernrate", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--lernrate", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
