namespace Deqn.Equilibrium.Shocks;

public enum QuadratureKind { GaussHermite, Monomial, PseudoRandom }

/// <summary>
/// Which rule integrates next period's normal shocks: Gauss–Hermite product (n per shock), monomial (2d), or n
/// pseudo-random draws in antithetic pairs (redrawn every training step by the solver). Markov chains are always summed exactly.
/// </summary>
public sealed record QuadratureSpec(QuadratureKind Kind = QuadratureKind.GaussHermite, int Nodes = 5)
{
    /// <summary>
    /// The rule for normal shocks ε = L·x with lower-triangular <paramref name="cholesky"/> L (diagonal σ for
    /// independent shocks); pseudo-random draws come in ⌈n/2⌉ antithetic pairs from <paramref name="seed"/>.
    /// </summary>
    public Quadrature Build(double[,] cholesky, long seed)
    {
        int d = cholesky.GetLength(0);
        if (d == 0) return Build([], seed);
        if (Kind == QuadratureKind.PseudoRandom) return Quadratures.Antithetic(AntitheticPairs, cholesky, new StandardNormalStream(seed));
        var sigmas = Enumerable.Range(0, d).Select(j => cholesky[j, j]).ToArray();
        bool diagonal = true;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++) diagonal &= cholesky[i, j] == 0;
        return diagonal ? Build(sigmas, seed) : Quadratures.Correlated(Build(Enumerable.Repeat(1.0, d).ToArray(), seed), cholesky);
    }

    /// <summary>Antithetic pairs of a pseudo-random rule: ⌈nodes/2⌉.</summary>
    public int AntitheticPairs => (Nodes + 1) / 2;

    /// <summary>The rule for independent shocks with standard deviations <paramref name="sigmas"/>; one node of weight 1 when there are none.</summary>
    public Quadrature Build(IReadOnlyList<double> sigmas, long seed)
    {
        if (sigmas.Count == 0) return new Quadrature(new double[1, 0], [1.0], "none (deterministic)");
        return Kind switch
        {
            QuadratureKind.GaussHermite => Quadratures.GaussHermiteProduct(Nodes, sigmas),
            QuadratureKind.Monomial => Quadratures.Monomial(sigmas),
            QuadratureKind.PseudoRandom => Quadratures.PseudoRandom(Nodes, sigmas, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
    }

    /// <summary>"gauss-hermite" (with <paramref name="nodes"/>), "monomial" or "pseudo-random".</summary>
    public static QuadratureSpec Parse(string kind, int nodes)
    {
        if (nodes < 1) throw new ArgumentException($"a quadrature needs at least 1 node (got {nodes})");
        return kind.Trim().ToLowerInvariant().Replace('_', '-') switch
        {
            "gauss-hermite" or "gh" or "hermite" => new(QuadratureKind.GaussHermite, nodes),
            "monomial" => new(QuadratureKind.Monomial, nodes),
            "pseudo-random" or "random" or "monte-carlo" => new(QuadratureKind.PseudoRandom, nodes),
            _ => throw new ArgumentException($"unknown quadrature '{kind}' (valid: gauss-hermite, monomial, pseudo-random)"),
        };
    }

    public string Name => Kind switch
    {
        QuadratureKind.GaussHermite => "gauss-hermite",
        QuadratureKind.Monomial => "monomial",
        _ => "pseudo-random",
    };
}
