using System.Runtime;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests;

public sealed class CollectionPauseTests
{
    [Fact]
    public void A_holder_opens_a_no_gc_region_and_the_last_one_out_closes_it()
    {
        Assert.False(CollectionPause.Active);
        using (CollectionPause.Begin())
        {
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            using (CollectionPause.Begin()) Assert.True(CollectionPause.Active);
            Assert.True(CollectionPause.Active);
        }
        Assert.False(CollectionPause.Active);
    }

    [Fact]
    public void Renewing_after_half_the_budget_collects_between_ops_and_opens_a_new_region()
    {
        using var pause = CollectionPause.Begin();
        int before = GC.CollectionCount(0);
        // Allocate more than half the budget in small objects: no collection inside the region…
        var keep = new List<byte[]>();
        for (long spent = 0; spent < CollectionPause.Budget * 5 / 8; spent += 4096) keep.Add(new byte[4096]);
        Assert.Equal(before, GC.CollectionCount(0));
        keep.Clear();
        // …and the renewal collects (at this safe point) and stays in a region.
        CollectionPause.Renew();
        Assert.True(GC.CollectionCount(0) > before);
        Assert.True(CollectionPause.Active);
    }

    [Fact]
    public void Renewing_without_a_holder_does_nothing()
    {
        CollectionPause.Renew();
        Assert.False(CollectionPause.Active);
    }

    [Fact]
    public void Ops_with_numbers_survive_another_thread_allocating_inside_the_pause()
    {
        // Without the pause this loop failed within a second ("Expected false to be true, but got false"): the number's
        // native Scalar freed by a collection that the other thread triggered during the op.
        var stop = false;
        var churn = new Thread(() => { var r = new Random(1); while (!Volatile.Read(ref stop)) { GC.KeepAlive(new byte[r.Next(100, 5000)]); Thread.SpinWait(20); } }) { IsBackground = true };
        churn.Start();
        using var x = torch.rand(64, 8, dtype: ScalarType.Float64);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long iterations = 0;
        try
        {
            using var pause = CollectionPause.Begin();
            while (clock.Elapsed.TotalSeconds < 2)
            {
                CollectionPause.Renew();
                for (int k = 0; k < 200; k++, iterations++)
                {
                    using var scope = torch.NewDisposeScope();
                    var y = x.mul(1.0000001).add(0.5).pow(1.5).clamp(0.0, 10.0).sub(0.25).div(3.0);
                    Assert.True(double.IsFinite(y.sum().item<double>()));
                }
            }
        }
        finally { Volatile.Write(ref stop, true); churn.Join(); }
        Assert.True(iterations > 1000);
    }
}
