using System.Text.Json;
using CustomModel;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Cli.Tests;

/// <summary>The example of a model written outside Deqn with a Markov chain, a vector state and a KKT condition.</summary>
public sealed class MultiCountryExampleTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-multi-country-");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1, 1L)]
    [InlineData(3, 2L)]
    [InlineData(7, 3L)]
    public void The_closed_form_solves_both_the_euler_and_the_complementarity_conditions(int countries, long seed)
    {
        // Given N countries with δ = 1 and states drawn from the initial box, in both regimes
        var model = new MultiCountry(new MultiCountryCalibration(Countries: countries));
        using var quadrature = new QuadratureTensors(new QuadratureSpec().Build(model.ShockCholesky, 1), model.ChainStates, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var states = Simulator.DrawInitial(model, 100, new StandardNormalStream(seed), ScalarType.Float64, CPU);
        // When the residuals are evaluated under s_i = αβ, m_i = 0
        var residuals = Evaluation.Evaluate(model, states, new ClosedFormPolicy(model), quadrature);
        // Then every country's Euler equation and complementarity condition hold to rounding
        Assert.Equal(2 * countries, residuals.Elements().Count());
        foreach (var (name, _, r) in residuals.Elements())
            Assert.True(r.abs().max().ToDouble() < 1e-12, $"{name}: max |residual| {r.abs().max().ToDouble():E2}");
    }

    [Fact]
    public void A_wrong_multiplier_violates_the_complementarity_condition()
    {
        // Investment is positive, so a positive multiplier breaks μ·I = 0: FB(I/k, m) = I/k + m − √((I/k)² + m²) > 0.
        var a = tensor(new[] { 0.5 }, dtype: ScalarType.Float64);
        var m = tensor(new[] { 0.2 }, dtype: ScalarType.Float64);
        Assert.Equal(0.5 + 0.2 - Math.Sqrt(0.29), Complementarity.FischerBurmeister(a, m).ToDouble(), 14);
    }

    [Fact]
    public void Its_own_program_solves_it_through_the_deqn_command_line()
    {
        // Given the example program's catalog
        var catalog = CustomModels.Catalog();
        var output = _dir.File("run");
        var stderr = new StringWriter();
        // When it solves four countries briefly
        int code = Entry.Run(["solve", "multi-country", "--set", "countries=4", "--episodes", "300", "--polish-rounds", "3", "--log-every", "50", "--eval-periods", "300",
            "--eval-burn-in", "20", "--eval-grid", "6", "--out", output, "--quiet"], new StringWriter(), stderr, catalog);
        // Then it writes its report, names every country's residuals, and the savings shares are near αβ
        Assert.True(code == 0, stderr.ToString());
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
        Assert.Contains("irreversible[4]", File.ReadAllText(Path.Combine(output, "history.csv")).Split('\n')[0]);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var shares = summary.RootElement.GetProperty("policy_errors").EnumerateArray()
            .Where(e => e.GetProperty("policy").GetString()!.StartsWith("s[", StringComparison.Ordinal)).ToArray();
        Assert.Equal(8, shares.Length);
        Assert.All(shares, e => Assert.True(e.GetProperty("max").GetDouble() < 0.03, $"{e.GetProperty("policy")} {e.GetProperty("where")}: {e.GetProperty("max")}"));
    }
}
