using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Ensembles;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Ensembles;

public sealed class EnsembleTrainerTests
{
    private static readonly long[] InitSeeds = [11, 22, 33];
    private static readonly long[] ShuffleSeeds = [7, 8, 9];

    private static NetworkSpec Spec(double dropout = 0, int width = 16) =>
        NetworkSpec.Dense(3, [width, width], 1, Activation.Tanh, dropout) with { Precision = Precision.Float64 };

    /// <summary>y = Σ sin(π x) (+ noise); each member gets its own draw.</summary>
    private static Dataset Data(int n, long seed, double noise = 0.1)
    {
        using var g = new Generator((ulong)seed);
        var x = torch.rand(n, 3, dtype: ScalarType.Float64, generator: g);
        var y = (x * Math.PI).sin().sum(1, keepdim: true) + noise * torch.randn(n, 1, dtype: ScalarType.Float64, generator: g);
        return new Dataset(x, y);
    }

    private static Dataset[] Sets(int n, long seed, params double[] noise) =>
        noise.Select((s, k) => Data(n, seed + 100 * k, s)).ToArray();

    /// <summary>Member k trained alone by the single-network Trainer.</summary>
    private static (Network Net, TrainingHistory History) Separate(NetworkSpec spec, int k, OptimizerSpec opt, TrainingSpec training,
        Dataset train, Dataset? val, EarlyStopping? early = null)
    {
        var net = new Network(spec, new Generator((ulong)InitSeeds[k]));
        var trainer = new Trainer(net, Optimizers.Create(opt, net.parameters()), training with { Seed = ShuffleSeeds[k] })
        {
            Callbacks = early is null ? new List<ICallback>() : new List<ICallback> { early },
        };
        return (net, trainer.Fit(train, val));
    }

