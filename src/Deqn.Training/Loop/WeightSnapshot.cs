using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Loop;

/// <summary>
/// A detached copy of a module's parameters and buffers (batch-norm statistics included), to restore later. For a stack
/// of K networks (every tensor [K, …]) one member can be refreshed or restored on its own.
/// </summary>
public sealed class WeightSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors = new();

    private WeightSnapshot() { }

    public static WeightSnapshot Take(nn.Module module)
    {
        var snapshot = new WeightSnapshot();
        using var _ = torch.no_grad();
        foreach (var (name, t) in module.state_dict())
            snapshot._tensors[name] = t.clone().DetachFromDisposeScope();
        return snapshot;
    }

    /// <summary>Overwrites <paramref name="module"/>'s tensors in place with the copy (only member <paramref name="member"/>'s slice when given).</summary>
    public void Restore(nn.Module module, int? member = null)
    {
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, t) in module.state_dict())
        {
            if (member is int k) t[k].copy_(_tensors[name][k]);
            else t.copy_(_tensors[name]);
        }
    }

    /// <summary>Replaces the copy with the module's current values without reallocating (only member <paramref name="member"/>'s slice when given).</summary>
    public void Refresh(nn.Module module, int? member = null)
    {
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, t) in module.state_dict())
        {
            if (member is int k) _tensors[name][k].copy_(t[k]);
            else _tensors[name].copy_(t);
        }
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
