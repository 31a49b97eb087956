namespace Deqn.Training.Engine;

/// <summary>
/// Derives independent seeds for the separate random streams of one run (initialization, split, shuffling) from the
/// user's single seed, so that changing how rows are shuffled never changes the initial weights.
/// </summary>
public static class Seeds
{
    public static long Derive(long seed, string stream)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in stream) h = (h ^ c) * 1099511628211UL;
        return (long)(Mix((ulong)seed ^ h) >> 1);
    }

    // SplitMix64's finalizer: nearby inputs give unrelated outputs.
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
