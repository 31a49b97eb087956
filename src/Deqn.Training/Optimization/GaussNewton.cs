using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// Damped Gauss–Newton (Levenberg–Marquardt) steps on a least-squares loss: δ = −(JᵀJ + μI)⁻¹ Jᵀr with μ = λ·tr(JᵀJ)/P
/// (λ relative, so it means the same whatever the residuals' scale), taken when the true loss falls, with λ following
/// <see cref="NielsenDamping"/>.
/// </summary>
/// <remarks>
/// <para>The damped system is solved the cheapest way the linearization allows. With J stored and min(R, P) at most
/// <see cref="GramLimit"/>: by Cholesky in the smaller of its two forms, (JJᵀ + μI) y = r, δ = −Jᵀy when there are fewer
/// rows than parameters, else (JᵀJ + μI) δ = −Jᵀr; the Gram matrix is formed once for every damping tried. Otherwise
/// <b>matrix-free</b>: conjugate gradients on (JᵀJ + μI) δ = −Jᵀr with the Jacobi preconditioner diag(JᵀJ) + μ, one J and
/// one Jᵀ product an iteration, so memory is whatever the linearization holds (J itself, or only the residuals' graph).</para>
/// <para>The gain ratio compares the loss's fall with the linear model's, ‖r‖² − ‖r + Jδ‖², exact for an inexact
/// conjugate-gradient step too; <c>lossPerSquare</c> converts sums of squares to the caller's loss (1 when the loss is
/// ‖r‖², 1/R for a mean).</para>
/// </remarks>
public sealed class GaussNewton(IReadOnlyList<Tensor> parameters, double damping = NielsenDamping.Initial)
{
    /// <summary>The largest Gram matrix (min(R, P) square) formed and factored explicitly; beyond, conjugate gradients (0: always).</summary>
    /// <remarks>4,096² float64 is 128 MiB and its Cholesky 2·10¹⁰ flops, about a second on two cores; a conjugate-gradient
    /// iteration on a stored J costs 4RP flops, so a few hundred of them are cheaper than forming JᵀJ once beyond that.</remarks>
    public int GramLimit { get; init; } = 4096;

    public const int MaxTries = 20;

    /// <summary>Conjugate-gradient iterations at most per direction, and the relative residual at which they stop.</summary>
    public int MaxIterations { get; init; } = 100;
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>
    /// Conjugate gradients also stop when the damped quadratic model φ(δ) = ½δᵀ(JᵀJ + μI)δ + rᵀJδ has stopped falling:
    /// at iteration i, once its fall over the last k = max(10, i/10) iterations is below k·<see cref="Progress"/> of its
    /// value (Martens' rule for truncated Newton, 2010; 0 turns it off). A Levenberg–Marquardt step needs the model's
    /// decrease, not the exact minimizer: on a network's Jacobian the relative residual falls slowly for tens of
    /// iterations that no longer lower the model, and each iteration is a pass through the whole sample.
    /// </summary>
    public double Progress { get; init; } = 5e-4;

    private readonly NielsenDamping _damping = new(1, damping);

    /// <summary>The current relative damping λ.</summary>
    public double Damping => _damping[0];

    /// <summary>The damping rule's state (λ and its growth factor ν), for a checkpoint.</summary>
    public (double Lambda, double Nu) DampingState
    {
        get => _damping.State(0);
        set => _damping.Restore(0, value.Lambda, value.Nu);
    }

    /// <summary>Steps taken, trial steps rejected and conjugate-gradient iterations since this optimizer was made.</summary>
    public long Taken { get; internal set; }
    public long Rejected { get; internal set; }
    public long Iterations { get; internal set; }

    /// <summary>How the last direction was solved.</summary>
    public string? LastSolver { get; private set; }

