using Deqn.Training.Data;
using Deqn.Training.Distributed;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Distributed;

public sealed class DataParallelTrainerTests
{
    /// <summary>
    /// Process 0 of two whose partner contributes <paramref name="partner"/> times this process's values to every sum
    /// (0: a partner with zero gradients and loss; 1: an identical partner), and reports <paramref name="partnerSeconds"/>.
    /// </summary>
    private sealed class PairedWith(double partner, double partnerSeconds = 0, bool partnerCancels = false) : IProcessGroup
    {
        public int Rank => 0;
        public int Size => 2;
        public int Reductions { get; private set; }

        public void AllreduceSum(Span<double> values)
        {
            Reductions++;
            for (int i = 0; i < values.Length; i++) values[i] += partner * values[i];
        }

        public void AllreduceMax(Span<double> values)
        {
            // The trainer's agreements: one flag (Ctrl-C) or the seconds.
            for (int i = 0; i < values.Length; i++) values[i] = Math.Max(values[i], values[i] is 0 or 1 ? (partnerCancels ? 1 : 0) : partnerSeconds);
        }

        public void AllGather(ReadOnlySpan<double> mine, Span<double> all) => throw new NotSupportedException();
        public void Abort(int exitCode) => throw new InvalidOperationException($"abort {exitCode}");
    }

    private static (Network Net, Dataset Data) Problem()
    {
        using var g = new Generator(5);
        var x = torch.rand(32, 3, dtype: ScalarType.Float64, generator: g);
        var y = (x * Math.PI).sin().sum(1, keepdim: true);
        var net = new Network(NetworkSpec.Dense(3, [8], 1, Activation.Tanh) with { Precision = Precision.Float64 }, new Generator(3));
        return (net, new Dataset(x, y));
    }

    private static double[] Weights(Network net) => net.parameters().SelectMany(p => p.detach().data<double>().ToArray()).ToArray();

    private static (double[] Before, double[] After, double Loss) OneSgdStep(IProcessGroup group)
    {
        var (net, data) = Problem();
        using (net)
        using (data)
        {
            var before = Weights(net);
            var history = new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 0.1 }, net.parameters()),
                new TrainingSpec { Epochs = 1, BatchSize = 0 }) { Group = group }.Fit(data);
            return (before, Weights(net), history.Epochs[0].Value("loss"));
        }
    }

    [Fact]
    public void A_step_averages_the_gradients_and_the_loss_over_the_processes()
    {
        // Given one full-batch SGD step alone, and as process 0 of two whose partner's gradient and loss are zero
        var (before, alone, lossAlone) = OneSgdStep(SingleProcess.Instance);
        var group = new PairedWith(partner: 0);
        var (_, paired, lossPaired) = OneSgdStep(group);
        // Then the averaged gradient is half this process's, so the step is half as long, and the logged loss is halved
        for (int i = 0; i < before.Length; i++)
            Assert.Equal((alone[i] - before[i]) / 2, paired[i] - before[i], 1e-15);
        Assert.Equal(lossAlone / 2, lossPaired, 1e-15);
        Assert.Equal(1, group.Reductions);
    }

    [Fact]
    public void With_an_identical_partner_the_step_is_the_one_process_step()
    {
        var (_, alone, lossAlone) = OneSgdStep(SingleProcess.Instance);
        var (_, paired, lossPaired) = OneSgdStep(new PairedWith(partner: 1));
        Assert.Equal(alone, paired);
        Assert.Equal(lossAlone, lossPaired);
    }

    /// <summary>Whole epochs of one full-batch step, as a DEQN episode runs.</summary>
    private sealed class Episodes(Network net, Dataset data) : IWorkload<int>
    {
        public bool InterruptibleWithinEpoch => false;
        public IReadOnlyList<(int Batch, double Weight)> Batches(TrainingContext context) => [(0, 1.0)];
        public Tensor Loss(int batch) => (net.forward(data.Features) - data.Targets).square().mean();
    }

    [Fact]
    public void A_partners_time_budget_or_ctrl_c_stops_this_process_too()
    {
        // Given runs of whole epochs with a 100 s budget, as process 0 of two whose partner is past it or pressed Ctrl-C
        var (net, data) = Problem();
        using (net)
        using (data)
        {
            TrainingHistory Run(IProcessGroup group) =>
                new Trainer(net, Optimizers.Create(new OptimizerSpec(OptimizerKind.Sgd) { LearningRate = 0.1 }, net.parameters()),
                    new TrainingSpec { Epochs = 5, MaxSeconds = 100 }) { Group = group }.Run(new Episodes(net, data)).Single;
            // Then it stops with the partner: after the first epoch on the budget, before any on Ctrl-C
            var budget = Run(new PairedWith(partner: 1, partnerSeconds: 1000));
            Assert.Equal((StopReason.TimeBudget, 1), (budget.StopReason, budget.Epochs.Count));
            var interrupted = Run(new PairedWith(partner: 1, partnerCancels: true));
            Assert.Equal(StopReason.Interrupted, interrupted.StopReason);
        }
    }
}
