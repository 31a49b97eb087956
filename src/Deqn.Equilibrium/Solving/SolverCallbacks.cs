using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Training.Callbacks;
using Deqn.Training.Engine;
using Deqn.Training.Loop;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// Writes the solver's checkpoint (network, optimizer, every rank's random stream and simulated states, history) every
/// k episodes and when training ends. A periodic checkpoint is taken as the next episode begins, when the last one is
/// complete and nothing has yet been drawn for the next; a run that stopped on a non-finite loss keeps its last good
/// checkpoint. In a data-parallel solve every process gathers the states and process 0 writes (<paramref name="path"/>
/// is null on the others).
/// </summary>
internal sealed class SolverCheckpointing(string? path, int every, string modelName, Model model, PolicyNetwork policy, Optimizer optimizer,
    EpisodeWorkload workload) : ICallback
{
    private int _firstEpisode = -1;

    public void OnEpochBegin(TrainingContext context)
    {
        if (_firstEpisode < 0)
        {
            _firstEpisode = context.Epoch;
            return;
        }
        int finished = context.Epoch - 1;
        if (every > 0 && finished % every == 0) Save(context, finished);
    }

    public void OnTrainEnd(TrainingContext context)
    {
        if (context.Members[0].StopReason == StopReason.NonFiniteLoss) return;
        Save(context, context.CompletedEpoch);
    }

    private void Save(TrainingContext context, int episode)
    {
        var (states, randoms) = workload.Snapshot();
        if (path is null) return;
        using var network = new MemoryStream();
        using (var writer = new BinaryWriter(network, System.Text.Encoding.UTF8, leaveOpen: true)) policy.Network.save(writer);
        using var optimizerState = new MemoryStream();
        optimizer.SaveState(optimizerState);
        new SolverCheckpoint
        {
            Model = modelName,
            Parameters = model.Parameters.Select(p => p.Value).ToArray(),
            Episode = episode,
            Steps = context.Step,
            Seconds = context.Seconds,
            RandomState = randoms[0],
            RandomStates = randoms.Length > 1 ? randoms : null,
            StateRows = (int)workload.Ranks[0].States.shape[0],
            History = context.Members[0].History.ToArray(),
            InputStatistics = policy.Statistics,
            Network = network.ToArray(),
            Optimizer = optimizerState.ToArray(),
            States = states,
        }.Save(path);
    }
}

/// <summary>Histograms of the simulated states and of the policies on them, every k episodes and at the end (at evaluation points).</summary>
internal sealed class StateHistograms(Model model, IPolicyFunction policy, EpisodeWorkload workload, int every) : ICallback
{
    public void OnEpochEnd(TrainingContext context)
    {
        if (context.Epoch % every != 0 && context.Epoch != context.TotalEpochs) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var states = workload.States;
        var values = Tensors.ToArray(states);
        var policies = Tensors.ToArray(policy.Values(states));
        var stateColumns = model.StateColumns;
        var policyColumns = model.PolicyColumns;
        for (int j = 0; j < stateColumns.Count; j++) context.Logger.LogHistogram(context.Epoch, $"states/{stateColumns[j].Name}", Column(values, j));
        for (int j = 0; j < policyColumns.Count; j++) context.Logger.LogHistogram(context.Epoch, $"policies/{policyColumns[j].Name}", Column(policies, j));
    }

    private static double[] Column(double[,] m, int j) => Enumerable.Range(0, m.GetLength(0)).Select(i => m[i, j]).ToArray();
}