    /// <summary>
    /// One step from the current parameters, whose loss is <paramref name="loss"/>: tries damped directions until
    /// <paramref name="lossAt"/> (the true loss at the parameters as they are set when it is called, penalties and all) is
    /// lower. Returns the loss after the step, or <paramref name="loss"/> with the parameters unchanged when no damping helps.
    /// </summary>
    public double Step(ILinearization system, double loss, Func<double> lossAt, double lossPerSquare = 1)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var saved = parameters.Select(p => p.detach().clone()).ToArray();
        var r = system.Residuals;
        var diagonal = system.ColumnSquares();
        double scale = diagonal.sum().ToDouble() / system.Columns;
        if (!(scale > 0) || !double.IsFinite(scale)) return loss;
        double before = r.square().sum().ToDouble();
        using var solver = Solver(system, diagonal);
        for (int attempt = 0; attempt < MaxTries; attempt++)
        {
            using var attemptScope = NewDisposeScope();
            double mu = _damping[0] * scale;
            var delta = solver.Direction(mu);
            if (delta is not null)
            {
                double predicted = (before - system.Times(delta).add_(r).square().sum().ToDouble()) * lossPerSquare;
                Apply(saved, delta);
                double trial = lossAt();
                if (trial < loss)   // false for NaN
                {
                    _damping.Taken(0, NielsenDamping.Gain(loss, trial, predicted));
                    Taken++;
                    return trial;
                }
                for (int i = 0; i < parameters.Count; i++) parameters[i].copy_(saved[i]);
            }
            Rejected++;
            _damping.Rejected(0);
            if (_damping[0] >= NielsenDamping.Max) break;
        }
        return loss;
    }

    /// <summary>The direction −(JᵀJ + μI)⁻¹ Jᵀr for an absolute damping μ, by the solver <see cref="Step"/> would choose; null when it fails.</summary>
    public Tensor? Direction(ILinearization system, double mu)
    {
        using var scope = NewDisposeScope();
        using var solver = Solver(system, system.ColumnSquares());
        return solver.Direction(mu)?.MoveToOuterDisposeScope();
    }

    private IDirectionSolver Solver(ILinearization system, Tensor diagonal)
    {
        var j = system.Explicit;
        if (j is not null && Math.Min(j.shape[0], j.shape[1]) <= GramLimit && GramLimit > 0)
        {
            LastSolver = j.shape[0] <= j.shape[1] ? "cholesky-rows" : "cholesky-normal";
            return new CholeskySolver(system.Residuals, j);
        }
        LastSolver = "cg";
        return new ConjugateGradientSolver(this, system, diagonal);
    }

    private interface IDirectionSolver : IDisposable
    {
        Tensor? Direction(double mu);
    }

    /// <summary>The Gram matrix in the smaller of its two forms, formed once for every damping tried.</summary>
    private sealed class CholeskySolver : IDirectionSolver
    {
        private readonly Tensor _r, _jacobian, _gram;
        private readonly bool _fewRows;

        public CholeskySolver(Tensor r, Tensor jacobian)
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

    /// <summary>Preconditioned conjugate gradients on (JᵀJ + μI) δ = −Jᵀr, from δ = 0.</summary>
    private sealed class ConjugateGradientSolver(GaussNewton owner, ILinearization system, Tensor diagonal) : IDirectionSolver
    {
        private readonly Tensor _gradient = system.TransposeTimes(system.Residuals);

        public Tensor? Direction(double mu)
        {
            using var scope = NewDisposeScope();
            using var muScalar = mu.ToScalar();
            var inverse = diagonal.add(muScalar).reciprocal_();
            var b = _gradient.neg();
            double bNorm = b.norm().ToDouble();
            if (!(bNorm > 0) || !double.IsFinite(bNorm)) return null;
            var x = torch.zeros_like(b);
            var residual = b.clone();
            var z = residual.mul(inverse);
            var p = z.clone();
            double rz = residual.dot(z).ToDouble();
            var model = new List<double>();
            for (int k = 0; k < owner.MaxIterations; k++)
            {
                using var iteration = NewDisposeScope();
                var ap = system.TransposeTimes(system.Times(p)).add_(p.mul(muScalar));
                double pap = p.dot(ap).ToDouble();
                owner.Iterations++;
                if (!(pap > 0) || !double.IsFinite(pap)) break;
                double alpha = rz / pap;
                using (var a = alpha.ToScalar()) x.add_(p.mul(a));
                using (var a = (-alpha).ToScalar()) residual.add_(ap.mul(a));
                if (residual.norm().ToDouble() <= owner.Tolerance * bNorm) break;
                if (owner.Progress > 0 && Stalled(model, -0.5 * x.dot(b.add(residual)).ToDouble(), owner.Progress)) break;
                z = residual.mul(inverse);
                double rzNext = residual.dot(z).ToDouble();
                Tensor next;
                using (var beta = (rzNext / rz).ToScalar()) next = z.add(p.mul(beta));
                p.Dispose();
                p = next.MoveToOuterDisposeScope();
                rz = rzNext;
            }
            if (!x.isfinite().all().item<bool>()) return null;
            return x.MoveToOuterDisposeScope();
        }

        /// <summary>Records φ after iteration i = values.Count and says whether its fall over the last k iterations is below k·progress of it.</summary>
        private static bool Stalled(List<double> values, double phi, double progress)
        {
            values.Add(phi);
            int i = values.Count, k = Math.Max(10, i / 10);
            return i > k && phi < 0 && (phi - values[i - 1 - k]) / phi < k * progress;
        }

        public void Dispose() => _gradient.Dispose();
    }

    private void Apply(Tensor[] saved, Tensor delta)
    {
        long at = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            long n = saved[i].numel();
            parameters[i].copy_(saved[i].add(delta.narrow(0, at, n).view(saved[i].shape).to(saved[i].dtype)));
            at += n;
        }
        if (at != delta.shape[0]) throw new ArgumentException($"the Jacobian has {delta.shape[0]} columns, the parameters {at} entries");
    }
}
