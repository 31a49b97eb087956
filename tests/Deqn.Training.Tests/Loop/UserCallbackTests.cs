using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Ensembles;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Loop;

/// <summary>A callback written by a user sees every evaluation point of every workload and can stop the run with its own reason.</summary>
public sealed class UserCallbackTests
{
    /// <summary>Records each epoch it sees; stops member <c>member</c> (or the whole run when null) at <c>stopAt</c>.</summary>
    private sealed class StopAt(int stopAt, int? member = null) : ICallback
    {
        public List<int> Seen { get; } = new();
        public List<int> ActiveMembers { get; } = new();

        public void OnEpochEnd(TrainingContext context)
        {
            Seen.Add(context.Epoch);
            ActiveMembers.Add(context.Members.Count(m => m.Active));
            if (context.Epoch != stopAt) return;
            if (member is int k) context.StopMember(k, StopReason.Callback, $"member {k} had enough at epoch {stopAt}");
            else context.RequestStop(StopReason.Callback, $"had enough at epoch {stopAt}");
        }
    }

    private static Dataset Data(int n, long seed)
    {
        using var g = new Generator((ulong)seed);
        var x = torch.rand(n, 2, dtype: ScalarType.Float64, generator: g);
        return new Dataset(x, x.sum(1, keepdim: true).sin());
    }

    [Fact]
    public void A_supervised_fit_calls_the_callback_every_epoch_and_stops_with_its_reason()
    {
        // Given a 20-epoch fit and a callback that stops it after epoch 7
        using var net = new Network(NetworkSpec.Dense(2, [8], 1, Activation.Tanh) with { Precision = Precision.Float64 }, new Generator(1));
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), net.parameters());
        var callback = new StopAt(7);
        using var train = Data(40, 3);

        // When it trains
        var history = new Trainer(net, optimizer, new TrainingSpec { Epochs = 20, BatchSize = 8 }) { Callbacks = [callback] }.Fit(train);

        // Then the callback saw epochs 1..7 and the run ended there, for the callback's reason
        Assert.Equal(Enumerable.Range(1, 7), callback.Seen);
        Assert.Equal(StopReason.Callback, history.StopReason);
        Assert.Equal("had enough at epoch 7", history.StopMessage);
        Assert.Equal(7, history.Epochs.Count);
        Assert.Equal(7 * 5, history.Steps);
    }

    [Fact]
    public void A_stack_calls_the_callback_every_epoch_which_can_stop_one_member_and_then_all()
    {
        // Given three stacked networks, a callback that stops member 1 after epoch 3, and another that stops the run after epoch 6
        using var stack = NetworkStack.FromSeeds(NetworkSpec.Dense(2, [8], 1, Activation.Tanh) with { Precision = Precision.Float64 }, [1, 2, 3]);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), stack.parameters());
        var one = new StopAt(3, member: 1);
        var all = new StopAt(6);
        var sets = new[] { Data(40, 3), Data(40, 4), Data(40, 5) };

        // When they train for up to 20 epochs
        var history = new EnsembleTrainer(stack, optimizer, new TrainingSpec { Epochs = 20, BatchSize = 8 }) { Callbacks = [one, all] }.Fit(sets);

        // Then the callbacks saw every epoch up to 6, member 1 stopped alone after 3 and the others after 6, each for its reason
        Assert.Equal(Enumerable.Range(1, 6), all.Seen);
        Assert.Equal([3, 3, 3, 2, 2, 2], one.ActiveMembers);
        Assert.Equal(StopReason.Callback, history.Members[1].StopReason);
        Assert.Equal("member 1 had enough at epoch 3", history.Members[1].StopMessage);
        Assert.Equal(3, history.Members[1].Epochs.Count);
        Assert.Equal(3 * 5, history.Members[1].Steps);
        foreach (int k in new[] { 0, 2 })
        {
            Assert.Equal("had enough at epoch 6", history.Members[k].StopMessage);
            Assert.Equal(6, history.Members[k].Epochs.Count);
        }
        foreach (var d in sets) d.Dispose();
    }
}
