using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class ParameterTableTests
{
    private sealed record Marked(
        [Parameter("a", "first")] double A = 1,
        double Unmarked = 2,
        [Parameter("b_2", "second")] double B = 3) : Calibration
    {
        public override void Validate()
        {
            if (!(B > 0)) throw new ArgumentException($"b_2 must be > 0 (got {B})");
        }
    }

    private sealed record BadlyMarked([Parameter("n", "a count")] int N = 1) : Calibration;

    [Fact]
    public void The_table_lists_the_marked_parameters_in_order_with_their_values()
    {
        // Given a record with two marked parameters around an unmarked one
        var table = ParameterTable<Marked>.All;
        // Then the table names the marked ones, in declaration order, with meaning and value
        Assert.Equal(["a", "b_2"], table.Names);
        Assert.Equal([("a", "first", 1.0), ("b_2", "second", 3.0)], table.Describe(new Marked()));
    }

    [Fact]
    public void Describing_a_calibration_and_applying_the_description_gives_it_back()
    {
        // Given the workshop calibration with two parameters changed in code
        var table = ParameterTable<GrowthCalibration>.All;
        var calibration = new GrowthCalibration() with { Beta = 0.97, ProductivityHigh = 1.5 };
        // When its description is applied, as overrides, to the defaults
        var overrides = table.Describe(calibration).ToDictionary(p => p.Name, p => p.Value);
        var rebuilt = table.Apply(new GrowthCalibration(), overrides, "growth");
        // Then the record is the same, and one override changes that parameter only
        Assert.Equal(calibration, rebuilt);
        Assert.Equal(calibration with { Alpha = 0.3 }, table.Apply(calibration, new Dictionary<string, double> { ["ALPHA"] = 0.3 }, "growth"));
        Assert.Equal(new Marked(A: 5, Unmarked: 7), ParameterTable<Marked>.All.Apply(new Marked(Unmarked: 7), new Dictionary<string, double> { ["a"] = 5 }, "toy"));
    }

    [Fact]
    public void An_unknown_or_unmarked_parameter_is_a_one_line_error_naming_it_and_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => ParameterTable<Marked>.All.Apply(new Marked(), new Dictionary<string, double> { ["Unmarked"] = 1 }, "toy"));
        Assert.Equal("model 'toy' has no parameter 'Unmarked' (its parameters: a, b_2)", e.Message);
    }

    [Theory]
    [InlineData("alpha=x", "alpha: 'x' is not a number")]
    [InlineData("alpha", "'alpha' is not name=value")]
    [InlineData("sigma=-1", "sigma (σ) must be ≥ 0 (got -1)")]
    [InlineData("z_low=2", "z_low (2) must not be above z_high (1.3)")]
    public void A_bad_parameter_value_is_a_one_line_error_naming_the_parameter(string overrides, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => BuiltinModels.Catalog().Find("stochastic-growth").Create(ModelCatalog.ParseOverrides(overrides)));
        Assert.Equal(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_record_marking_a_parameter_that_is_not_a_number_is_refused_by_name()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ParameterTable<BadlyMarked>.All);
        Assert.Equal("BadlyMarked.N: a parameter is a double", e.Message);
    }

    [Fact]
    public void A_catalog_entry_that_fixes_some_parameters_accepts_and_reports_only_the_others()
    {
        // Given the deterministic entry, which fixes σ = 0 and z = 1
        var entry = BuiltinModels.Catalog().Find("brock-mirman");
        Assert.Equal(["alpha", "beta", "delta", "k_low", "k_high"], entry.Parameters.Select(p => p.Name));
        // When a model is built from it, it reports those parameters only (run folders and checkpoints name them)
        var model = entry.Create(ModelCatalog.ParseOverrides("beta=0.95"));
        Assert.Equal([("alpha", 0.36), ("beta", 0.95), ("delta", 1.0), ("k_low", 0.1), ("k_high", 1.0)], model.Parameters);
        // and a fixed parameter cannot be set through it
        var e = Assert.Throws<ArgumentException>(() => entry.Create(ModelCatalog.ParseOverrides("sigma=0.04")));
        Assert.Equal("model 'brock-mirman' has no parameter 'sigma' (its parameters: alpha, beta, delta, k_low, k_high)", e.Message);
    }
}
