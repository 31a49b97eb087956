using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>Gradient clipping in place, as Keras's clipvalue and global_clipnorm. Parameters without a gradient are skipped.</summary>
public static class GradientClipping
{
    /// <summary>Clamps every gradient entry to [−limit, limit].</summary>
    public static void ByValue(IEnumerable<Parameter> ps, double limit)
    {
        if (!(limit > 0 && double.IsFinite(limit))) throw new ArgumentException($"clip value must be > 0 (got {OptimizerSpec.Format(limit)})");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        foreach (var p in ps)
            p.grad?.clamp_((Scalar)(-limit), (Scalar)limit);
    }

    /// <summary>sqrt of the sum of all squared gradient entries, accumulated in float64.</summary>
    public static double GlobalNorm(IEnumerable<Parameter> ps)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        double sum = 0;
        foreach (var p in ps)
            if (p.grad is { } g) sum += g.to(ScalarType.Float64).square().sum().ToDouble();
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Scales all gradients by maxNorm/norm when their global norm exceeds <paramref name="maxNorm"/>, so their directions
    /// stay as they are. A non-finite norm leaves the gradients untouched (scaling would hide the problem); the caller sees it
    /// in the returned value.
    /// </summary>
    /// <returns>The global norm before clipping.</returns>
    public static double ByGlobalNorm(IEnumerable<Parameter> ps, double maxNorm)
    {
        if (!(maxNorm > 0 && double.IsFinite(maxNorm))) throw new ArgumentException($"clip norm must be > 0 (got {OptimizerSpec.Format(maxNorm)})");
        var list = ps as IReadOnlyCollection<Parameter> ?? ps.ToArray();
        double norm = GlobalNorm(list);
        if (double.IsFinite(norm) && norm > maxNorm)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            double factor = maxNorm / norm;
            foreach (var p in list) p.grad?.mul_(factor);
        }
        return norm;
    }

    /// <summary>
    /// For a stack of K networks (every parameter [K, …]): clips each member's gradients by its own global norm, as
    /// <see cref="ByGlobalNorm"/> would in K separate runs. A member with a non-finite norm is left alone.
    /// </summary>
    public static void ByGlobalNormPerMember(IReadOnlyList<Parameter> ps, double maxNorm)
    {
        if (!(maxNorm > 0 && double.IsFinite(maxNorm))) throw new ArgumentException($"clip norm must be > 0 (got {OptimizerSpec.Format(maxNorm)})");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        torch.Tensor? squares = null;
        foreach (var p in ps)
        {
            if (p.grad is not { } g) continue;
            var dims = Enumerable.Range(1, (int)g.dim() - 1).Select(d => (long)d).ToArray();
            var s = g.to(torch.ScalarType.Float64).square().sum(dims);
            squares = squares is null ? s : squares.add_(s);
        }
        if (squares is null) return;
        var norm = squares.sqrt();
        var clip = norm.isfinite().logical_and_(norm.gt(maxNorm));
        var factor = torch.where(clip, norm.reciprocal().mul_(maxNorm), torch.ones_like(norm));
        foreach (var p in ps)
        {
            if (p.grad is not { } g) continue;
            var shape = new long[g.dim()];
            Array.Fill(shape, 1L);
            shape[0] = -1;
            g.mul_(factor.to(g.dtype).view(shape));
        }
    }
}
