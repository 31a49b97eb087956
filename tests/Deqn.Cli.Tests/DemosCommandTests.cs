using Deqn.Cli.Commands;
using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

public sealed class DemosCommandTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-demos-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_list_names_every_demo_with_its_config_and_command_and_each_config_is_in_the_repository()
    {
        var r = Run("demos");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("the same as ./deqn approx --config <config> (digits: ./deqn fit --config <config>).", r.Stdout);
        foreach (var demo in DemosCommand.All)
        {
            Assert.Contains(demo.Name, r.Stdout);
            Assert.Contains($"configs/{demo.Config}", r.Stdout);
            Assert.True(File.Exists(Path.Combine(RepositoryFiles.Root, "configs", demo.Config)), demo.Config);
        }
    }

    [Fact]
    public void Every_approx_config_in_the_repository_is_a_listed_demo()
    {
        var listed = DemosCommand.All.Select(d => d.Config).ToHashSet();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "configs"), "approx-*.yaml"))
            Assert.Contains(Path.GetFileName(file), listed);
    }

    [Fact]
    public void A_demo_runs_into_the_given_folder_with_its_description_in_the_report_and_the_given_seed()
    {
        // When the learning-rate demo runs with a folder and seed of the user's
        var run = _dir.File("lr");
        var r = Run("demos", "learning-rate", "--out", run, "--seed", "3", "--quiet");
        // Then it ran the demo's study there: three rates, seed 3, and report.md opens with what to look for
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = File.ReadAllLines(Path.Combine(run, "results.csv"));
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(["0.005", "0.05", "0.5"], rows.Select(c => c[Array.IndexOf(header, "lr")]));
        Assert.All(rows, c => Assert.Equal("3", c[Array.IndexOf(header, "seed")]));
        Assert.Contains("The learning rate, with plain minibatch SGD", File.ReadAllText(Path.Combine(run, "report.md")));
    }

    [Fact]
    public void An_unknown_demo_is_refused_with_one_line_listing_the_demos()
    {
        var r = Run("demos", "learning-rates");
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("no demo 'learning-rates'", line);
        Assert.Contains("learning-rate, ", line);
    }
}
