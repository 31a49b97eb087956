using Deqn.Equilibrium.Shocks;

namespace Deqn.Equilibrium.Tests.Shocks;

public sealed class MarkovChainTests
{
    [Fact]
    public void A_row_that_does_not_sum_to_one_is_refused_with_its_number()
    {
        var e = Assert.Throws<ArgumentException>(() => new MarkovChain(new double[,] { { 0.5, 0.5 }, { 0.3, 0.6 } }));
        Assert.Contains("row 2", e.Message);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    [InlineData(4L)]
    public void The_stationary_distribution_is_left_invariant(long seed)
    {
        // Given a random 4-state chain
        var random = new StandardNormalStream(seed);
        var p = new double[4, 4];
        for (int i = 0; i < 4; i++)
        {
            var row = Enumerable.Range(0, 4).Select(_ => random.Uniform()).ToArray();
            for (int j = 0; j < 4; j++) p[i, j] = row[j] / row.Sum();
        }
        var chain = new MarkovChain(p);
        // Then π·P = π and π sums to 1
        var pi = chain.Stationary;
        Assert.Equal(1.0, pi.Sum(), 12);
        for (int j = 0; j < 4; j++)
            Assert.Equal(pi[j], Enumerable.Range(0, 4).Sum(i => pi[i] * p[i, j]), 12);
    }

    [Fact]
    public void Next_states_are_drawn_with_the_rows_probabilities()
    {
        var chain = new MarkovChain(new double[,] { { 0.9, 0.1, 0 }, { 0.2, 0.5, 0.3 }, { 0, 0, 1 } });
        var random = new StandardNormalStream(7);
        const int draws = 40_000;
        var counts = new int[3];
        for (int i = 0; i < draws; i++) counts[chain.Next(1, random.Uniform())]++;
        // Sampling error of a frequency near 0.3 with 40,000 draws is about 0.0023: 0.01 is over four standard errors.
        Assert.Equal(0.2, counts[0] / (double)draws, 0.01);
        Assert.Equal(0.5, counts[1] / (double)draws, 0.01);
        Assert.Equal(0.3, counts[2] / (double)draws, 0.01);
        Assert.All(Enumerable.Range(0, 1000), _ => Assert.Equal(2, chain.Next(2, random.Uniform())));
    }

    [Fact]
    public void The_product_of_two_chains_multiplies_their_probabilities()
    {
        var a = new MarkovChain(new double[,] { { 0.9, 0.1 }, { 0.4, 0.6 } });
        var b = MarkovChain.Iid([0.25, 0.75]);
        var ab = MarkovChain.Product(a, b);
        Assert.Equal(4, ab.Count);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++)
                    for (int l = 0; l < 2; l++) Assert.Equal(a[i, k] * b[j, l], ab[i * 2 + j, k * 2 + l], 15);
        Assert.True(b.IsIid);
        Assert.False(ab.IsIid);
    }
}
