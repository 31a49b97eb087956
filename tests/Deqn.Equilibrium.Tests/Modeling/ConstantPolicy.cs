using Deqn.Equilibrium.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

/// <summary>A policy with the same values (after their transforms) in every state: residuals a hand computation can follow.</summary>
internal sealed class ConstantPolicy(double[] values) : IPolicyFunction
{
    public Tensor Values(Tensor states) => torch.tensor(values, [1, values.Length], dtype: states.dtype).expand(states.shape[0], -1);
}
