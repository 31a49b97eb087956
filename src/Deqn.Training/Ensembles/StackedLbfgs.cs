using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Ensembles;

/// <summary>
/// L-BFGS for the K members of a <see cref="NetworkStack"/>, each member minimizing its own loss as a separate L-BFGS run
/// would: its own history of (s, y) pairs, its own direction, step length and convergence. All members advance together,
/// so the number of tensor ops per iteration does not grow with K.
/// </summary>
/// <remarks>
/// <para>Line search: batched <b>backtracking Armijo</b> (sufficient decrease with c1 = 1e-4), not the strong-Wolfe search of
/// the single-network optimizer. The first trial step is lr, or min(1, 1/‖g‖₁)·lr on a member's first iteration and after its
/// history was reset (as PyTorch's first iteration); a member whose trial fails is halved, up to 20 times, while members that
/// already passed keep their step. Every trial is one stacked forward and backward of all members.</para>
/// <para>Per member, as PyTorch's LBFGS: a pair is kept only when yᵀs &gt; 1e-10; the initial Hessian is γI with
/// γ = sᵀy / yᵀy of the newest kept pair. Unlike PyTorch, a member that rejects a pair still uses up that iteration's slot in
/// the history ring (the slot holds nothing for it), so after rejections it remembers fewer than m pairs. There is no
/// max_eval budget (a member's line search is bounded by the halvings instead).</para>
/// <para>A member converges, and is no longer changed by any later <see cref="Step"/>, when max|g| ≤ tolerance_grad, when
/// its loss changed by less than tolerance_change in an iteration, when its step max|t·d| ≤ tolerance_change, or when its
/// direction is not a descent direction (gᵀd ≥ −tolerance_change, PyTorch's test) or its line search fails even after its history was reset to
/// steepest descent. PyTorch ends only the current step() on these conditions; here they are final, because a full-batch
/// member that met them would meet them again at the next step. A non-finite loss or gradient makes a member fail its
/// line search and so converge; it never affects the other members.</para>
/// </remarks>
public sealed class StackedLbfgs : IDisposable
{
    private const double C1 = 1e-4;
    private const int MaxHalvings = 20;
    private const double MinCurvature = 1e-10;
    private static readonly byte[] Magic = "DEQNSLB1"u8.ToArray();

    private readonly Parameter[] _parameters;
    private readonly long[] _sizes;
    private readonly int _members;
    private readonly long _flat;
    private readonly ScalarType _dtype;

    // Persistent state, owned by no dispose scope.
    private readonly Tensor _s;      // [m, K, P]
    private readonly Tensor _y;      // [m, K, P]
    private readonly Tensor _rho;    // [m, K], 0 where a member holds no pair
    private readonly Tensor _gamma;  // [K]
    private readonly Tensor _prevGrad; // [K, P]
    private readonly Tensor _prevStep; // [K, P], t·d of the last iteration (0 for members that did not move)
    private bool _hasPrevious;
    private long _slots;             // pairs written so far (the ring position)
    private readonly bool[] _fresh;  // next direction is steepest descent with the cautious first step
    private readonly bool[] _converged;
    private readonly bool[] _excluded;
    private readonly double[] _learningRates;
    private bool _disposed;

