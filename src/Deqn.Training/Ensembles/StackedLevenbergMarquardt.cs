using TorchSharp;
using Deqn.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Ensembles;

/// <summary>
/// Levenberg–Marquardt for the K members of a <see cref="NetworkStack"/> fitted by least squares (MSE, one output), each
/// with its own damping, acceptance and stop: MATLAB's <c>trainlm</c> for many small regressions at once.
/// </summary>
/// <remarks>
/// <para>Member k's step is δ = −Jᵀ(JJᵀ + μ·s·I)⁻¹ r, with r its n residuals, J [n, P] their Jacobian, s = trace(JJᵀ)/P (the
/// mean diagonal of JᵀJ, so μ means the same whatever the scale) and μ starting at 1e-3: the Gauss–Newton step in its
/// n × n form, cheap while n is at most a few thousand. J is never formed: a dense layer's weight gradient for row i is
/// aᵢ ⊗ dᵢ (aᵢ the layer's input, dᵢ the adjoint of the output at the layer's output), so
/// JJᵀ = Σ_layers (AAᵀ + 1) ∘ (DDᵀ) and Jᵀy = Σ_layers (Aᵀ diag(y) D, Σᵢ yᵢdᵢ): four n × n × width products per
/// iteration for a two-hidden-layer net (in the network's precision; the damped system is solved in float64 by Cholesky,
/// factoring only the members still looking for a step). A step is taken when the member's loss falls, and the damping
/// then follows Nielsen's rule: μ ← μ·max(1/3, 1 − (2ρ − 1)³) with ρ the actual fall over the fall the linear model
/// predicts; a rejected step multiplies μ by ν (2, doubling at each rejection in a row) and is retried, up to 20 times.</para>
/// <para>A member stops (<see cref="Converged"/>) when its loss is at most <see cref="LossFloor"/>, when no damping lowers
/// it, or when over the last <see cref="Window"/> iterations it fell by less than the fraction
/// <see cref="RelativeTolerance"/> (<see cref="Stalled"/>).</para>
/// </remarks>
public sealed class StackedLevenbergMarquardt : IDisposable
{
    public const double InitialDamping = NielsenDamping.Initial;

    /// <summary>
    /// Training rows up to which a stack fits all of its rows with Levenberg–Marquardt when asked to (lm); beyond, the
    /// n × n system (n³/3 per factorization, n² floats per member) costs more than it gains, and lm fits a subsample
    /// (<see cref="Rows"/>) before L-BFGS continues on all rows.
    /// </summary>
    /// <remarks>Measured on trig1, poly2, mixed1 at N = 1000, 3 seeds (docs/approx-defaults.md): lm on all rows 39.8 s
    /// against scikit-learn's 20.1 s; lm on 500 rows then L-BFGS on all 15.0 s against 21.6 s, the same errors.</remarks>
    public const int MaxRows = 500;

    /// <summary>
    /// The rows Levenberg–Marquardt fits of <paramref name="n"/> training rows: all up to <see cref="MaxRows"/>, beyond
    /// half of them, between MaxRows and twice that (L-BFGS then continues on all rows).
    /// </summary>
    public static int Rows(int n) => n <= MaxRows ? n : Math.Clamp(n / 2, MaxRows, 2 * MaxRows);

    /// <summary>
    /// Beyond <see cref="MaxRows"/> an experiment trains this many times its configured epochs: up to two of those
    /// shares fitting the subsample with Levenberg–Marquardt, then L-BFGS on all rows for the rest.
    /// </summary>
    public const int SubsampleEpochFactor = 3;

    /// <summary>Whether the subsample phase is over after <paramref name="completed"/> of <paramref name="total"/> epochs (two thirds).</summary>
    public static bool SubsampleEpochsUsed(int completed, int total) => SubsampleEpochFactor * completed >= (SubsampleEpochFactor - 1) * total;
        private const int MaxTries = 20;

    private readonly NetworkStack _stack;
    private readonly (Parameter Weight, Parameter Bias)[] _layers;
    private readonly int _members;
    private readonly long _parametersPerMember;
    private readonly NielsenDamping _damping;
    private readonly bool[] _converged, _excluded;
    private readonly List<double>[] _losses;

