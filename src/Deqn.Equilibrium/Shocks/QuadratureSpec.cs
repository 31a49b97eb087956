namespace Deqn.Equilibrium.Shocks;

/// <summary>Quadrature rules for normal shocks.</summary>
public enum QuadratureKind
{
    /// <summary>Gauss–Hermite product: n per shock, nᵈ nodes.</summary>
    GaussHermite,
    /// <summary>Monomial, its degree by the number of shocks d: degree 5 (2d² + 1 nodes) up to d = 4, degree 3 (2d) beyond.</summary>
    Monomial,
    PseudoRandom,
    /// <summary>Monomial of degree 3 (M1, 2d nodes) whatever d.</summary>
    Monomial3,
    /// <summary>Monomial of degree 5 (M2, 2d² + 1 nodes) whatever d, negative weights included.</summary>
    Monomial5,
    /// <summary>
    /// By the number of shocks d: the Gauss–Hermite product (n per shock) up to <see cref="QuadratureSpec.AutoProductShocks"/>
    /// shocks, <see cref="Monomial"/> beyond.
    /// </summary>
    Auto,
}

/// <summary>
/// Which rule integrates next period's normal shocks: Gauss–Hermite product (n per shock), monomial (degree 5 up to four
/// shocks, degree 3 beyond; or either degree by name), or n pseudo-random draws in antithetic pairs (redrawn every
/// training step by the solver). Markov chains are always summed exactly.
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

    /// <summary>
    /// The most shocks for which <see cref="QuadratureKind.Auto"/> takes the Gauss–Hermite product: 2. With three (the
    /// two-country IRBC's ε_1, ε_2, ε_0), the 5³ = 125-node product and the 19-node degree-5 monomial rule trained to
    /// the same errors to three digits, the monomial 3.2 times faster (docs/solve-defaults.md, section 6).
    /// </summary>
    public const int AutoProductShocks = 2;

    /// <summary>Antithetic pairs of a pseudo-random rule: ⌈nodes/2⌉.</summary>
    public int AntitheticPairs => (Nodes + 1) / 2;

    /// <summary>The rule for independent shocks with standard deviations <paramref name="sigmas"/>; one node of weight 1 when there are none.</summary>
    public Quadrature Build(IReadOnlyList<double> sigmas, long seed)
    {
        if (sigmas.Count == 0) return new Quadrature(new double[1, 0], [1.0], "none (deterministic)");
        return Kind switch
        {
            QuadratureKind.Auto when sigmas.Count <= AutoProductShocks => Quadratures.GaussHermiteProduct(Nodes, sigmas),
            QuadratureKind.Auto => (this with { Kind = QuadratureKind.Monomial }).Build(sigmas, seed),
            QuadratureKind.GaussHermite => Quadratures.GaussHermiteProduct(Nodes, sigmas),
            QuadratureKind.Monomial => sigmas.Count <= Quadratures.MonomialDegree5UpTo ? Quadratures.MonomialDegree5(sigmas) : Quadratures.Monomial(sigmas),
            QuadratureKind.Monomial3 => Quadratures.Monomial(sigmas),
            QuadratureKind.Monomial5 => Quadratures.MonomialDegree5(sigmas),
            QuadratureKind.PseudoRandom => Quadratures.PseudoRandom(Nodes, sigmas, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
    }

    /// <summary>"auto", "gauss-hermite" (with <paramref name="nodes"/>), "monomial" (or "monomial3", "monomial5") or "pseudo-random".</summary>
    public static QuadratureSpec Parse(string kind, int nodes)
    {
        if (nodes < 1) throw new ArgumentException($"a quadrature needs at least 1 node (got {nodes})");
        return kind.Trim().ToLowerInvariant().Replace('_', '-') switch
        {
            "auto" => new(QuadratureKind.Auto, nodes),
            "gauss-hermite" or "gh" or "hermite" => new(QuadratureKind.GaussHermite, nodes),
            "monomial" => new(QuadratureKind.Monomial, nodes),
            "monomial3" or "monomial-3" or "m1" => new(QuadratureKind.Monomial3, nodes),
            "monomial5" or "monomial-5" or "m2" => new(QuadratureKind.Monomial5, nodes),
            "pseudo-random" or "random" or "monte-carlo" => new(QuadratureKind.PseudoRandom, nodes),
            _ => throw new ArgumentException($"unknown quadrature '{kind}' (valid: auto, gauss-hermite, monomial, monomial3, monomial5, pseudo-random)"),
        };
    }

    public string Name => Kind switch
    {
        QuadratureKind.Auto => "auto",
        QuadratureKind.GaussHermite => "gauss-hermite",
        QuadratureKind.Monomial => "monomial",
        QuadratureKind.Monomial3 => "monomial3",
        QuadratureKind.Monomial5 => "monomial5",
        _ => "pseudo-random",
    };
}
