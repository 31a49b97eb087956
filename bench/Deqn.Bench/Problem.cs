using System.Globalization;
using Deqn.Training.Data;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;

namespace Deqn.Bench;

/// <summary>The benchmark problem: the points and targets the driver wrote, and the 3 → 64 → 64 → 1 tanh network.</summary>
internal sealed class Problem
{
    public const int Inputs = 3, Width = 64, Outputs = 1;

    private Problem(double[,] x, double[,] y)
    {
        X = x;
        Y = y;
    }

    public double[,] X { get; }
    public double[,] Y { get; }
    public int Count => X.GetLength(0);

    /// <summary>Reads <c>x1,x2,x3,y</c> rows (a header line first).</summary>
    public static Problem Load(string path)
    {
        var rows = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var x = new double[rows.Length, Inputs];
        var y = new double[rows.Length, Outputs];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < Inputs; j++) x[i, j] = rows[i][j];
            y[i, 0] = rows[i][Inputs];
        }
        return new Problem(x, y);
    }

    public Dataset Dataset() => Deqn.Training.Data.Dataset.FromArrays(X, Y, torch.ScalarType.Float32);

    public static NetworkSpec NetworkSpec => Deqn.Training.Networks.NetworkSpec.Dense(Inputs, [Width, Width], Outputs, Activation.Tanh);

    /// <summary>Adam exactly as torch.optim.Adam and scikit-learn do it: lr 1e-3, eps 1e-8 outside the square root.</summary>
    public static OptimizerSpec Adam => new(OptimizerKind.Adam) { Convention = Convention.PyTorch, EpsilonInsideSqrt = false };
}
