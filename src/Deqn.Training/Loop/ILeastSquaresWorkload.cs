using Deqn.Training.Optimization;
using static TorchSharp.torch;

namespace Deqn.Training.Loop;

/// <summary>
/// A workload whose loss is a sum of squares, so that <c>lm</c> (<see cref="LevenbergMarquardt"/>) can train it: the
/// engine asks for the residuals and their Jacobian instead of a gradient.
/// </summary>
public interface ILeastSquaresWorkload<TBatch> : IWorkload<TBatch>
{
    /// <summary>Why this workload cannot take least-squares steps as configured (a loss that is not a sum of squares, a layer that mixes rows); null when it can.</summary>
    string? LeastSquaresRefusal => null;

    /// <summary>The network's parameters in the order of the linearization's columns.</summary>
    IReadOnlyList<Tensor> Columns { get; }

    /// <summary>The batch's residuals and their Jacobian at the current weights (owned by the caller, who disposes it).</summary>
    ILinearization Linearize(TBatch batch);

    /// <summary>The batch's loss at the current weights, without a graph: <see cref="LossPerSquare"/> × the residuals' sum of squares.</summary>
    double LossAt(TBatch batch);

    /// <summary>The loss over the sum of squares of the linearization's residuals.</summary>
    double LossPerSquare(TBatch batch) => 1;
}

/// <summary>A least-squares workload whose linearization already holds every process's rows, so each process of a data-parallel run solves the same system.</summary>
public interface IGathersLeastSquares;
