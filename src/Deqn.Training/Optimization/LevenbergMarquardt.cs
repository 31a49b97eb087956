using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// Levenberg–Marquardt steps for a least-squares loss ½‖r(θ)‖²-shaped objective: the damped Gauss–Newton direction
/// δ = −(JᵀJ + λ·d·I)⁻¹ Jᵀr, where d is the mean diagonal of JᵀJ (so λ means the same whatever the residuals' scale),
/// taken when the true loss falls, and retried with 4× the damping when it does not; a taken step divides λ by 3.
/// </summary>
/// <remarks>
/// Where first-order methods and L-BFGS stall on an ill-conditioned fit (a network that must cancel its own curvature to
/// 1e-6), the Gauss–Newton matrix sees every direction of the residuals at once. The linear system is solved in the
/// smaller of its two equivalent forms: (JJᵀ + μI) y = r, δ = −Jᵀy when there are fewer rows than parameters, else
/// (JᵀJ + μI) δ = −Jᵀr, each by Cholesky. The parameters are the ones the Jacobian's columns belong to, in order, each
/// flattened row-major.
/// </remarks>
public sealed class LevenbergMarquardt(IReadOnlyList<Tensor> parameters, double damping = LevenbergMarquardt.DefaultDamping)
{
    public const double DefaultDamping = 1e-3;
    private const double Grow = 4, Shrink = 3;
    private const int MaxTries = 12;

    /// <summary>The current relative damping λ.</summary>
    public double Damping { get; private set; } = damping;

    /// <summary>Steps taken and trial steps rejected since this optimizer was made.</summary>
    public long Taken { get; private set; }
    public long Rejected { get; private set; }

    /// <summary>
    /// δ = −(JᵀJ + μI)⁻¹ Jᵀr for residuals <paramref name="r"/> [R] and Jacobian <paramref name="jacobian"/> [R, P]; null
    /// when the damped matrix is not numerically positive definite.
    /// </summary>
    public static Tensor? Direction(Tensor r, Tensor jacobian, double mu)
    {
        using var system = new GaussNewtonSystem(r, jacobian);
        return system.Direction(mu);
    }

    /// <summary>The Gram matrix of one step in the smaller of its two forms, formed once for every damping tried.</summary>
    private sealed class GaussNewtonSystem : IDisposable
    {
        private readonly Tensor _r, _jacobian, _gram;
        private readonly bool _fewRows;

        public GaussNewtonSystem(Tensor r, Tensor jacobian)
        {
            _r = r;
            _jacobian = jacobian;
            _fewRows = jacobian.shape[0] <= jacobian.shape[1];
            _gram = _fewRows ? jacobian.matmul(jacobian.t()) : jacobian.t().matmul(jacobian);
        }

        public Tensor? Direction(double mu)
        {
            using var scope = NewDisposeScope();
            var damped = _gram.clone();
            using (var damping = mu.ToScalar()) damped.diagonal().add_(damping);
            var (factor, info) = torch.linalg.cholesky_ex(damped);
            if (info.max().ToInt64() != 0) return null;
            Tensor delta = _fewRows
                ? _jacobian.t().matmul(torch.cholesky_solve(_r.unsqueeze(1), factor)).squeeze(1).neg_()
                : torch.cholesky_solve(_jacobian.t().matmul(_r).unsqueeze(1), factor).squeeze(1).neg_();
            if (!delta.isfinite().all().item<bool>()) return null;
            return delta.MoveToOuterDisposeScope();
        }

        public void Dispose() => _gram.Dispose();
    }

    /// <summary>
    /// One step from the current parameters, whose loss is <paramref name="loss"/>, with residuals <paramref name="r"/>
    /// and their Jacobian: tries damped directions until <paramref name="lossAt"/> (the true loss at the parameters as
    /// they are set when it is called, penalties and all) is lower. Returns the loss after the step, or
    /// <paramref name="loss"/> with the parameters unchanged when no damping up to 4¹² times the current one helps.
    /// </summary>
    public double Step(Tensor r, Tensor jacobian, double loss, Func<double> lossAt)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var saved = parameters.Select(p => p.detach().clone()).ToArray();
        double scale = jacobian.square().sum().ToDouble() / jacobian.shape[1];
        if (!(scale > 0) || !double.IsFinite(scale)) return loss;
        using var system = new GaussNewtonSystem(r, jacobian);
        for (int attempt = 0; attempt < MaxTries; attempt++)
        {
            using var attemptScope = NewDisposeScope();
            var delta = system.Direction(Damping * scale);
            if (delta is not null)
            {
                Apply(saved, delta);
                double trial = lossAt();
                if (trial < loss)
                {
                    Damping = Math.Max(Damping / Shrink, 1e-15);
                    Taken++;
                    return trial;
                }
                for (int i = 0; i < parameters.Count; i++) parameters[i].copy_(saved[i]);
            }
            Rejected++;
            Damping = Math.Min(Damping * Grow, 1e15);
        }
        return loss;
    }

    private void Apply(Tensor[] saved, Tensor delta)
    {
        long at = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            long n = saved[i].numel();
            parameters[i].copy_(saved[i].add(delta.narrow(0, at, n).view(saved[i].shape)));
            at += n;
        }
        if (at != delta.shape[0]) throw new ArgumentException($"the Jacobian has {delta.shape[0]} columns, the parameters {at} entries");
    }
}