    private static double RelativeDifference(Network got, Network want)
    {
        var w = want.state_dict();
        double worst = 0;
        foreach (var (name, t) in got.state_dict())
            worst = Math.Max(worst, (t - w[name]).norm().ToDouble() / w[name].norm().ToDouble());
        return worst;
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 0.0, false)]
    [InlineData(OptimizerKind.Momentum, 0.0, false)]
    [InlineData(OptimizerKind.Adam, 0.2, true)]
    public void Stacked_training_matches_separate_trainings_member_by_member(OptimizerKind kind, double dropout, bool clip)
    {
        // Given three members with their own data, validation data and shuffling seeds, minibatches of 16 over 6 epochs
        var spec = Spec(dropout);
        var opt = new OptimizerSpec(kind) { LearningRate = 0.01 };
        var training = new TrainingSpec { Epochs = 6, BatchSize = 16, ClipNorm = clip ? 0.5 : null, ClipValue = clip ? 0.2 : null };
        var train = Sets(50, 1, 0.1, 0.2, 0.3);
        var val = Sets(20, 2, 0.1, 0.2, 0.3);
        using var stack = NetworkStack.FromSeeds(spec, InitSeeds);
        using var optimizer = Optimizers.Create(opt, stack.parameters());

        // When
        var history = new EnsembleTrainer(stack, optimizer, training) { MemberSeeds = ShuffleSeeds }.Fit(train, val);

        // Then each member ends where a separate run ends, and reports the same losses
        // (1e-9 relative: a batched product may sum in another order, and such 1e-16 differences grow over 24 steps)
        for (int k = 0; k < 3; k++)
        {
            var (net, alone) = Separate(spec, k, opt, training, train[k], val[k]);
            using var got = stack.Extract(k);
            double rel = RelativeDifference(got, net);
            Assert.True(rel <= 1e-9, $"member {k}: weights differ by {rel:G3} relative (> 1e-9)");
            Assert.Equal(alone.Epochs.Count, history.Members[k].Epochs.Count);
            Assert.Equal(StopReason.MaxEpochs, history.Members[k].StopReason);
            foreach (var key in new[] { "loss", "val_loss" })
            {
                var a = alone.Series(key);
                var b = history.Members[k].Series(key);
                for (int e = 0; e < a.Length; e++)
                    Assert.True(Math.Abs(a[e] - b[e]) <= 1e-9 * Math.Abs(a[e]), $"member {k}, epoch {e + 1}, {key}: {b[e]} vs {a[e]} alone");
            }
            net.Dispose();
        }
        Assert.Equal(24, history.Steps);
        foreach (var d in train.Concat(val)) d.Dispose();
    }

    [Fact]
    public void Stacked_classification_with_cross_entropy_matches_separate_trainings()
    {
        // Given three softmax classifiers, each with its own labelled points (class = which coordinate is largest)
        var spec = NetworkSpec.Dense(3, [8], 3, Activation.Tanh) with { Precision = Precision.Float64, OutputActivation = Activation.Softmax };
        var opt = new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 0.02 };
        var training = new TrainingSpec { Epochs = 4, BatchSize = 8, Loss = Deqn.Training.Losses.LossKind.CrossEntropy };
        var train = Enumerable.Range(0, 3).Select(k =>
        {
            using var g = new Generator((ulong)(40 + k));
            var x = torch.rand(30, 3, dtype: ScalarType.Float64, generator: g);
            return new Dataset(x, x.argmax(1));
        }).ToArray();
        using var stack = NetworkStack.FromSeeds(spec, InitSeeds);
        using var optimizer = Optimizers.Create(opt, stack.parameters());

        // When
        new EnsembleTrainer(stack, optimizer, training) { MemberSeeds = ShuffleSeeds }.Fit(train);

        // Then (1e-9 relative, as for regression)
        for (int k = 0; k < 3; k++)
        {
            var (net, _) = Separate(spec, k, opt, training, train[k], null);
            using var got = stack.Extract(k);
            double rel = RelativeDifference(got, net);
            Assert.True(rel <= 1e-9, $"member {k}: weights differ by {rel:G3} relative (> 1e-9)");
            net.Dispose();
        }
        foreach (var d in train) d.Dispose();
    }

    [Fact]
    public void Per_member_learning_rate_factors_equal_separate_runs_with_those_rates()
    {
        // Given base rate 0.01 and factors 1, 0.3, 2.5
        var spec = Spec();
        double[] factors = [1.0, 0.3, 2.5];
        var training = new TrainingSpec { Epochs = 5, BatchSize = 10 };
        var train = Sets(40, 3, 0.1, 0.1, 0.1);
        using var stack = NetworkStack.FromSeeds(spec, InitSeeds);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 0.01 }, stack.parameters());

        // When
        var history = new EnsembleTrainer(stack, optimizer, training) { MemberSeeds = ShuffleSeeds, LearningRateFactors = factors }.Fit(train);

        // Then member k equals a separate Adam run with rate 0.01·factor_k (1e-9 relative) and reports that rate
        for (int k = 0; k < 3; k++)
        {
            var (net, _) = Separate(spec, k, new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 0.01 * factors[k] }, training, train[k], null);
            using var got = stack.Extract(k);
            double rel = RelativeDifference(got, net);
            Assert.True(rel <= 1e-9, $"member {k}: weights differ by {rel:G3} relative (> 1e-9)");
            Assert.Equal(0.01 * factors[k], history.Members[k].Last!.Metrics["lr"], 15);
            net.Dispose();
        }
        foreach (var d in train) d.Dispose();
    }

    [Fact]
    public void Per_member_early_stopping_freezes_a_stopped_member_at_its_best_weights_while_the_others_train_on()
    {
        // Given members 0 and 1 fitting pure noise with a wide net (they overfit soon), member 2 a clean signal
        var spec = Spec(width: 48);
        var opt = new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 0.01 };
        var training = new TrainingSpec { Epochs = 60, BatchSize = 0 };
        var train = new[] { NoiseData(20, 1), NoiseData(20, 3), Data(20, 5, 0.0) };
        var val = new[] { NoiseData(20, 2), NoiseData(20, 4), Data(20, 6, 0.0) };
        var early = new EarlyStopping("val_loss", patience: 5);
        using var stack = NetworkStack.FromSeeds(spec, InitSeeds);
        using var optimizer = Optimizers.Create(opt, stack.parameters());

        // When
        var history = new EnsembleTrainer(stack, optimizer, training) { MemberSeeds = ShuffleSeeds, EarlyStopping = early }.Fit(train, val);

        // Then every member stopped when, and ended where, a separate run with the EarlyStopping callback does
        var lengths = new int[3];
        for (int k = 0; k < 3; k++)
        {
            var callback = new EarlyStopping("val_loss", patience: 5, restoreBestWeights: true);
            var (net, alone) = Separate(spec, k, opt, training, train[k], val[k], callback);
            var mine = history.Members[k];
            Assert.Equal(alone.StopReason, mine.StopReason);
            Assert.Equal(alone.Epochs.Count, mine.Epochs.Count);
            using var got = stack.Extract(k);
            double rel = RelativeDifference(got, net);
            Assert.True(rel <= 1e-9, $"member {k}: weights differ by {rel:G3} relative (> 1e-9)");
            lengths[k] = mine.Epochs.Count;
            if (mine.StopReason == StopReason.EarlyStopping)
            {
                // the frozen member holds its best epoch's weights: its validation loss now is its best one
                var valLoss = mine.Series("val_loss");
                using (torch.no_grad())
                {
                    got.eval();
                    double now = Deqn.Training.Losses.Losses.Compute(Deqn.Training.Losses.LossKind.Mse, got.forward(val[k].Features), val[k].Targets).ToDouble();
                    Assert.True(Math.Abs(now - valLoss.Min()) <= 1e-9 * valLoss.Min(), $"member {k}: val loss {now} at the end, best was {valLoss.Min()}");
                }
            }
            net.Dispose();
        }
        Assert.Equal(StopReason.EarlyStopping, history.Members[0].StopReason);
        Assert.True(lengths.Distinct().Count() > 1, $"members should stop at different epochs (got {string.Join(", ", lengths)})");
        Assert.Equal(lengths.Max(), history.Members.Max(m => m.Epochs.Count));
        foreach (var d in train.Concat(val)) d.Dispose();
    }

    private static Dataset NoiseData(int n, long seed)
    {
        using var g = new Generator((ulong)seed);
        return new Dataset(torch.rand(n, 3, dtype: ScalarType.Float64, generator: g), torch.randn(n, 1, dtype: ScalarType.Float64, generator: g));
    }

    [Fact]
    public void A_diverging_member_stops_alone_with_its_last_finite_weights()
    {
        // Given SGD where member 1's learning-rate factor makes it diverge
        var spec = Spec();
        var training = new TrainingSpec { Epochs = 20, BatchSize = 10 };
        var train = Sets(30, 7, 0.1, 0.1, 0.1);
        using var stack = NetworkStack.FromSeeds(spec, InitSeeds);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 0.01 }, stack.parameters());

        // When
        var history = new EnsembleTrainer(stack, optimizer, training) { MemberSeeds = ShuffleSeeds, LearningRateFactors = [1, 1e8, 1] }.Fit(train);

        // Then member 1 stopped on the non-finite loss with finite weights; the others ran all epochs as if alone
        Assert.Equal(StopReason.NonFiniteLoss, history.Members[1].StopReason);
        using var diverged = stack.Extract(1);
        Assert.All(diverged.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
        foreach (int k in new[] { 0, 2 })
        {
            Assert.Equal(StopReason.MaxEpochs, history.Members[k].StopReason);
            var (net, _) = Separate(spec, k, new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 0.01 }, training, train[k], null);
            using var got = stack.Extract(k);
            Assert.True(RelativeDifference(got, net) <= 1e-9, $"member {k} differs from its separate run (> 1e-9 relative)");
            net.Dispose();
        }
        foreach (var d in train) d.Dispose();
    }

    [Fact]
    public void Datasets_of_different_sizes_are_refused()
    {
        // Given
        using var stack = NetworkStack.FromSeeds(Spec(), InitSeeds);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), stack.parameters());
        var train = new[] { Data(20, 1), Data(21, 2), Data(20, 3) };

        // When
        var e = Assert.Throws<ArgumentException>(() => new EnsembleTrainer(stack, optimizer, new TrainingSpec { Epochs = 1 }).Fit(train));

        // Then
        Assert.Contains("equal sizes", e.Message);
        foreach (var d in train) d.Dispose();
    }

    [Fact]
    public void A_thousand_stacked_steps_leak_no_tensors()
    {
        // Given a warmed-up stacked trainer using every per-step path: learning-rate factors, both clippings, dropout,
        // and a member that stops early (factor 0 never changes it, so its validation loss stops improving) and is held
        using var stack = NetworkStack.FromSeeds(Spec(dropout: 0.1), InitSeeds);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Adam), stack.parameters());
        var train = Sets(64, 1, 0.1, 0.1, 0.1);
        var val = Sets(16, 2, 0.1, 0.1, 0.1);
        EnsembleTrainer Make(int epochs) => new(stack, optimizer, new TrainingSpec { Epochs = epochs, BatchSize = 16, ClipNorm = 1.0, ClipValue = 1.0 })
        {
            LearningRateFactors = [1.0, 0.0, 2.0],
            EarlyStopping = new EarlyStopping("val_loss", patience: 20),
        };
        Make(1).Fit(train, val);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        // When 250 epochs × 4 steps run
        var history = Make(250).Fit(train, val);

        // Then
        Assert.Equal(StopReason.EarlyStopping, history.Members[1].StopReason);
        Assert.Equal(1000, history.Steps);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"live tensors grew from {before} to {after} over 1000 steps");
        foreach (var d in train.Concat(val)) d.Dispose();
    }
}
