namespace Deqn.Equilibrium.Shocks;

/// <summary>
/// Nodes and weights that approximate an expectation over independent normal shocks ε ~ N(0, diag(σ²)):
/// E[g(ε)] ≈ Σᵢ wᵢ·g(xᵢ). The weights sum to 1. Kept apart from the shock process it discretizes, as dolo does.
/// </summary>
public sealed record Quadrature
{
    public Quadrature(double[,] nodes, double[] weights, string rule)
    {
        if (nodes.GetLength(0) != weights.Length)
            throw new ArgumentException($"{weights.Length} weights for {nodes.GetLength(0)} nodes");
        Nodes = nodes;
        Weights = weights;
        Rule = rule;
    }

    /// <summary>[count, dimension]: one shock vector per row.</summary>
    public double[,] Nodes { get; }

    public double[] Weights { get; }

    /// <summary>How the rule was built, for logs and reports, e.g. "Gauss–Hermite 5^2".</summary>
    public string Rule { get; }

    public int Count => Weights.Length;
    public int Dimension => Nodes.GetLength(1);

    /// <summary>Σᵢ wᵢ·g(xᵢ).</summary>
    public double Expect(Func<double[], double> g)
    {
        double sum = 0;
        var x = new double[Dimension];
        for (int i = 0; i < Count; i++)
        {
            for (int j = 0; j < Dimension; j++) x[j] = Nodes[i, j];
            sum += Weights[i] * g(x);
        }
        return sum;
    }
}

/// <summary>The quadrature rules DEQN uses for expectations: Gauss–Hermite (1-D and product), monomial, pseudo-random.</summary>
public static class Quadratures
{
    /// <summary>
    /// Gauss–Hermite with <paramref name="n"/> nodes for ε ~ N(0, σ²): exact for polynomials up to degree 2n − 1.
    /// The physicists' nodes tᵢ and weights ωᵢ (for ∫e^{−t²}f(t)dt) are found by Newton's method on the normalized
    /// Hermite recurrence, then mapped to xᵢ = √2·σ·tᵢ, wᵢ = ωᵢ/√π.
    /// </summary>
    public static Quadrature GaussHermite(int n, double sigma)
    {
        var (t, w) = HermiteNodes(n);
        RequireSigma(sigma, 0);
        var nodes = new double[n, 1];
        var weights = new double[n];
        for (int i = 0; i < n; i++)
        {
            nodes[i, 0] = Math.Sqrt(2.0) * sigma * t[i];
            weights[i] = w[i] / Math.Sqrt(Math.PI);
        }
        return new Quadrature(nodes, weights, $"Gauss–Hermite {n}");
    }

    /// <summary>The tensor product of 1-D Gauss–Hermite rules: nᵈ nodes, exact for each coordinate up to degree 2n − 1.</summary>
    public static Quadrature GaussHermiteProduct(int nodesPerDimension, IReadOnlyList<double> sigmas)
    {
        RequireDimensions(sigmas);
        var rules = sigmas.Select(s => GaussHermite(nodesPerDimension, s)).ToArray();
        int d = sigmas.Count;
        long total = (long)Math.Pow(nodesPerDimension, d);
        if (total > 10_000_000) throw new ArgumentException($"a {nodesPerDimension}^{d} product rule has {total:N0} nodes; use the monomial rule or fewer nodes");
        var nodes = new double[total, d];
        var weights = new double[total];
        var index = new int[d];
        for (long i = 0; i < total; i++)
        {
            double weight = 1;
            for (int j = 0; j < d; j++)
            {
                nodes[i, j] = rules[j].Nodes[index[j], 0];
                weight *= rules[j].Weights[index[j]];
            }
            weights[i] = weight;
            for (int j = d - 1; j >= 0; j--)
            {
                if (++index[j] < nodesPerDimension) break;
                index[j] = 0;
            }
        }
        return new Quadrature(nodes, weights, d == 1 ? $"Gauss–Hermite {nodesPerDimension}" : $"Gauss–Hermite {nodesPerDimension}^{d} ({total:N0} nodes)");
    }

