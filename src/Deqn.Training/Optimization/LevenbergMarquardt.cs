using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// <c>lm</c>: Levenberg–Marquardt, a damped Gauss–Newton step (<see cref="GaussNewton"/>) on a loss that is a sum of
/// squares. It cannot step from a gradient alone: the engine hands it the workload's residuals and their Jacobian
/// (<see cref="Loop.ILeastSquaresWorkload{TBatch}"/>: a regression's mean squared error, a solve's equations), so
/// <see cref="Optimizer.Step"/> with a closure refuses. Stacked regressions (<c>deqn approx</c>) form their Gram matrices
/// per member instead (<see cref="Ensembles.StackedLevenbergMarquardt"/>) and only read this object's settings.
/// </summary>
/// <remarks>
/// The learning rate is not used: the damping λ, which Nielsen's rule adapts, plays its part. The state saved with
/// <see cref="Optimizer.SaveState"/> is λ, its growth factor and the step counts, so a resumed run takes the same steps.
/// </remarks>
public sealed class LevenbergMarquardt : Optimizer
{
    private GaussNewton? _core;
    private (double Lambda, double Nu)? _pending;
    private (long Taken, long Rejected, long Iterations) _counts;

    internal LevenbergMarquardt(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings) : base(parameters, settings) { }

    /// <summary>The relative damping λ now (its initial value before the first step).</summary>
    public double Damping => _core?.Damping ?? _pending?.Lambda ?? NielsenDamping.Initial;

    /// <summary>Steps taken and trial steps rejected so far, and conjugate-gradient iterations where the system was solved matrix-free.</summary>
    public (long Taken, long Rejected, long Iterations) Counts =>
        _core is null ? _counts : (_core.Taken, _core.Rejected, _core.Iterations);

    /// <summary>How the last direction was solved (cholesky-rows, cholesky-normal or cg).</summary>
    public string? LastSolver => _core?.LastSolver;

    /// <summary>Back to the initial damping, as for a new problem (a solve's polish draws a new sample each round).</summary>
    public void ResetDamping()
    {
        if (_core is not null) _core.DampingState = (NielsenDamping.Initial, 2.0);
        else _pending = (NielsenDamping.Initial, 2.0);
    }

    private protected override double StepCore(Func<double> closure) =>
        throw new NotSupportedException("optimizer lm (Levenberg–Marquardt) steps on least-squares residuals and their Jacobian, which this training does not provide; use adam or lbfgs here");

    /// <summary>
    /// One damped Gauss–Newton step from the current weights, whose loss is <paramref name="loss"/>.
    /// <paramref name="columns"/> are this optimizer's parameters in the order of the linearization's columns;
    /// <paramref name="lossAt"/> evaluates the loss at the weights as they are set when it is called (no graph needed);
    /// <paramref name="lossPerSquare"/> turns the residuals' sum of squares into that loss. Returns the loss after the
    /// step, or <paramref name="loss"/> with the weights unchanged when no damping lowered it.
    /// </summary>
    public double Step(ILinearization system, IReadOnlyList<Tensor> columns, double loss, Func<double> lossAt, double lossPerSquare = 1)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(lossAt);
        if (_core is null)
        {
            var mine = new HashSet<Tensor>(Parameters, ReferenceEqualityComparer.Instance);
            if (columns.Count != Parameters.Count || !columns.All(mine.Contains))
                throw new ArgumentException("the linearization's columns are not this optimizer's parameters");
            _core = new GaussNewton(columns) { Taken = _counts.Taken, Rejected = _counts.Rejected, Iterations = _counts.Iterations };
            if (_pending is { } state) _core.DampingState = state;
        }
        double after = _core.Step(system, loss, lossAt, lossPerSquare);
        StepCount++;
        return after;
    }

    private protected override void WriteState(BinaryWriter w)
    {
        var (lambda, nu) = _core?.DampingState ?? _pending ?? (NielsenDamping.Initial, 2.0);
        var (taken, rejected, iterations) = Counts;
        w.Write(lambda);
        w.Write(nu);
        w.Write(taken);
        w.Write(rejected);
        w.Write(iterations);
    }

    private protected override void ReadState(BinaryReader r)
    {
        var state = (r.ReadDouble(), r.ReadDouble());
        _counts = (r.ReadInt64(), r.ReadInt64(), r.ReadInt64());
        _pending = state;
        if (_core is not null)
        {
            _core.DampingState = state;
            (_core.Taken, _core.Rejected, _core.Iterations) = _counts;
        }
    }

    private protected override void DisposeState() { }
}
