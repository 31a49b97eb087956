using Deqn.Approximation.Functions;

namespace Deqn.Approximation.Sampling;

/// <summary>Points in a box: seeded uniform draws and regular grids.</summary>
public static class Sampler
{
    /// <summary>
    /// n points drawn independently and uniformly from the box, as an [n, d] array.
    /// <para>
    /// The generator is SplitMix64 (Steele, Lea &amp; Flood 2014) written out here, its state started at the
    /// SplitMix64 mix of <paramref name="seed"/>; each coordinate is lower + u·(upper − lower) with
    /// u = (top 53 bits of the next output)·2⁻⁵³ ∈ [0, 1), filled row by row. The points depend on the seed,
    /// n and the box only — never on .NET's Random, the platform or the calling thread — so a study reruns
    /// bit for bit. Because rows are filled in order, the first m points for a seed are the same whatever n ≥ m:
    /// use different seeds for training and test points.
    /// </para>
    /// </summary>
    public static double[,] Uniform(Box box, int n, long seed)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int d = box.Dimension;
        var points = new double[n, d];
        var rng = new SplitMix64(seed);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double x = box.Lower[j] + rng.NextUnit() * (box.Upper[j] - box.Lower[j]);
                // Rounding can land a hair above the top when the bounds differ greatly in magnitude.
                points[i, j] = Math.Min(x, box.Upper[j]);
            }
        return points;
    }

    /// <summary>
    /// n independent standard normal draws from the same generator as <see cref="Uniform"/> (Box–Muller, cosine
    /// branch): they depend on the seed and n only.
    /// </summary>
    public static double[] Normal(int n, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var rng = new SplitMix64(seed);
        var draws = new double[n];
        for (int i = 0; i < n; i++)
            draws[i] = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextUnit())) * Math.Cos(2.0 * Math.PI * rng.NextUnit());
        return draws;
    }

    /// <summary>
    /// The perDimension^d points of an evenly spaced grid that includes both ends of every interval
    /// (a single point per dimension is the centre), as an [perDimension^d, d] array. The last coordinate
    /// varies fastest, like numpy's meshgrid(..., indexing="ij") flattened in C order.
    /// </summary>
    public static double[,] Grid(Box box, int perDimension)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentOutOfRangeException.ThrowIfLessThan(perDimension, 1);
        int d = box.Dimension;
        long total = 1;
        for (int j = 0; j < d; j++)
        {
            total *= perDimension;
            if (total > 10_000_000)
                throw new ArgumentException($"grid: {perDimension} points per dimension in {d} dimensions is more than 10,000,000 points");
        }

        var axes = new double[d][];
        for (int j = 0; j < d; j++)
        {
            double lo = box.Lower[j], hi = box.Upper[j];
            axes[j] = perDimension == 1
                ? [0.5 * (lo + hi)]
                // lo + (hi − lo)·k/(m − 1) hits both ends exactly.
                : Enumerable.Range(0, perDimension).Select(k => k == perDimension - 1 ? hi : lo + (hi - lo) * k / (perDimension - 1)).ToArray();
        }

        var points = new double[total, d];
        var index = new int[d];
        for (long i = 0; i < total; i++)
        {
            for (int j = 0; j < d; j++) points[i, j] = axes[j][index[j]];
            for (int j = d - 1; j >= 0 && ++index[j] == perDimension; j--) index[j] = 0;
        }
        return points;
    }
}

/// <summary>SplitMix64: a 64-bit state advanced by a fixed odd constant and mixed on output; tiny, fast and fully specified.</summary>
internal struct SplitMix64
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    // Mixing the seed first keeps seeds that differ by a multiple of Gamma from giving shifted copies of one stream.
    public SplitMix64(long seed) => _state = Mix((ulong)seed);

    /// <summary>Starts from a raw state, as the reference implementation does; for checking against its published outputs.</summary>
    internal static SplitMix64 FromState(ulong state) => new() { _state = state };

    public ulong Next() => Mix(_state += Gamma);

    /// <summary>A double in [0, 1) with 53 random bits.</summary>
    public double NextUnit() => (Next() >> 11) * (1.0 / (1UL << 53));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
