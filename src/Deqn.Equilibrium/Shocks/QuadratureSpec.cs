namespace Deqn.Equilibrium.Shocks;

public enum QuadratureKind { GaussHermite, Monomial, PseudoRandom }

/// <summary>Which rule integrates next period's shocks: Gauss–Hermite product (n per shock), monomial (2d), or n pseudo-random draws.</summary>
public sealed record QuadratureSpec(QuadratureKind Kind = QuadratureKind.GaussHermite, int Nodes = 5)
{
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
