using Deqn.Equilibrium.Modeling;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// The network as a model's policy: states are scaled by their initial distributions' centers and half-widths, the
/// network gives one raw output per policy, and each policy's output transform (sigmoid into bounds, softplus…) is applied.
/// </summary>
public sealed class PolicyNetwork : IPolicyFunction, IDisposable
{
    private readonly Model _model;
    private readonly Tensor _offset;
    private readonly Tensor _inverseScale;
    private readonly bool _singleTransform;

    public PolicyNetwork(Model model, Network network)
    {
        if (network.Spec.Inputs != model.States.Count || network.Spec.Outputs != model.Policies.Count)
            throw new ArgumentException($"{model.Title}: the network maps {network.Spec.Inputs} → {network.Spec.Outputs}, the model needs {model.States.Count} states → {model.Policies.Count} policies");
        _model = model;
        Network = network;
        var device = network.parameters().First().device;
        // (x − center)/halfWidth as one fused x·scale + shift.
        int states = model.States.Count;
        _offset = torch.tensor(model.States.Select(s => -s.Initial.Center / s.Initial.HalfWidth).ToArray(), [1, states], dtype: network.DType, device: device);
        _inverseScale = torch.tensor(model.States.Select(s => 1.0 / s.Initial.HalfWidth).ToArray(), [1, states], dtype: network.DType, device: device);
        var first = model.Policies[0];
        _singleTransform = model.Policies.All(p => p.Output == first.Output && p.Bounds == first.Bounds);
    }

    public Network Network { get; }

    /// <summary>The device of the network's parameters; <see cref="Values"/> moves inputs there.</summary>
    public Device Device => _offset.device;

    /// <summary>A network spec for <paramref name="model"/>: its states in, <paramref name="body"/>, one linear output per policy.</summary>
    public static NetworkSpec SpecFor(Model model, NetworkBodySpec body) => body.For(model.States.Count, model.Policies.Count, Activation.Linear);

    public Tensor Values(Tensor states)
    {
        // Probes and diagnostics build their inputs on the CPU; a network elsewhere takes them across.
        if (states.device_type != _offset.device_type || states.device_index != _offset.device_index) states = states.to(_offset.device);
        var raw = Network.forward(torch.addcmul(_offset, states, _inverseScale, 1.0));
        // One transform on the whole output when all policies share it: fewer operations per step.
        if (_singleTransform) return _model.Policies[0].Transform(raw);
        return torch.stack(_model.Policies.Select(p => p.Transform(raw.select(1, p.Index))).ToArray(), 1);
    }

    public void Dispose()
    {
        _offset.Dispose();
        _inverseScale.Dispose();
        Network.Dispose();
    }
}
