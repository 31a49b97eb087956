namespace Deqn.Equilibrium.Shocks;

/// <summary>
/// Seeded standard normal draws (SplitMix64 and Box–Muller), written out here so that simulated paths and
/// pseudo-random quadratures never change across platforms or .NET versions.
/// </summary>
public sealed class StandardNormalStream(long seed)
{
    private ulong _state = (ulong)seed;

    public double Next() => Math.Sqrt(-2.0 * Math.Log(Uniform())) * Math.Cos(2.0 * Math.PI * Uniform());

    private double Uniform()
    {
        _state += 0x9E3779B97F4A7C15UL;
        ulong z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return ((z >> 11) + 0.5) * (1.0 / (1UL << 53));
    }
}
