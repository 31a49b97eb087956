using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Models.Growth;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class CatalogTests
{
    [Fact]
    public void The_catalog_builds_a_model_by_name_with_overridden_parameters()
    {
        var entry = BuiltinModels.Catalog().Find("stochastic-growth");
        var model = (StochasticGrowth)entry.Create(ModelCatalog.ParseOverrides("alpha=0.3;delta=0.05"));
        Assert.Equal(0.3, model.Calibration.Alpha);
        Assert.Equal(0.05, model.Calibration.Delta);
        Assert.Equal(0.99, model.Calibration.Beta);
    }

    [Fact]
    public void An_unknown_model_is_an_error_listing_the_models()
    {
        var e = Assert.Throws<ArgumentException>(() => BuiltinModels.Catalog().Find("ramsey"));
        Assert.Equal($"unknown model 'ramsey' (available: {string.Join(", ", BuiltinModels.Catalog().Entries.Select(m => m.Name))})", e.Message);
        Assert.Contains("brock-mirman, brock-mirman-stochastic, stochastic-growth, stochastic-growth-output-share, brock-mirman-labor, brock-mirman-labor-ceiling, olg-analytic", e.Message);
    }

    [Fact]
    public void An_unknown_parameter_is_an_error_naming_it_and_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => BuiltinModels.Catalog().Find("brock-mirman").Create(ModelCatalog.ParseOverrides("gamma=2")));
        Assert.Equal("model 'brock-mirman' has no parameter 'gamma' (its parameters: alpha, beta, delta, k_low, k_high)", e.Message);
    }

    [Theory]
    [InlineData("beta=1", "beta (β) must be in (0, 1) (got 1)")]
    [InlineData("beta=0", "beta (β) must be in (0, 1) (got 0)")]
    [InlineData("alpha=1.2", "alpha (α) must be in (0, 1) (got 1.2)")]
    [InlineData("delta=0", "delta (δ) must be in (0, 1] (got 0)")]
    [InlineData("delta=1.5", "delta (δ) must be in (0, 1] (got 1.5)")]
    [InlineData("sigma=-0.1", "sigma (σ) must be ≥ 0 (got -0.1)")]
    [InlineData("rho=1", "rho (ρ) must satisfy |ρ| < 1 (got 1)")]
    [InlineData("k_low=5", "k_low (5) must be below k_high (0.4)")]
    public void An_impossible_calibration_is_refused_with_the_parameter_named(string overrides, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => BuiltinModels.Catalog().Find("brock-mirman-stochastic").Create(ModelCatalog.ParseOverrides(overrides)));
        Assert.Equal(message, e.Message);
    }
}
