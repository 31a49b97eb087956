namespace Deqn.Equilibrium.Shocks;

/// <summary>
/// Seeded standard normal draws (SplitMix64 and Box–Muller), written out here so that simulated paths and
/// pseudo-random quadratures never change across platforms or .NET versions.
/// </summary>
public sealed class StandardNormalStream(long seed)
{
    private ulong _state = (ulong)seed;

    /// <summary>The generator's whole state: saving it and setting it back later continues the same stream.</summary>
    public ulong State
    {
        get => _state;
        set => _state = value;
    }

    public double Next() => Math.Sqrt(-2.0 * Math.Log(Uniform())) * Math.Cos(2.0 * Math.PI * Uniform());

    /// <summary>A uniform draw in (0, 1).</summary>
    public double Uniform()
    {
        _state += 0x9E3779B97F4A7C15UL;
        ulong z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return ((z >> 11) + 0.5) * (1.0 / (1UL << 53));
    }
}