    /// <summary>
    /// The monomial rule M1 (Judd, Maliar and Maliar 2011), degree 3: 2d nodes ±σⱼ√d along each axis, each with weight
    /// 1/(2d). Exact for every polynomial of degree ≤ 3 (means, variances, covariances, skewness terms); its cost grows
    /// linearly with the number of shocks.
    /// </summary>
    public static Quadrature Monomial(IReadOnlyList<double> sigmas)
    {
        RequireDimensions(sigmas);
        int d = sigmas.Count;
        var nodes = new double[2 * d, d];
        var weights = new double[2 * d];
        for (int j = 0; j < d; j++)
        {
            RequireSigma(sigmas[j], j);
            nodes[2 * j, j] = sigmas[j] * Math.Sqrt(d);
            nodes[2 * j + 1, j] = -sigmas[j] * Math.Sqrt(d);
            weights[2 * j] = weights[2 * j + 1] = 1.0 / (2 * d);
        }
        return new Quadrature(nodes, weights, $"monomial degree 3 ({2 * d} nodes)");
    }

    /// <summary>
    /// The monomial rule M2 (Judd, Maliar and Maliar 2011, after Stroud), degree 5: 2d² + 1 nodes — the origin with
    /// weight 2/(d + 2); ±√(d + 2)·σⱼ on each axis with weight (4 − d)/(2(d + 2)²); ±√((d + 2)/2)·(σᵢ, ±σⱼ) on each
    /// pair of axes with weight 1/(d + 2)². Exact for every polynomial of degree ≤ 5 (fourth moments included).
    /// </summary>
    /// <remarks>
    /// Beyond d = 4 the axis weights are negative and the axis nodes sit √(d + 2) standard deviations out (4.9σ at
    /// d = 22), where a policy trained on the ergodic set only extrapolates: an expectation of a positive quantity can
    /// come out negative. <see cref="QuadratureKind.Monomial"/> therefore takes this rule up to d = 4 and M1 beyond.
    /// </remarks>
    public static Quadrature MonomialDegree5(IReadOnlyList<double> sigmas)
    {
        RequireDimensions(sigmas);
        int d = sigmas.Count;
        for (int j = 0; j < d; j++) RequireSigma(sigmas[j], j);
        int count = 2 * d * d + 1;
        var nodes = new double[count, d];
        var weights = new double[count];
        double axis = Math.Sqrt(d + 2.0), pair = Math.Sqrt((d + 2.0) / 2);
        weights[0] = 2.0 / (d + 2);
        int q = 1;
        for (int j = 0; j < d; j++)
            foreach (var sign in new[] { 1.0, -1.0 })
            {
                nodes[q, j] = sign * axis * sigmas[j];
                weights[q++] = (4.0 - d) / (2.0 * (d + 2) * (d + 2));
            }
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
                foreach (var (a, b) in new[] { (1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0) })
                {
                    nodes[q, i] = a * pair * sigmas[i];
                    nodes[q, j] = b * pair * sigmas[j];
                    weights[q++] = 1.0 / ((d + 2.0) * (d + 2));
                }
        return new Quadrature(nodes, weights, $"monomial degree 5 ({count} nodes)");
    }

    /// <summary>The largest number of shocks for which the degree-5 monomial rule has no negative weight (see <see cref="MonomialDegree5"/>).</summary>
    public const int MonomialDegree5UpTo = 4;

    /// <summary>Equally weighted pseudo-random normal draws, reproducible from the seed (SplitMix64 and Box–Muller).</summary>
    public static Quadrature PseudoRandom(int draws, IReadOnlyList<double> sigmas, long seed)
    {
        RequireDimensions(sigmas);
        if (draws < 1) throw new ArgumentException($"pseudo-random quadrature needs at least 1 draw (got {draws})");
        for (int j = 0; j < sigmas.Count; j++) RequireSigma(sigmas[j], j);
        int d = sigmas.Count;
        var nodes = new double[draws, d];
        var normal = new StandardNormalStream(seed);
        for (int i = 0; i < draws; i++)
            for (int j = 0; j < d; j++)
                nodes[i, j] = sigmas[j] * normal.Next();
        return new Quadrature(nodes, Enumerable.Repeat(1.0 / draws, draws).ToArray(), $"pseudo-random {draws}");
    }

