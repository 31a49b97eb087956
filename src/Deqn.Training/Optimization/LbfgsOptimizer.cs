using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// L-BFGS with a strong-Wolfe line search (Nocedal &amp; Wright, algorithms 7.4, 3.5 and 3.6, cubic interpolation).
/// All parameters are treated as one flat vector, so stacked networks share one line search.
/// </summary>
/// <remarks>
/// One <see cref="Optimizer.Step"/> runs up to <see cref="ResolvedOptimizer.MaxIterations"/> iterations and at most
/// 1.25 times as many closure evaluations (PyTorch's max_eval default); it stops early when the largest absolute gradient entry
/// is at most <see cref="ResolvedOptimizer.ToleranceGrad"/>, or when the step or the loss changes by less than
/// <see cref="ResolvedOptimizer.ToleranceChange"/>. The history and the last direction carry over between steps.
/// The very first trial step is min(1, 1/‖g‖₁)·lr, later ones lr.
/// </remarks>
internal sealed class LbfgsOptimizer : Optimizer
{
    private const double C1 = 1e-4;        // sufficient decrease
    private const double C2 = 0.9;         // curvature, the usual value for quasi-Newton methods
    private const int MaxLineSearch = 25;  // probes per line search
    private const double MinCurvature = 1e-10; // pairs with yᵀs below this would make H indefinite: skipped

    private readonly ScalarType _flatType;
    private readonly Device _device;
    private readonly long _numel;

    // State carried between steps; every tensor here is owned by no dispose scope.
    private Tensor? _direction;
    private Tensor? _prevFlatGrad;
    private double _stepLength;
    private double _hDiag = 1.0;
    private double _prevLoss;
    private long _iterations;
    private long _evaluations;
    private readonly List<Tensor> _ys = new();
    private readonly List<Tensor> _ss = new();
    private readonly List<double> _rhos = new();

