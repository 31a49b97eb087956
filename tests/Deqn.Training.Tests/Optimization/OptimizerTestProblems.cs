using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Optimization;

/// <summary>Small float64 objectives whose gradients are known in closed form.</summary>
internal static class OptimizerTestProblems
{
    public static Parameter Param(params double[] values) => new(torch.tensor(values, dtype: ScalarType.Float64));

    public static double[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();

    /// <summary>f(w) = ½ wᵀ diag(a) w − bᵀw; gradient a∘w − b.</summary>
    public static Func<double> Quadratic(Parameter w, double[] a, double[] b) => () =>
    {
        var loss = 0.5 * (torch.tensor(a) * w * w).sum() - (torch.tensor(b) * w).sum();
        loss.backward();
        return loss.ToDouble();
    };

    /// <summary>Rosenbrock (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1).</summary>
    public static Func<double> Rosenbrock(Parameter w) => () =>
    {
        var x = w[0];
        var y = w[1];
        var loss = (1 - x).square() + 100 * (y - x.square()).square();
        loss.backward();
        return loss.ToDouble();
    };

    /// <summary>An ill-conditioned 2-D parabola Σ c_i (w_i − m_i)², minimum 0 at m.</summary>
    public static readonly double[] ParabolaMinimum = { 1.0, -2.0 };
    public static Func<double> Parabola(Parameter w) => () =>
    {
        var loss = (torch.tensor(new[] { 1.0, 10.0 }) * (w - torch.tensor(ParabolaMinimum)).square()).sum();
        loss.backward();
        return loss.ToDouble();
    };
}
