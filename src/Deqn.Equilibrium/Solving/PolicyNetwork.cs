using Deqn.Equilibrium.Modeling;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// The network as a model's policy: continuous states are scaled by their initial distributions' centers and
/// half-widths, each Markov-chain state enters one-hot, the network gives one raw output per policy element, and each
/// policy's output transform (sigmoid into bounds, softplus…) is applied.
/// </summary>
public sealed class PolicyNetwork : IPolicyFunction, IDisposable
{
    private readonly Model _model;
    private readonly Tensor _offset;
    private readonly Tensor _inverseScale;
    private readonly bool _singleTransform;
    private readonly Tensor? _continuous;
    private readonly (int Column, int States)[] _chains;

    public PolicyNetwork(Model model, Network network)
    {
        if (network.Spec.Inputs != InputWidth(model) || network.Spec.Outputs != model.PolicyWidth)
            throw new ArgumentException($"{model.Title}: the network maps {network.Spec.Inputs} → {network.Spec.Outputs}, the model needs {InputWidth(model)} inputs → {model.PolicyWidth} policy outputs");
        _model = model;
        Network = network;
        var device = network.parameters().First().device;
        var columns = model.StateColumns;
        var continuous = Enumerable.Range(0, columns.Count).Where(j => columns[j].State.Chain is null).ToArray();
        _chains = model.ChainStates.Select(c => (c.Index, c.Chain!.Count)).ToArray();
        if (_chains.Length > 0) _continuous = torch.tensor(continuous.Select(j => (long)j).ToArray(), dtype: ScalarType.Int64, device: device);
        // (x − center)/halfWidth as one fused x·scale + shift.
        _offset = torch.tensor(continuous.Select(j => -columns[j].Initial.Center / columns[j].Initial.HalfWidth).ToArray(), [1, continuous.Length], dtype: network.DType, device: device);
        _inverseScale = torch.tensor(continuous.Select(j => 1.0 / columns[j].Initial.HalfWidth).ToArray(), [1, continuous.Length], dtype: network.DType, device: device);
        var first = model.Policies[0];
        _singleTransform = model.Policies.All(p => p.Output == first.Output && p.Bounds == first.Bounds);
    }

    public Network Network { get; }

    /// <summary>The device of the network's parameters; <see cref="Values"/> moves inputs there.</summary>
    public Device Device => _offset.device;

    /// <summary>The network's inputs for <paramref name="model"/>: one per continuous state element, one per state of each Markov chain.</summary>
    public static int InputWidth(Model model) => model.StateWidth - model.ChainStates.Count + model.ChainStates.Sum(c => c.Chain!.Count);

    /// <summary>A network spec for <paramref name="model"/>: its inputs, <paramref name="body"/>, one linear output per policy element.</summary>
    public static NetworkSpec SpecFor(Model model, NetworkBodySpec body) => body.For(InputWidth(model), model.PolicyWidth, Activation.Linear);

    public Tensor Values(Tensor states)
    {
        // Probes and diagnostics build their inputs on the CPU; a network elsewhere takes them across.
        if (states.device_type != _offset.device_type || states.device_index != _offset.device_index) states = states.to(_offset.device);
        var raw = Network.forward(Inputs(states));
        // One transform on the whole output when all policies share it: fewer operations per step.
        if (_singleTransform) return _model.Policies[0].Transform(raw);
        return torch.cat(_model.Policies.Select(p => p.Transform(raw.narrow(1, p.Index, p.Size))).ToArray(), 1);
    }

    private Tensor Inputs(Tensor states)
    {
        if (_chains.Length == 0) return torch.addcmul(_offset, states, _inverseScale, 1.0);
        var parts = new List<Tensor>(1 + _chains.Length);
        if (_offset.shape[1] > 0) parts.Add(torch.addcmul(_offset, states.index_select(1, _continuous!), _inverseScale, 1.0));
        foreach (var (column, count) in _chains)
            parts.Add(nn.functional.one_hot(states.select(1, column).to_type(ScalarType.Int64), count).to_type(states.dtype));
        return torch.cat(parts.ToArray(), 1);
    }

    public void Dispose()
    {
        _offset.Dispose();
        _inverseScale.Dispose();
        _continuous?.Dispose();
        Network.Dispose();
    }
}
