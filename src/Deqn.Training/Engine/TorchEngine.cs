using System.Runtime;
using TorchSharp;

namespace Deqn.Training.Engine;

/// <summary>Process-wide TorchSharp settings that a run chooses once, at its edge.</summary>
public static class TorchEngine
{
    /// <summary>
    /// Sets the number of intra-op threads libtorch uses. Results are bit-identical for the same seed and
    /// the same thread count; a different count may change the order of floating-point reductions.
    /// </summary>
    public static void SetThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        // Resizing libtorch's pool while another thread's operation runs on it can fail inside libtorch ("Expected
        // false to be true", seen once in four test runs of commands side by side): resize only when the count changes.
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
    }

    /// <summary>
    /// Turns background garbage collection off for the process (<see cref="GCLatencyMode.Batch"/>), as Deqn's own
    /// executables do in their runtimeconfig (Directory.Build.props says why): TorchSharp does not keep a number's
    /// native Scalar alive during the op it is passed to, and a collection running beside the op can free it. Called
    /// where training and the CLI begin, so an application that embeds Deqn is covered without a setting of its own.
    /// </summary>
    public static void AvoidBackgroundCollections()
    {
        if (GCSettings.LatencyMode is not (GCLatencyMode.Batch or GCLatencyMode.NoGCRegion)) GCSettings.LatencyMode = GCLatencyMode.Batch;
    }

    /// <summary>A generator seeded explicitly; every random draw of a run goes through one of these.</summary>
    public static torch.Generator Generator(long seed) => new torch.Generator((ulong)seed);

    /// <summary>The device named by a user ("cpu", "cuda", "cuda:1").</summary>
    public static torch.Device Device(string name)
    {
        try { return new torch.Device(name); }
        catch (Exception e) { throw new ArgumentException($"unknown device '{name}' ({e.Message.Split('\n')[0]})"); }
    }
}