    /// <summary>
    /// Monte Carlo nodes in antithetic pairs ±L·z (z standard normal, Σ = L·Lᵀ), equally weighted: the pairs make the
    /// rule exact for every odd moment, and drawing them afresh every step keeps the sampling error from biasing training.
    /// </summary>
    public static Quadrature Antithetic(int pairs, double[,] cholesky, StandardNormalStream random)
    {
        if (pairs < 1) throw new ArgumentException($"antithetic draws need at least 1 pair (got {pairs})");
        int d = cholesky.GetLength(0);
        var nodes = new double[2 * pairs, d];
        var z = new double[d];
        for (int i = 0; i < pairs; i++)
        {
            for (int j = 0; j < d; j++) z[j] = random.Next();
            for (int j = 0; j < d; j++)
            {
                double x = 0;
                for (int k = 0; k <= j; k++) x += cholesky[j, k] * z[k];
                nodes[2 * i, j] = x;
                nodes[2 * i + 1, j] = -x;
            }
        }
        return new Quadrature(nodes, Enumerable.Repeat(1.0 / (2 * pairs), 2 * pairs).ToArray(), $"Monte Carlo {pairs} antithetic pairs");
    }

    /// <summary>A rule for independent standard normals mapped to ε = L·x for correlated shocks with covariance L·Lᵀ.</summary>
    public static Quadrature Correlated(Quadrature standard, double[,] cholesky)
    {
        int d = cholesky.GetLength(0);
        if (standard.Dimension != d) throw new ArgumentException($"a {standard.Dimension}-dimensional rule for {d} shocks");
        var nodes = new double[standard.Count, d];
        for (int q = 0; q < standard.Count; q++)
            for (int j = 0; j < d; j++)
            {
                double x = 0;
                for (int k = 0; k <= j; k++) x += cholesky[j, k] * standard.Nodes[q, k];
                nodes[q, j] = x;
            }
        return new Quadrature(nodes, standard.Weights, standard.Rule + " (correlated)");
    }

    /// <summary>Physicists' Gauss–Hermite nodes (ascending) and weights; the weights sum to √π.</summary>
    internal static (double[] Nodes, double[] Weights) HermiteNodes(int n)
    {
        if (n < 1) throw new ArgumentException($"Gauss–Hermite needs at least 1 node (got {n})");
        if (n > 200) throw new ArgumentException($"Gauss–Hermite with {n} nodes is beyond what double precision resolves (at most 200)");
        const double piToMinusQuarter = 0.7511255444649425;
        var x = new double[n];
        var w = new double[n];
        int m = (n + 1) / 2;
        double z = 0;
        for (int i = 1; i <= m; i++)
        {
            // Starting guesses for the largest roots, then extrapolation from the previous ones (Numerical Recipes' gauher).
            z = i switch
            {
                1 => Math.Sqrt(2.0 * n + 1) - 1.85575 * Math.Pow(2.0 * n + 1, -0.16667),
                2 => z - 1.14 * Math.Pow(n, 0.426) / z,
                3 => 1.86 * z - 0.86 * x[0],
                4 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 3],
            };
            double pp = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                double p1 = piToMinusQuarter, p2 = 0;
                for (int j = 0; j < n; j++)
                {
                    double p3 = p2;
                    p2 = p1;
                    p1 = z * Math.Sqrt(2.0 / (j + 1)) * p2 - Math.Sqrt((double)j / (j + 1)) * p3;
                }
                pp = Math.Sqrt(2.0 * n) * p2;
                double previous = z;
                z = previous - p1 / pp;
                if (Math.Abs(z - previous) <= 1e-15 * Math.Max(1, Math.Abs(z))) break;
            }
            x[i - 1] = z;
            x[n - i] = -z;
            w[i - 1] = w[n - i] = 2.0 / (pp * pp);
        }
        if (n % 2 == 1) x[m - 1] = 0;
        Array.Reverse(x);
        Array.Reverse(w);
        return (x, w);
    }

    private static void RequireDimensions(IReadOnlyList<double> sigmas)
    {
        if (sigmas.Count == 0) throw new ArgumentException("a quadrature needs at least one shock");
    }

    private static void RequireSigma(double sigma, int index)
    {
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentException($"shock {index + 1}: σ must be finite and ≥ 0 (got {sigma})");
    }
}
