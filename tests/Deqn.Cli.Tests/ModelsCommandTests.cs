using System.Globalization;
using System.Text.RegularExpressions;
using Deqn.Equilibrium.Models;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

public sealed class ModelsCommandTests
{
    private static string[] Lines(Result r) => r.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    [Theory]
    [InlineData("brock-mirman")]
    [InlineData("stochastic-growth")]
    [InlineData("stochastic-growth-output-share")]
    [InlineData("brock-mirman-labor")]
    [InlineData("brock-mirman-labor-ceiling")]
    public void A_named_model_is_printed_with_its_formulas_variables_dimensions_parameter_ranges_and_reference(string name)
    {
        // Given a shipped model, built at its defaults
        var entry = BuiltinModels.Catalog().Find(name);
        var model = entry.Create(new Dictionary<string, double>());
        Assert.NotEmpty(model.Formulas);
        Assert.NotNull(model.ReferenceSummary);

        // When `deqn models <name>` prints it
        var r = Run("models", name);

        // Then it has its header, every formula on a line of its own, in order
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = Lines(r);
        Assert.Contains($"{entry.Name}: {entry.Summary}", lines);
        var at = model.Formulas.Select(f => Array.IndexOf(lines, $"  {f}")).ToArray();
        Assert.All(at, i => Assert.True(i >= 0, $"a formula is missing in:\n{r.Stdout}"));
        Assert.Equal(at.Order(), at);
        // a row per state, policy and shock with its dimension (1: all are scalars) and meaning
        foreach (var (kind, variable, meaning) in model.States.Select(s => ("state", s.Name, s.Description))
                     .Concat(model.Policies.Select(p => ("policy", p.Name, p.Description)))
                     .Concat(model.Shocks.Select(s => ("shock", s.Name, s.Description))))
            Assert.Single(lines, l => Regex.IsMatch(l, $@"^\s*{kind}\s+{Regex.Escape(variable)}\s+1\s+.*\s{Regex.Escape(meaning)}\s*$"));
        // a row per parameter: default (6 significant digits), the range its calibration states, meaning
        foreach (var (parameter, description, value) in entry.Parameters)
        {
            var range = entry.ParameterRanges[parameter];
            var row = lines.Select(l => Regex.Match(l, $@"^\s*{Regex.Escape(parameter)}\s+(\S+)\s+{Regex.Escape(range)}\s+{Regex.Escape(description)}\s*$")).SingleOrDefault(m => m.Success);
            Assert.True(row is not null, $"no row '{parameter} <default> {range} {description}' in:\n{r.Stdout}");
            Assert.Equal(value, double.Parse(row!.Groups[1].Value, CultureInfo.InvariantCulture), 5e-6 * Math.Abs(value));
        }
        // and what a solution is checked against
        Assert.Contains($"Checked against: {model.ReferenceSummary}", lines);
    }

    [Fact]
    public void Every_parameter_of_the_shipped_models_states_its_range()
    {
        foreach (var entry in BuiltinModels.Catalog().Entries)
            Assert.All(entry.Parameters, p => Assert.True(entry.ParameterRanges.ContainsKey(p.Name), $"{entry.Name}: no range for '{p.Name}'"));
    }

    [Fact]
    public void The_model_option_prints_the_same_as_the_positional_name()
    {
        var positional = Run("models", "brock-mirman-labor");
        var option = Run("models", "--model", "brock-mirman-labor");
        Assert.Equal(0, option.ExitCode);
        Assert.Equal(positional.Stdout, option.Stdout);
        // and the closed form's numbers are the model's: L* = 0.997199 at the defaults
        Assert.Contains("Checked against: closed form (δ = 1) s = αβ = 0.3564, L = [(1 − α)/(ψ(1 − αβ))]^(1/(1+θ)) = 0.997199 in every state", Lines(positional));
    }

    [Fact]
    public void A_model_of_your_own_without_formulas_or_reference_says_so()
    {
        // Given a catalog with the labor model at δ = 0.1 (no closed form, no reference)
        var catalog = new Deqn.Equilibrium.Modeling.ModelCatalog().Add("labor-slow", "hours, δ = 0.1",
            new Deqn.Equilibrium.Models.Growth.LaborCalibration(Delta: 0.1, CapitalLow: 3, CapitalHigh: 9), c => new Deqn.Equilibrium.Models.Growth.BrockMirmanLabor(c));
        var stdout = new StringWriter();
        // When it is shown
        int code = Deqn.Cli.Entry.Run(["models", "labor-slow", "--quiet"], stdout, new StringWriter(), catalog);
        // Then it says that nothing checks it but its residuals
        Assert.Equal(0, code);
        Assert.Contains("Checked against: nothing (no closed form or reference solution for this calibration: judge it by its verdict)", stdout.ToString());
        Assert.Contains("  intratemporal: ψ·L^θ·C/w − 1 = 0", stdout.ToString());

        // and a model that writes no formulas and no ranges (the example program's) says that too
        var crra = new StringWriter();
        Assert.Equal(0, Deqn.Cli.Entry.Run(["models", "crra-growth", "--quiet"], crra, new StringWriter(), CustomModel.CustomModels.Catalog()));
        Assert.Contains("  (the model does not write its formulas out)", crra.ToString());
        Assert.Matches(@"(?m)^\s*gamma\s+2\s+—\s+relative risk aversion γ\s*$", crra.ToString());
    }

    [Fact]
    public void An_unknown_name_is_a_one_line_error_listing_the_models()
    {
        var r = Run("models", "ramsey");
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain('\n', r.Stderr.Trim());
        Assert.Contains("unknown model 'ramsey' (available: brock-mirman, ", r.Stderr);
    }

    [Fact]
    public void Two_different_names_are_refused()
    {
        var r = Run("models", "brock-mirman", "--model", "stochastic-growth");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--model", r.Stderr);
        Assert.Contains("'brock-mirman'", r.Stderr);
    }

    [Fact]
    public void Without_a_name_every_model_is_listed()
    {
        var r = Run("models");
        Assert.Equal(0, r.ExitCode);
        foreach (var entry in BuiltinModels.Catalog().Entries) Assert.Contains($"{entry.Name}: {entry.Summary}", Lines(r));
        Assert.DoesNotContain("Equations", r.Stdout);
    }
}
