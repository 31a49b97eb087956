using static TorchSharp.torch;

namespace Deqn.Testing;

public static class Same
{
    /// <summary>Bit-for-bit equal values and shapes (TorchSharp's Tensor.equal is element-wise, not torch.equal).</summary>
    public static bool Values(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
}
