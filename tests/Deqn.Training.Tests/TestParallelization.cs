// Test classes run one after another. TorchSharp hands a Scalar's native handle to libtorch without keeping the managed
// Scalar alive, so an implicit one (t.pow(0.36), x * 0.5) can be finalized while libtorch reads it if another thread's
// allocations trigger a GC during the call ("Unknown scalar type"). Parallel test classes made that happen in CI; a
// command runs its training on one managed thread, as the tests now do.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