    public StackedLbfgs(NetworkStack stack, double lr = 1, int historySize = 10, int maxIterations = 20,
        double toleranceGrad = 1e-7, double toleranceChange = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (!(lr > 0 && double.IsFinite(lr))) throw new ArgumentException($"learning rate must be > 0 (got {lr})");
        if (historySize < 1) throw new ArgumentException($"history size must be >= 1 (got {historySize})");
        if (maxIterations < 1) throw new ArgumentException($"max iterations must be >= 1 (got {maxIterations})");
        if (!(toleranceGrad >= 0 && double.IsFinite(toleranceGrad))) throw new ArgumentException($"tolerance on the gradient must be >= 0 (got {toleranceGrad})");
        if (!(toleranceChange >= 0 && double.IsFinite(toleranceChange))) throw new ArgumentException($"tolerance on the change must be >= 0 (got {toleranceChange})");
        _parameters = stack.parameters().ToArray();
        _members = stack.Members;
        _dtype = stack.DType;
        _sizes = _parameters.Select(p => p.numel() / _members).ToArray();
        _flat = _sizes.Sum();
        HistorySize = historySize;
        MaxIterations = maxIterations;
        ToleranceGrad = toleranceGrad;
        ToleranceChange = toleranceChange;
        _learningRates = Enumerable.Repeat(lr, _members).ToArray();
        _fresh = Enumerable.Repeat(true, _members).ToArray();
        _converged = new bool[_members];
        _excluded = new bool[_members];

        _s = torch.zeros(historySize, _members, _flat, dtype: _dtype).DetachFromDisposeScope();
        _y = torch.zeros(historySize, _members, _flat, dtype: _dtype).DetachFromDisposeScope();
        _rho = torch.zeros(historySize, _members, dtype: _dtype).DetachFromDisposeScope();
        _gamma = torch.ones(_members, dtype: _dtype).DetachFromDisposeScope();
        _prevGrad = torch.zeros(_members, _flat, dtype: _dtype).DetachFromDisposeScope();
        _prevStep = torch.zeros(_members, _flat, dtype: _dtype).DetachFromDisposeScope();
    }

    public int Members => _members;
    public int HistorySize { get; }
    public int MaxIterations { get; }
    public double ToleranceGrad { get; }
    public double ToleranceChange { get; }

    /// <summary>Per member: true once it has converged (see the remarks); it is then left unchanged.</summary>
    public bool[] Converged => (bool[])_converged.Clone();

    /// <summary>Iterations run over the optimizer's lifetime (each advances every member that has not stopped).</summary>
    public long Iterations { get; private set; }

    /// <summary>Stacked closure evaluations (forward and backward of all members) over the optimizer's lifetime.</summary>
    public long Evaluations { get; private set; }

    /// <summary>Member k's learning rate (the trial step length; 1 is the usual choice for L-BFGS).</summary>
    public double GetLearningRate(int member) => _learningRates[CheckMember(member)];

    public void SetLearningRate(int member, double lr)
    {
        if (!(lr >= 0 && double.IsFinite(lr))) throw new ArgumentException($"learning rate must be >= 0 (got {lr})");
        _learningRates[CheckMember(member)] = lr;
    }

    /// <summary>Stops updating member k from now on (e.g. it stopped early); unlike convergence, not reported by <see cref="Converged"/>.</summary>
    public void Exclude(int member) => _excluded[CheckMember(member)] = true;