    public LbfgsOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings) : base(parameters, settings)
    {
        _device = parameters[0].device;
        if (parameters.Any(p => p.device.type != _device.type || p.device.index != _device.index))
            throw new ArgumentException("lbfgs needs all parameters on one device");
        // One flat vector needs one dtype: a mix is handled in float64.
        _flatType = parameters.All(p => p.dtype == parameters[0].dtype) ? parameters[0].dtype : ScalarType.Float64;
        _numel = parameters.Sum(p => p.numel());
    }

    /// <summary>Closure evaluations over the optimizer's lifetime (for diagnostics).</summary>
    internal long Evaluations => _evaluations;

    private protected override double StepCore(Func<double> closure)
    {
        var s = Settings;
        double lr = LearningRate;
        int maxEvaluations = s.MaxIterations * 5 / 4;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        double loss = Evaluate(closure);
        double firstLoss = loss;
        _evaluations++;
        int evaluations = 1;
        var flatGrad = FlatGrad();
        if (MaxAbs(flatGrad) <= s.ToleranceGrad)
        {
            StepCount++;
            return firstLoss;
        }

        int iteration = 0;
        while (iteration < s.MaxIterations)
        {
            iteration++;
            _iterations++;
            double gtd;
            using (torch.NewDisposeScope())
            {
                Tensor direction;
                if (_iterations == 1)
                {
                    direction = flatGrad.neg();
                    _hDiag = 1.0;
                    ClearHistory();
                }
                else
                {
                    UpdateHistory(flatGrad);
                    direction = TwoLoop(flatGrad);
                }
                Replace(ref _direction, direction);
                Replace(ref _prevFlatGrad, flatGrad.clone());
                _prevLoss = loss;
                _stepLength = _iterations == 1 ? Math.Min(1.0, 1.0 / flatGrad.abs().sum().ToDouble()) * lr : lr;
                gtd = flatGrad.dot(_direction!).ToDouble();
            }
            // Not a descent direction (or a vanishing one): nothing more to gain in this step.
            if (gtd > -s.ToleranceChange) break;

            var (newLoss, newGrad, t, probes) = LineSearch(closure, loss, flatGrad, gtd);
            loss = newLoss;
            flatGrad.Dispose();
            flatGrad = newGrad;
            _stepLength = t;
            AddToParameters(t, _direction!);
            _evaluations += probes;
            evaluations += probes;
            bool converged = MaxAbs(flatGrad) <= s.ToleranceGrad;

            if (iteration == s.MaxIterations || evaluations >= maxEvaluations || converged) break;
            if (MaxAbs(_direction!) * Math.Abs(_stepLength) <= s.ToleranceChange) break;
            if (Math.Abs(loss - _prevLoss) < s.ToleranceChange) break;
        }
        flatGrad.Dispose();
        StepCount++;
        return firstLoss;
    }

    /// <summary>Adds the newest (s, y) pair, dropping the oldest when the history is full.</summary>
    private void UpdateHistory(Tensor flatGrad)
    {
        var y = flatGrad.sub(_prevFlatGrad!);
        using var stepLength = _stepLength.ToScalar();   // held across the call: see FirstOrderOptimizer.S
        var step = _direction!.mul(stepLength);
        double ys = y.dot(step).ToDouble();
        if (!(ys > MinCurvature)) return;
        if (_ys.Count == Settings.HistorySize)
        {
            _ys[0].Dispose();
            _ss[0].Dispose();
            _ys.RemoveAt(0);
            _ss.RemoveAt(0);
            _rhos.RemoveAt(0);
        }
        _ys.Add(y.DetachFromDisposeScope());
        _ss.Add(step.DetachFromDisposeScope());
        _rhos.Add(1.0 / ys);
        _hDiag = ys / y.dot(y).ToDouble();
    }

    /// <summary>d = −H g by the two-loop recursion with H₀ = (sᵀy / yᵀy)·I from the newest pair.</summary>
    private Tensor TwoLoop(Tensor flatGrad)
    {
        int k = _ys.Count;
        var alphas = new double[k];
        var q = flatGrad.neg();
        for (int i = k - 1; i >= 0; i--)
        {
            alphas[i] = _ss[i].dot(q).ToDouble() * _rhos[i];
            using var alpha = (-alphas[i]).ToScalar();
            q.add_(_ys[i], alpha);
        }
        using (var diagonal = _hDiag.ToScalar()) q.mul_(diagonal);
        var r = q;
        for (int i = 0; i < k; i++)
        {
            double beta = _ys[i].dot(r).ToDouble() * _rhos[i];
            using var coefficient = (alphas[i] - beta).ToScalar();
            r.add_(_ss[i], coefficient);
        }
        return r;
    }

    /// <summary>
    /// Strong-Wolfe line search along the current direction from the current weights, which it leaves unchanged.
    /// Returns the accepted point's loss, gradient (owned by the caller), step length and number of closure calls.
    /// </summary>
    private (double Loss, Tensor Grad, double T, int Probes) LineSearch(Func<double> closure, double f0, Tensor g0, double gtd0)
    {
        using var scope = torch.NewDisposeScope();
        var d = _direction!;
        var origin = Parameters.Select(p => p.clone()).ToArray();
        double dNorm = MaxAbs(d);
        double tolerance = Settings.ToleranceChange;
        int probes = 0;

        Point Probe(double step)
        {
            AddToParameters(step, d);
            double f = Evaluate(closure);
            var g = FlatGrad();
            for (int i = 0; i < Parameters.Count; i++) Parameters[i].copy_(origin[i]);
            probes++;
            return new Point(step, f, g, g.dot(d).ToDouble());
        }

        bool Armijo(Point p) => p.F <= f0 + C1 * p.T * gtd0; // false for NaN, so overflow counts as too far
        bool Curvature(Point p) => Math.Abs(p.Gtd) <= -C2 * gtd0;

        // Bracketing: grow the step until an interval is known to contain a strong-Wolfe point.
        var start = new Point(0.0, f0, g0, gtd0);
        var prev = start;
        var current = Probe(_stepLength);
        Point[] bracket;
        bool done = false;
        int iteration = 0;
        while (true)
        {
            if (iteration >= MaxLineSearch) { bracket = [start, current]; break; }
            if (!Armijo(current) || (iteration > 0 && current.F >= prev.F)) { bracket = [prev, current]; break; }
            if (Curvature(current)) { bracket = [current]; done = true; break; }
            if (current.Gtd >= 0) { bracket = [prev, current]; break; }
            double minStep = current.T + 0.01 * (current.T - prev.T), maxStep = current.T * 10;
            double next = Cubic(prev.T, prev.F, prev.Gtd, current.T, current.F, current.Gtd, minStep, maxStep);
            prev = current;
            current = Probe(next);
            iteration++;
        }

        // Zoom: shrink the bracket, keeping at 'low' the point with the lower loss.
        int low = bracket.Length == 1 || bracket[0].F <= bracket[1].F ? 0 : 1;
        bool insufficientProgress = false;
        while (!done && iteration < MaxLineSearch)
        {
            int high = 1 - low;
            if (Math.Abs(bracket[1].T - bracket[0].T) * dNorm < tolerance) break;
            double lo = Math.Min(bracket[0].T, bracket[1].T), hi = Math.Max(bracket[0].T, bracket[1].T);
            double t = Cubic(bracket[0].T, bracket[0].F, bracket[0].Gtd, bracket[1].T, bracket[1].F, bracket[1].Gtd, lo, hi);
            // An interpolant hugging an end of the bracket makes little progress; after two such steps, force 10% inward.
            double margin = 0.1 * (hi - lo);
            if (Math.Min(hi - t, t - lo) < margin)
            {
                if (insufficientProgress || t >= hi || t <= lo)
                {
                    t = Math.Abs(t - hi) < Math.Abs(t - lo) ? hi - margin : lo + margin;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;

            var p = Probe(t);
            iteration++;
            if (!Armijo(p) || p.F >= bracket[low].F)
            {
                bracket[high] = p;
                low = bracket[0].F <= bracket[1].F ? 0 : 1;
            }
            else
            {
                if (Curvature(p)) done = true;
                else if (p.Gtd * (bracket[high].T - bracket[low].T) >= 0) bracket[high] = bracket[low];
                bracket[low] = p;
            }
        }

        var best = bracket[low];
        return (best.F, best.G.clone().DetachFromDisposeScope(), best.T, probes);
    }

    private readonly record struct Point(double T, double F, Tensor G, double Gtd);

    /// <summary>
    /// The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to [lo, hi]; the midpoint
    /// of [lo, hi] when the cubic has no minimizer (or the inputs are not finite).
    /// </summary>
    internal static double Cubic(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi)
    {
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double disc = d1 * d1 - g1 * g2;
        if (disc >= 0)
        {
            double d2 = Math.Sqrt(disc);
            double x = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            if (double.IsFinite(x)) return Math.Min(Math.Max(x, lo), hi);
        }
        return (lo + hi) / 2;
    }

    /// <summary>All gradients as one vector (zeros for a parameter without one); a new tensor in the current scope.</summary>
    private Tensor FlatGrad()
    {
        var parts = new Tensor[Parameters.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = Parameters[i];
            var g = p.grad;
            parts[i] = g is null ? torch.zeros(p.numel(), _flatType, _device) : g.reshape(-1).to(_flatType);
        }
        return torch.cat(parts, 0);
    }

    /// <summary>w ← w + step·d, d a flat vector.</summary>
    private void AddToParameters(double step, Tensor d)
    {
        using var scope = torch.NewDisposeScope();
        using var alpha = step.ToScalar();
        long offset = 0;
        foreach (var p in Parameters)
        {
            long n = p.numel();
            p.add_(d.narrow(0, offset, n).view(p.shape).to(p.dtype), alpha);
            offset += n;
        }
    }

    private static double MaxAbs(Tensor t) => t.abs().max().ToDouble();

    private static void Replace(ref Tensor? field, Tensor value)
    {
        field?.Dispose();
        field = value.DetachFromDisposeScope();
    }

    private void ClearHistory()
    {
        DisposeAll(_ys);
        DisposeAll(_ss);
        _ys.Clear();
        _ss.Clear();
        _rhos.Clear();
    }

    private protected override void WriteState(BinaryWriter w)
    {
        w.Write(_iterations);
        w.Write(_evaluations);
        w.Write(_stepLength);
        w.Write(_hDiag);
        w.Write(_prevLoss);
        WriteOptional(w, _direction);
        WriteOptional(w, _prevFlatGrad);
        w.Write(_ys.Count);
        for (int i = 0; i < _ys.Count; i++)
        {
            WriteTensor(w, _ys[i]);
            WriteTensor(w, _ss[i]);
            w.Write(_rhos[i]);
        }
    }

    private static void WriteOptional(BinaryWriter w, Tensor? t)
    {
        w.Write(t is not null);
        if (t is not null) WriteTensor(w, t);
    }

    private protected override void ReadState(BinaryReader r)
    {
        var read = new List<Tensor>();
        try
        {
            long iterations = r.ReadInt64(), evaluations = r.ReadInt64();
            double stepLength = r.ReadDouble(), hDiag = r.ReadDouble(), prevLoss = r.ReadDouble();
            var direction = ReadOptional("direction");
            var prevFlatGrad = ReadOptional("previous gradient");
            int count = r.ReadInt32();
            if (count < 0 || count > Settings.HistorySize) throw new InvalidDataException($"the saved lbfgs history has {count} pairs, the history size is {Settings.HistorySize}");
            var ys = new List<Tensor>();
            var ss = new List<Tensor>();
            var rhos = new List<double>();
            for (int i = 0; i < count; i++)
            {
                ys.Add(Keep(Flat($"history y {i}")));
                ss.Add(Keep(Flat($"history s {i}")));
                rhos.Add(r.ReadDouble());
            }

            DisposeState();
            (_iterations, _evaluations, _stepLength, _hDiag, _prevLoss) = (iterations, evaluations, stepLength, hDiag, prevLoss);
            (_direction, _prevFlatGrad) = (direction, prevFlatGrad);
            _ys.AddRange(ys);
            _ss.AddRange(ss);
            _rhos.AddRange(rhos);
        }
        catch
        {
            DisposeAll(read);
            throw;
        }

        Tensor Keep(Tensor t) { read.Add(t); return t; }
        Tensor Flat(string what) => ReadTensor(r, _flatType, [_numel], _device, what);
        Tensor? ReadOptional(string what) => r.ReadBoolean() ? Keep(Flat(what)) : null;
    }

    private protected override void DisposeState()
    {
        ClearHistory();
        _direction?.Dispose();
        _prevFlatGrad?.Dispose();
        _direction = null;
        _prevFlatGrad = null;
    }
}