    public StackedLevenbergMarquardt(NetworkStack stack, double relativeTolerance = 1e-3, int window = 5, double lossFloor = 1e-20)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (!stack.IsRowwiseDense) throw new ArgumentException("Levenberg–Marquardt needs a stack of dense layers and activations only (no dropout)");
        if (stack.Spec.Outputs != 1) throw new ArgumentException($"Levenberg–Marquardt fits one output (the network has {stack.Spec.Outputs})");
        if (!(relativeTolerance >= 0 && relativeTolerance < 1)) throw new ArgumentException($"relative tolerance must be in [0, 1) (got {relativeTolerance})");
        if (window < 1) throw new ArgumentException($"window must be at least 1 (got {window})");
        if (!(lossFloor >= 0)) throw new ArgumentException($"loss floor must be >= 0 (got {lossFloor})");
        _stack = stack;
        _layers = stack.Layers().Select(l => (l.Weight, l.Bias)).ToArray();
        _members = stack.Members;
        _parametersPerMember = _layers.Sum(l => l.Weight.numel() + l.Bias.numel()) / _members;
        _damping = new NielsenDamping(_members, InitialDamping);
        _converged = new bool[_members];
        _excluded = new bool[_members];
        _losses = Enumerable.Range(0, _members).Select(_ => new List<double>()).ToArray();
        RelativeTolerance = relativeTolerance;
        Window = window;
        LossFloor = lossFloor;
    }

    public double RelativeTolerance { get; }
    public int Window { get; }
    public double LossFloor { get; }

    /// <summary>Members that stopped on their own: loss floor, no damping helps, or the loss stalled.</summary>
    public bool[] Converged => (bool[])_converged.Clone();

    /// <summary>Each member's current damping μ.</summary>
    public double[] Damping => _damping.Values;

    /// <summary>Iterations run and trial steps rejected since this optimizer was made.</summary>
    public long Iterations { get; private set; }
    public long Rejected { get; private set; }

    /// <summary>Stops updating member k (e.g. it stopped early).</summary>
    public void Exclude(int member) => _excluded[member] = true;

    /// <summary>
    /// True when the newest of <paramref name="losses"/> is more than (1 − tol) of the loss <paramref name="window"/>
    /// iterations before it: fewer than window + 1 values never stall.
    /// </summary>
    public static bool Stalled(IReadOnlyList<double> losses, int window, double tol)
    {
        if (losses.Count <= window) return false;
        double then = losses[^(window + 1)], now = losses[^1];
        return now > (1 - tol) * then;
    }

    /// <summary>
    /// One iteration for every active member on features [K, n, inputs] and targets [K, n, 1] (the stack's dtype).
    /// Returns the members' MSE [K] before the step.
    /// </summary>
    public double[] Step(Tensor features, Tensor targets)
    {
        int K = _members;
        var active = Enumerable.Range(0, K).Select(k => !_converged[k] && !_excluded[k]).ToArray();
        using var scope = NewDisposeScope();
        var trace = new List<(Tensor Input, Tensor Output)>();
        Tensor output;
        Tensor[] adjoints;
        using (torch.enable_grad())
        {
            output = _stack.ForwardTraced(features, trace);
            adjoints = torch.autograd.grad([output.sum()], trace.Select(t => t.Output).ToList()).ToArray();
        }
        var f64 = ScalarType.Float64;
        var residuals = output.detach().to(f64).sub(targets.to(f64));          // [K, n, 1]
        double[] loss = Host(residuals.square().mean([1L, 2L]));
        Iterations++;
        if (!active.Any(a => a)) return loss;

        long n = features.shape[1];
        var inputs = trace.Select(t => t.Input.detach().to(f64)).ToArray();
        var ds = adjoints.Select(a => a.detach().to(f64)).ToArray();
        // The Gram matrix in the network's own precision (float32 halves its cost); its solve is float64.
        Tensor gram = torch.zeros(K, n, n, dtype: output.dtype);
        for (int l = 0; l < inputs.Length; l++)
        {
            var a = trace[l].Input.detach();
            var d = adjoints[l].detach();
            var aa = a.bmm(a.transpose(1, 2)).add_(OneScalar);
            gram.add_(aa.mul_(d.bmm(d.transpose(1, 2))));
        }
        gram = gram.to(f64);
        var scale = gram.diagonal(0, 1, 2).sum([1L]).div_(_parametersPerMember);   // [K]
        double[] scales = Host(scale);

        using var noGrad = torch.no_grad();
        var saved = _layers.Select(l => (W: l.Weight.detach().clone(), B: l.Bias.detach().clone())).ToArray();
        var kept = saved.Select(s => (W: s.W.clone(), B: s.B.clone())).ToArray();   // each member's weights after this iteration
        var pending = active.Select((a, k) => a && double.IsFinite(scales[k]) && scales[k] > 0).ToArray();
        var newLoss = (double[])loss.Clone();
        var accepted = new bool[K];
        for (int attempt = 0; attempt < MaxTries && pending.Any(p => p); attempt++)
        {
            using var attemptScope = NewDisposeScope();
            // Only the members still looking for a step are factored.
            int[] rows = Enumerable.Range(0, K).Where(k => pending[k]).ToArray();
            var index = torch.tensor(rows.Select(k => (long)k).ToArray());
            var mu = rows.Select(k => _damping[k] * scales[k]).ToArray();
            var system = gram.index_select(0, index);
            system.diagonal(0, 1, 2).add_(torch.tensor(mu, dtype: f64).unsqueeze(1));
            var (factor, info) = torch.linalg.cholesky_ex(system);
            long[] failedRows = info.to(ScalarType.Int64).data<long>().ToArray();
            var r = residuals.index_select(0, index);
            var half = torch.linalg.solve_triangular(factor, r, upper: false);
            var ySub = torch.linalg.solve_triangular(factor.transpose(1, 2), half, upper: true);   // (G + μI)⁻¹ r
            double[] ySquared = Host(ySub.square().sum([1L, 2L]));
            double[] rSquared = Host(r.square().sum([1L, 2L]));
            var y = torch.zeros(K, n, 1, dtype: f64).index_copy_(0, index, ySub);
            var tryMember = new bool[K];
            for (int i = 0; i < rows.Length; i++) tryMember[rows[i]] = failedRows[i] == 0;
            var trialMask = torch.tensor(tryMember).view(K, 1, 1);
            for (int l = 0; l < _layers.Length; l++)
            {
                var yd = ds[l].mul(y);                                              // [K, n, out]
                var dW = inputs[l].transpose(1, 2).bmm(yd);                        // [K, in, out]
                var dB = yd.sum([1L], keepdim: true);                              // [K, 1, out]
                var (w, b) = _layers[l];
                w.copy_(torch.where(trialMask, saved[l].W.to(f64).sub(dW).to(w.dtype), kept[l].W));
                b.copy_(torch.where(trialMask, saved[l].B.to(f64).sub(dB).to(b.dtype), kept[l].B));
            }
            double[] trial = Host(_stack.forward(features).to(f64).sub(targets.to(f64)).square().mean([1L, 2L]));
            var take = new bool[K];
            for (int i = 0; i < rows.Length; i++)
            {
                int k = rows[i];
                // Gain ratio: the actual fall of the loss over the fall the linear model predicts, ‖r‖² − μ²‖y‖² (the model's
                // residual at the step is r − Gy = μy).
                double predicted = (rSquared[i] - mu[i] * mu[i] * ySquared[i]) / n;
                if (tryMember[k] && trial[k] < loss[k])   // false for NaN
                {
                    take[k] = true;
                    pending[k] = false;
                    accepted[k] = true;
                    newLoss[k] = trial[k];
                    _damping.Taken(k, NielsenDamping.Gain(loss[k], trial[k], predicted));
                }
                else
                {
                    Rejected++;
                    _damping.Rejected(k);
                }
            }
            var takeMask = torch.tensor(take).view(K, 1, 1);
            for (int l = 0; l < _layers.Length; l++)
            {
                kept[l].W.copy_(torch.where(takeMask, _layers[l].Weight, kept[l].W));
                kept[l].B.copy_(torch.where(takeMask, _layers[l].Bias, kept[l].B));
            }
        }
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l].Weight.copy_(kept[l].W);
            _layers[l].Bias.copy_(kept[l].B);
        }
        for (int k = 0; k < K; k++)
        {
            if (!active[k]) continue;
            if (!accepted[k]) { _converged[k] = true; continue; }
            if (_losses[k].Count == 0) _losses[k].Add(loss[k]);
            _losses[k].Add(newLoss[k]);
            if (newLoss[k] <= LossFloor || Stalled(_losses[k], Window, RelativeTolerance)) _converged[k] = true;
        }
        return loss;
    }

    private static readonly Scalar OneScalar = 1.0.ToScalar();

    private static double[] Host(Tensor t)
    {
        using var d = t.to(ScalarType.Float64).contiguous();
        return d.data<double>().ToArray();
    }

    public void Dispose()
    {
    }
}