    /// <summary>
    /// Runs up to <see cref="MaxIterations"/> iterations. <paramref name="closure"/> runs forward on all members, calls
    /// backward on the sum of the members' losses and returns the per-member loss vector [K]; gradients are cleared before
    /// each call (the closure may clear them too). Tensors it creates are disposed when it returns.
    /// </summary>
    /// <returns>The per-member losses [K] (float64) at the weights before the step, in the caller's dispose scope.</returns>
    public Tensor Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int K = _members;
        Tensor result;
        using (var outer = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var (loss, grad) = Evaluate(closure);
            result = torch.tensor(loss, dtype: ScalarType.Float64);
            outer.MoveToOuter(result);
            double[] gmax = Host(grad.abs().amax([-1L]));
            for (int k = 0; k < K; k++)
                if (gmax[k] <= ToleranceGrad) _converged[k] = true;

            for (int iteration = 0; iteration < MaxIterations; iteration++)
            {
                bool[] active = Active();
                if (!active.Any(a => a)) break;
                using var scope = torch.NewDisposeScope();
                var activeMask = Mask(active);
                Iterations++;

                if (_hasPrevious) AddPair(grad, activeMask);

                // Direction; members without pairs (fresh ones) get −g since their ρ are 0 and γ is 1.
                var d = TwoLoop(grad);
                double[] gtd = Host(Dot(grad, d));
                var reset = new bool[K];
                for (int k = 0; k < K; k++)
                    if (active[k] && !(gtd[k] < -ToleranceChange) && !_fresh[k]) reset[k] = true;
                if (reset.Any(r => r))
                {
                    ResetHistory(reset);
                    d = torch.where(Mask(reset).unsqueeze(1), grad.neg(), d);
                    gtd = Host(Dot(grad, d));
                }
                for (int k = 0; k < K; k++)
                {
                    if (!active[k]) continue;
                    if (!(gtd[k] < -ToleranceChange))
                    {
                        _converged[k] = true;
                        active[k] = false;
                    }
                }
                activeMask = Mask(active);
                d = torch.where(activeMask.unsqueeze(1), d, torch.zeros_like(d));

                // Trial steps: lr, or the cautious min(1, 1/‖g‖₁)·lr after a (re)start.
                var t = new double[K];
                var startedFresh = new bool[K];
                double[]? l1 = _fresh.Where((f, k) => f && active[k]).Any() ? Host(grad.abs().sum([-1L])) : null;
                for (int k = 0; k < K; k++)
                {
                    if (!active[k]) continue;
                    startedFresh[k] = _fresh[k];
                    t[k] = _fresh[k] ? Math.Min(1.0, 1.0 / l1![k]) * _learningRates[k] : _learningRates[k];
                    _fresh[k] = false;
                }

                var (newLoss, newGrad, failed) = LineSearch(closure, loss, grad, d, gtd, t, active);
                var td = d.mul(Column(t));
                double[] stepMax = Host(td.abs().amax([-1L]));
                double[] newGradMax = Host(newGrad.abs().amax([-1L]));

                _prevGrad.copy_(grad);
                _prevStep.copy_(td);
                _hasPrevious = true;
                grad.copy_(newGrad);
                for (int k = 0; k < K; k++)
                {
                    if (!active[k]) continue;
                    if (failed[k])
                    {
                        // A failed search from steepest descent means nothing more can be gained; otherwise restart once.
                        if (startedFresh[k]) _converged[k] = true;
                        else ResetHistory(OnlyMember(k));
                        continue;
                    }
                    if (newGradMax[k] <= ToleranceGrad || stepMax[k] <= ToleranceChange || Math.Abs(newLoss[k] - loss[k]) < ToleranceChange)
                        _converged[k] = true;
                    loss[k] = newLoss[k];
                }
            }
        }
        return result;
    }

    private bool[] Active()
    {
        var a = new bool[_members];
        for (int k = 0; k < _members; k++) a[k] = !_converged[k] && !_excluded[k];
        return a;
    }

    /// <summary>Stores (s, y) of the last iteration in the next ring slot for members that moved and whose yᵀs is positive.</summary>
    private void AddPair(Tensor grad, Tensor activeMask)
    {
        var y = grad.sub(_prevGrad);
        var s = _prevStep;
        var ys = Dot(y, s);
        var yy = Dot(y, y);
        var accept = activeMask.logical_and(ys.gt(MinCurvature));
        var acceptColumn = accept.unsqueeze(1);
        long slot = _slots % HistorySize;
        var zero = torch.zeros_like(s);
        _s[slot].copy_(torch.where(acceptColumn, s, zero));
        _y[slot].copy_(torch.where(acceptColumn, y, zero));
        // where() rather than masks times values: a rejected member's ys may be 0 or NaN.
        _rho[slot].copy_(torch.where(accept, ys.reciprocal(), torch.zeros_like(ys)));
        _gamma.copy_(torch.where(accept, ys.div(yy), _gamma));
        _slots++;
    }

    /// <summary>d = −H g per member by the two-loop recursion, newest pair first.</summary>
    private Tensor TwoLoop(Tensor grad)
    {
        int count = (int)Math.Min(_slots, HistorySize);
        var q = grad.neg();
        var alphas = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            long slot = (_slots - 1 - i) % HistorySize;
            alphas[i] = Dot(_s[slot], q).mul_(_rho[slot]);
            q.addcmul_(_y[slot], alphas[i].unsqueeze(1), MinusOne);
        }
        var r = q.mul_(_gamma.unsqueeze(1));
        for (int i = count - 1; i >= 0; i--)
        {
            long slot = (_slots - 1 - i) % HistorySize;
            var beta = Dot(_y[slot], r).mul_(_rho[slot]);
            r.addcmul_(_s[slot], alphas[i].sub(beta).unsqueeze(1), One);
        }
        return r;
    }

    /// <summary>
    /// Backtracking Armijo search from the current weights along d with per-member trial steps t (updated in place; 0 for
    /// members whose search failed). Leaves the weights at the accepted points; returns their losses and gradients.
    /// </summary>
    private (double[] Loss, Tensor Grad, bool[] Failed) LineSearch(Func<Tensor> closure, double[] f0, Tensor g0, Tensor d,
        double[] gtd, double[] t, bool[] active)
    {
        int K = _members;
        var x0 = FlatParameters();
        var newLoss = (double[])f0.Clone();
        var newGrad = g0.clone();
        var pending = (bool[])active.Clone();
        for (int trial = 0; trial <= MaxHalvings && pending.Any(p => p); trial++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                SetParameters(x0.addcmul(d, Column(t), 1));
                var (f, g) = Evaluate(closure);
                var accepted = new bool[K];
                for (int k = 0; k < K; k++)
                {
                    if (!pending[k]) continue;
                    // False for NaN: an overflowing trial counts as too long.
                    if (f[k] <= f0[k] + C1 * t[k] * gtd[k])
                    {
                        accepted[k] = true;
                        pending[k] = false;
                        newLoss[k] = f[k];
                    }
                    else t[k] *= 0.5;
                }
                if (accepted.Any(a => a)) newGrad.copy_(torch.where(Mask(accepted).unsqueeze(1), g, newGrad));
            }
        }
        var failed = pending;
        if (failed.Any(p => p))
        {
            for (int k = 0; k < K; k++) if (failed[k]) t[k] = 0;
            using var scope = torch.NewDisposeScope();
            // A failed member's direction may hold NaN, and 0·NaN is NaN: clear it rather than scale it.
            d.masked_fill_(Mask(failed).unsqueeze(1), Zero);
            SetParameters(x0.addcmul(d, Column(t), 1));
        }
        return (newLoss, newGrad, failed);
    }

    /// <summary>Runs the closure with autograd on; returns the losses and the flat gradient [K, P] (in the current scope).</summary>
    private (double[] Loss, Tensor Grad) Evaluate(Func<Tensor> closure)
    {
        foreach (var p in _parameters) p.grad = null;
        double[] loss;
        using (var scope = torch.NewDisposeScope())
        using (torch.enable_grad())
        {
            var l = closure();
            if (l is null || l.dim() != 1 || l.shape[0] != _members)
                throw new InvalidOperationException($"the closure must return the {_members} members' losses as a vector [{_members}]");
            loss = Host(l.detach());
        }
        Evaluations++;
        var parts = new Tensor[_parameters.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = _parameters[i];
            parts[i] = p.grad is { } g ? g.reshape(_members, -1).to(_dtype) : torch.zeros(_members, _sizes[i], dtype: _dtype);
        }
        return (loss, torch.cat(parts, 1));
    }

    private Tensor FlatParameters() => torch.cat(_parameters.Select(p => p.detach().reshape(_members, -1)).ToArray(), 1);

    private void SetParameters(Tensor flat)
    {
        long offset = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var view = _parameters[i].view(_members, -1);
            using var part = flat.narrow(1, offset, _sizes[i]);
            view.copy_(part);
            offset += _sizes[i];
        }
    }

    private void ResetHistory(bool[] members)
    {
        using var scope = torch.NewDisposeScope();
        var m = Mask(members);
        _rho.masked_fill_(m.unsqueeze(0), Zero);
        _gamma.masked_fill_(m, One);
        for (int k = 0; k < _members; k++) if (members[k]) _fresh[k] = true;
    }

    private bool[] OnlyMember(int k)
    {
        var m = new bool[_members];
        m[k] = true;
        return m;
    }

    private static Tensor Dot(Tensor a, Tensor b) => a.mul(b).sum([-1L]);

    // Constants handed to libtorch as Scalars for the life of the process: a temporary Scalar can be finalized by the
    // GC while native code still reads it (see FirstOrderOptimizer.S).
    private static readonly Scalar Zero = 0.0.ToScalar(), One = 1.0.ToScalar(), MinusOne = (-1.0).ToScalar();

    private static Tensor Mask(bool[] members) => torch.tensor(members);

    private Tensor Column(double[] values) => torch.tensor(values, dtype: _dtype).unsqueeze(1);

    private static double[] Host(Tensor t)
    {
        using var d = t.to(ScalarType.Float64).contiguous();
        return d.data<double>().ToArray();
    }

    private int CheckMember(int k)
    {
        if (k < 0 || k >= _members) throw new ArgumentOutOfRangeException(nameof(k), k, $"the stack has {_members} members");
        return k;
    }

    /// <summary>Writes the history, the per-member flags and learning rates (hyper-parameters are not stored).</summary>
    public void SaveState(Stream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(_members);
        w.Write(HistorySize);
        w.Write(_flat);
        w.Write((int)_dtype);
        w.Write(_hasPrevious);
        w.Write(_slots);
        w.Write(Iterations);
        w.Write(Evaluations);
        for (int k = 0; k < _members; k++)
        {
            w.Write(_fresh[k]);
            w.Write(_converged[k]);
            w.Write(_excluded[k]);
            w.Write(_learningRates[k]);
        }
        w.Flush();
        foreach (var t in StateTensors())
        {
            using var scope = torch.NewDisposeScope();
            t.contiguous().WriteBytesToStream(stream);
        }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote for a stack of the same shape, members and history size.</summary>
    public void LoadState(Stream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("not a saved stacked L-BFGS state");
        int members = r.ReadInt32(), history = r.ReadInt32();
        long flat = r.ReadInt64();
        var dtype = (ScalarType)r.ReadInt32();
        if (members != _members || history != HistorySize || flat != _flat || dtype != _dtype)
            throw new InvalidDataException($"the saved state is for {members} members × {flat} {dtype} parameters with history {history}; this optimizer has {_members} × {_flat} {_dtype} with history {HistorySize}");
        bool hasPrevious = r.ReadBoolean();
        long slots = r.ReadInt64(), iterations = r.ReadInt64(), evaluations = r.ReadInt64();
        var fresh = new bool[members];
        var converged = new bool[members];
        var excluded = new bool[members];
        var rates = new double[members];
        for (int k = 0; k < members; k++)
        {
            fresh[k] = r.ReadBoolean();
            converged[k] = r.ReadBoolean();
            excluded[k] = r.ReadBoolean();
            rates[k] = r.ReadDouble();
        }
        var read = new List<Tensor>();
        try
        {
            foreach (var t in StateTensors())
            {
                var copy = torch.empty(t.shape, dtype: _dtype).DetachFromDisposeScope();
                read.Add(copy);
                copy.ReadBytesFromStream(stream);
            }
            var targets = StateTensors().ToArray();
            for (int i = 0; i < targets.Length; i++) targets[i].copy_(read[i]);
        }
        finally
        {
            foreach (var t in read) t.Dispose();
        }
        (_hasPrevious, _slots, Iterations, Evaluations) = (hasPrevious, slots, iterations, evaluations);
        fresh.CopyTo(_fresh, 0);
        converged.CopyTo(_converged, 0);
        excluded.CopyTo(_excluded, 0);
        rates.CopyTo(_learningRates, 0);
    }

    private IEnumerable<Tensor> StateTensors() => [_s, _y, _rho, _gamma, _prevGrad, _prevStep];

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in StateTensors()) t.Dispose();
    }
}
