using System.Runtime;

namespace Deqn.Training.Engine;

/// <summary>
/// Stretches of tensor work during which the .NET garbage collector does not run, so that no TorchSharp <c>Scalar</c>
/// is finalized while libtorch still reads it.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns every number handed to an op (<c>x.mul(0.5)</c>, <c>k.pow(alpha)</c>, in our code and in a
/// user's model alike) into a native Scalar that its managed wrapper frees when finalized, and once the call has read
/// the wrapper's handle nothing keeps the wrapper alive. A collection that another thread triggers while the op runs
/// (the finalizer thread, a display) frees the Scalar under libtorch's feet: "Expected false to be true, but got
/// false" or "INTERNAL ASSERT FAILED at Scalar.h" minutes into an otherwise sound solve (IRBC with 10 and 50
/// countries). A stress test — a chain of ops with numbers while a second thread allocates — crashed after 14,000
/// iterations with collections allowed and ran 977,000 inside no-GC regions (CollectionPauseTests keeps a short one).
/// <para>
/// A training loop calls <see cref="Begin"/> once and <see cref="Renew"/> at points where no op is running (between
/// epochs, between chunks of a simulation): a no-GC region of <see cref="Budget"/> bytes is opened there and renewed
/// once half of it is spent or the runtime ended it, so collections happen at those points, about as often as
/// without the pause. Only while a single thread holds the pause: with several (a study's workers) a renewal could
/// collect under another thread's op, so they keep whatever region is open and run unprotected once it ends.
/// </para>
/// </remarks>
public static class CollectionPause
{
    /// <summary>Bytes a region may allocate before a collection becomes due: 64 MiB (a training episode allocates a few).</summary>
    public const long Budget = 64L << 20;

    private static readonly object Gate = new();
    private static int _holders;
    private static long _startedAt;
    private static bool _unavailable;

    /// <summary>Whether the process is inside a no-GC region now.</summary>
    public static bool Active => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    /// <summary>Counts this thread in and opens a region when it is the only holder; dispose to count it out.</summary>
    public static Holder Begin()
    {
        lock (Gate)
        {
            _holders++;
            if (_holders == 1) Open();
        }
        return new Holder();
    }

    /// <summary>
    /// At a point where this thread runs no op: when it is the only holder, ends a region that has spent half its
    /// budget (a collection runs now, not inside an op) and opens the next, or opens one the runtime ended.
    /// </summary>
    public static void Renew()
    {
        lock (Gate)
        {
            if (_holders != 1) return;
            if (Active && GC.GetTotalAllocatedBytes() - _startedAt < Budget / 2) return;
            Close();
            Open();
        }
    }

    public readonly struct Holder : IDisposable
    {
        public void Dispose()
        {
            lock (Gate)
            {
                if (_holders == 0) return;
                _holders--;
                if (_holders == 0) Close();
            }
        }
    }

    private static void Open()
    {
        if (_unavailable || Active) return;
        try
        {
            // disallowFullBlockingGC: a gen0 collection makes room; a full blocking one each time would cost milliseconds.
            if (GC.TryStartNoGCRegion(Budget, disallowFullBlockingGC: true)) _startedAt = GC.GetTotalAllocatedBytes();
        }
        catch (ArgumentOutOfRangeException)
        {
            // A heap hard limit or segment size below the budget: run as before, with collections anywhere.
            _unavailable = true;
        }
        catch (InvalidOperationException)
        {
            // Someone else's region is open: theirs to end.
        }
    }

    private static void Close()
    {
        if (!Active) return;
        try { GC.EndNoGCRegion(); }
        catch (InvalidOperationException) { /* the runtime ended it (the budget ran out) between the check and here */ }
    }
}
