using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Engine;

/// <summary>Conversions between .NET arrays and tensors at the edges of the library.</summary>
public static class Tensors
{
    public static Tensor FromArray(double[,] values, ScalarType dtype)
    {
        int n = values.GetLength(0), d = values.GetLength(1);
        var flat = new double[n * d];
        Buffer.BlockCopy(values, 0, flat, 0, flat.Length * sizeof(double));
        return torch.tensor(flat, new long[] { n, d }, ScalarType.Float64).to_type(dtype);
    }

    public static double[,] ToArray(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var m = t.dim() == 1 ? t.unsqueeze(1) : t;
        int n = (int)m.shape[0], d = (int)m.shape[1];
        var flat = m.detach().to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        var result = new double[n, d];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }
}
