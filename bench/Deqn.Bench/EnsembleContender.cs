using Deqn.Training.Ensembles;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Bench;

/// <summary>
/// K networks together with Deqn.Training.Ensembles: one <see cref="EnsembleTrainer"/> fit of a <see cref="NetworkStack"/>
/// per block, every member on the same 500 points but, as K separate runs would, with its own shuffle (so each step
/// gathers K different minibatches, more work than the bare stacked baseline's one shared minibatch).
/// </summary>
internal sealed class EnsembleContender : IContender
{
    private readonly NetworkStack _stack;
    private readonly Optimizer _optimizer;
    private readonly Tensor _x, _y;
    private long _fits;

    public EnsembleContender(Problem problem, int k)
    {
        _stack = NetworkStack.FromSeeds(Problem.NetworkSpec, Enumerable.Range(0, k).Select(i => 100L + i).ToArray());
        _optimizer = Optimizers.Create(Problem.Adam, _stack.parameters());
        using (var x = torch.tensor(problem.X, dtype: ScalarType.Float32))
        using (var y = torch.tensor(problem.Y, dtype: ScalarType.Float32))
        {
            _x = x.unsqueeze(0).expand(k, -1, -1).contiguous();
            _y = y.unsqueeze(0).expand(k, -1, -1).contiguous();
        }
        Networks = k;
    }

    public int Networks { get; }

    public BlockResult Run(int batch, int epochs)
    {
        _fits++;
        var spec = new TrainingSpec { Epochs = epochs, BatchSize = batch, Seed = _fits * 1000 };
        var clock = BlockClock.Start();
        var history = new EnsembleTrainer(_stack, _optimizer, spec).Fit(_x, _y);
        return clock.Stop(history.Members.Sum(m => m.Steps));
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _stack.Dispose();
        _x.Dispose();
        _y.Dispose();
    }
}
