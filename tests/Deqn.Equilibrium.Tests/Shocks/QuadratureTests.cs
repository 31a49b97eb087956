using CsCheck;
using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Tests.Shocks;

public sealed class QuadratureTests
{
    [Fact]
    public void Gauss_Hermite_nodes_and_weights_match_the_tabulated_values()
    {
        // Given the physicists' 5-node rule tabulated in Abramowitz and Stegun, table 25.10
        var (t, w) = Quadratures.HermiteNodes(5);

        // Then
        double[] nodes = { -2.020182870456086, -0.958572464613819, 0, 0.958572464613819, 2.020182870456086 };
        double[] weights = { 0.019953242059046, 0.393619323152241, 0.945308720482942, 0.393619323152241, 0.019953242059046 };
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(nodes[i], t[i], 1e-13);
            Assert.Equal(weights[i], w[i], 1e-13);
        }
    }

    [Fact]
    public void Small_rules_for_a_normal_shock_are_the_hand_derived_ones()
    {
        // n = 2: ±σ with weights 1/2; n = 3: 0 and ±√3σ with weights 2/3 and 1/6
        var two = Quadratures.GaussHermite(2, 0.5);
        Assert.Equal(new[] { -0.5, 0.5 }, new[] { two.Nodes[0, 0], two.Nodes[1, 0] }, new Tolerance(1e-14));
        Assert.Equal(new[] { 0.5, 0.5 }, two.Weights, new Tolerance(1e-14));

        var three = Quadratures.GaussHermite(3, 2.0);
        Assert.Equal(new[] { -2 * Math.Sqrt(3), 0, 2 * Math.Sqrt(3) }, new[] { three.Nodes[0, 0], three.Nodes[1, 0], three.Nodes[2, 0] }, new Tolerance(1e-13));
        Assert.Equal(new[] { 1.0 / 6, 2.0 / 3, 1.0 / 6 }, three.Weights, new Tolerance(1e-14));
    }

    [Fact]
    public void Gauss_Hermite_with_n_nodes_integrates_normal_moments_up_to_degree_2n_minus_1()
    {
        // Given any n and σ, E[ε^k] equals σ^k·(k−1)!! for even k ≤ 2n−1 and 0 for odd k
        Gen.Select(Gen.Int[1, 30], Gen.Double[0.01, 3.0]).Sample((n, sigma) =>
        {
            var q = Quadratures.GaussHermite(n, sigma);
            Assert.Equal(1.0, q.Weights.Sum(), 1e-12);
            for (int k = 1; k <= Math.Min(2 * n - 1, 12); k++)
            {
                double expected = k % 2 == 1 ? 0 : Math.Pow(sigma, k) * DoubleFactorial(k - 1);
                double got = q.Expect(x => Math.Pow(x[0], k));
                // Relative to the size of the terms summed (odd moments cancel to 0 from terms of order σ^k).
                double scale = q.Expect(x => Math.Pow(Math.Abs(x[0]), k));
                Assert.True(Math.Abs(got - expected) <= 1e-12 * Math.Max(1e-300, scale), $"n={n} σ={sigma} k={k}: {got} vs {expected}");
            }
        }, iter: 60);
    }

    private static double DoubleFactorial(int k) => k <= 0 ? 1 : k * DoubleFactorial(k - 2);

    [Fact]
    public void The_product_rule_in_two_dimensions_reproduces_means_variances_and_independence()
    {
        var q = Quadratures.GaussHermiteProduct(4, new[] { 0.1, 0.3 });
        Assert.Equal(16, q.Count);
        Assert.Equal(2, q.Dimension);
        Assert.Equal(1.0, q.Weights.Sum(), 1e-13);
        Assert.Equal(0.0, q.Expect(x => x[0]), 1e-15);
        Assert.Equal(0.0, q.Expect(x => x[1]), 1e-15);
        Assert.Equal(0.01, q.Expect(x => x[0] * x[0]), 1e-15);
        Assert.Equal(0.09, q.Expect(x => x[1] * x[1]), 1e-15);
        Assert.Equal(0.0, q.Expect(x => x[0] * x[1]), 1e-15);
        Assert.Equal(0.01 * 0.09, q.Expect(x => x[0] * x[0] * x[1] * x[1]), 1e-15);
    }

    /// <summary>E[Π xⱼ^aⱼ] for independent xⱼ ~ N(0, σⱼ²): Π σⱼ^aⱼ·(aⱼ − 1)!! for even aⱼ, 0 if any is odd.</summary>
    private static double NormalMoment(int[] powers, double[] sigmas)
    {
        double m = 1;
        for (int j = 0; j < powers.Length; j++)
        {
            if (powers[j] % 2 == 1) return 0;
            for (int k = powers[j] - 1; k > 0; k -= 2) m *= k;
            m *= Math.Pow(sigmas[j], powers[j]);
        }
        return m;
    }

    /// <summary>Every multi-index of <paramref name="d"/> powers with total degree at most <paramref name="degree"/>.</summary>
    private static IEnumerable<int[]> Monomials(int d, int degree)
    {
        if (d == 0) { yield return []; yield break; }
        for (int first = 0; first <= degree; first++)
            foreach (var rest in Monomials(d - 1, degree - first)) yield return [first, .. rest];
    }

    private static double Integrate(Quadrature q, int[] powers) =>
        q.Expect(x => Enumerable.Range(0, powers.Length).Aggregate(1.0, (p, j) => p * Math.Pow(x[j], powers[j])));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]   // negative axis weights from here on: still exact
    [InlineData(7)]
    public void The_monomial_rules_integrate_every_polynomial_of_their_degree_exactly(int d)
    {
        // Given d shocks with different standard deviations
        var sigmas = Enumerable.Range(0, d).Select(j => 0.01 * (j + 1) + 0.3 * (j % 2)).ToArray();
        var m1 = Quadratures.Monomial(sigmas);
        var m2 = Quadratures.MonomialDegree5(sigmas);
        Assert.Equal(2 * d, m1.Count);
        Assert.Equal(2 * d * d + 1, m2.Count);

        // Then degree 3 integrates every monomial of total degree ≤ 3 exactly, and degree 5 every one of degree ≤ 5
        foreach (var powers in Monomials(d, 3))
            Assert.Equal(NormalMoment(powers, sigmas), Integrate(m1, powers), 1e-14);
        foreach (var powers in Monomials(d, 5))
        {
            double exact = NormalMoment(powers, sigmas);
            Assert.True(Math.Abs(Integrate(m2, powers) - exact) <= 1e-13 * Math.Max(1e-6, Math.Abs(exact)), $"E[x^({string.Join(",", powers)})]: {Integrate(m2, powers):G17}, exact {exact:G17}");
        }
        // and neither goes beyond: degree 3 misses x₁²x₂² (σ₁²σ₂², M1 gives 0) or, alone, x⁴ (3σ⁴, M1 σ⁴); degree 5
        // misses x₁⁶ (15σ⁶, M2 (d + 2)(7 − d)σ⁶/2)
        int[] four = d == 1 ? [4] : [2, 2, .. new int[d - 2]], six = [6, .. new int[d - 1]];
        foreach (var (rule, powers) in new[] { (m1, four), (m2, six) })
            Assert.True(Math.Abs(Integrate(rule, powers) - NormalMoment(powers, sigmas)) > 0.1 * NormalMoment(powers, sigmas),
                $"E[x^({string.Join(",", powers)})] is exact by a rule of lower degree");
        // and the degree-5 rule's axis weights are (4 − d)/(2(d + 2)²): negative beyond four shocks
        Assert.Equal(d > 4, m2.Weights.Any(w => w < 0));
    }

    [Theory]
    [InlineData(1, 5, "Gauss–Hermite 5")]
    [InlineData(2, 25, "Gauss–Hermite 5^2 (25 nodes)")]
    [InlineData(3, 19, "monomial degree 5 (19 nodes)")]
    [InlineData(11, 22, "monomial degree 3 (22 nodes)")]
    public void Auto_takes_the_Gauss_Hermite_product_up_to_two_shocks_and_the_monomial_rule_beyond(int d, int nodes, string rule)
    {
        var q = QuadratureSpec.Parse("auto", 5).Build(Enumerable.Repeat(0.01, d).ToArray(), seed: 1);
        Assert.Equal(nodes, q.Count);
        Assert.Equal(rule, q.Rule);
    }

    [Theory]
    [InlineData(4, 33)]   // degree 5 while its weights are positive
    [InlineData(5, 10)]   // degree 3 beyond
    [InlineData(20, 40)]
    public void The_monomial_quadrature_takes_degree_5_up_to_four_shocks_and_degree_3_beyond(int d, int nodes)
    {
        var rule = QuadratureSpec.Parse("monomial", 1).Build(Enumerable.Repeat(0.01, d).ToArray(), seed: 1);
        Assert.Equal(nodes, rule.Count);
        Assert.Contains($"({nodes} nodes)", rule.Rule);
        Assert.Equal(2 * d * d + 1, QuadratureSpec.Parse("monomial5", 1).Build(Enumerable.Repeat(0.01, d).ToArray(), 1).Count);
        Assert.Equal(2 * d, QuadratureSpec.Parse("monomial3", 1).Build(Enumerable.Repeat(0.01, d).ToArray(), 1).Count);
    }

    [Fact]
    public void The_monomial_rule_puts_2d_nodes_at_plus_minus_sigma_root_d()
    {
        // Given three shocks
        double[] sigmas = { 0.02, 0.5, 1.0 };
        var q = Quadratures.Monomial(sigmas);

        // Then
        Assert.Equal(6, q.Count);
        Assert.All(q.Weights, w => Assert.Equal(1.0 / 6, w, 15));
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(sigmas[j] * Math.Sqrt(3), q.Nodes[2 * j, j], 15);
            Assert.Equal(-sigmas[j] * Math.Sqrt(3), q.Nodes[2 * j + 1, j], 15);
            Assert.Equal(0.0, q.Expect(x => x[j]), 15);
            Assert.Equal(sigmas[j] * sigmas[j], q.Expect(x => x[j] * x[j]), 14);
        }
    }

    [Fact]
    public void Pseudo_random_draws_are_reproducible_and_have_the_right_moments()
    {
        var a = Quadratures.PseudoRandom(100_000, new[] { 0.2, 1.5 }, seed: 7);
        var b = Quadratures.PseudoRandom(100_000, new[] { 0.2, 1.5 }, seed: 7);
        var c = Quadratures.PseudoRandom(100_000, new[] { 0.2, 1.5 }, seed: 8);
        Assert.Equal(a.Nodes, b.Nodes);
        Assert.NotEqual(a.Nodes, c.Nodes);
        Assert.Equal(1.0, a.Weights.Sum(), 1e-9);
        // Standard errors with 100,000 draws: mean σ/316, variance σ²·√2/316; 5 standard errors allowed.
        Assert.InRange(a.Expect(x => x[0]), -5 * 0.2 / 316, 5 * 0.2 / 316);
        Assert.InRange(a.Expect(x => x[1] * x[1]), 2.25 * (1 - 5 * 1.42 / 316), 2.25 * (1 + 5 * 1.42 / 316));
    }

    [Theory]
    [InlineData(0, 0.1, "at least 1 node")]
    [InlineData(3, -0.1, "σ must be finite and ≥ 0")]
    [InlineData(3, double.NaN, "σ must be finite and ≥ 0")]
    public void Bad_arguments_are_one_line_errors(int n, double sigma, string fragment)
    {
        var e = Assert.Throws<ArgumentException>(() => Quadratures.GaussHermite(n, sigma));
        Assert.Contains(fragment, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    private sealed class Tolerance(double eps) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= eps;
        public int GetHashCode(double d) => 0;
    }
}
