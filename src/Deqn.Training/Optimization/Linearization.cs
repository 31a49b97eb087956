using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// A least-squares problem linearized at the current parameters: residuals r [R] (float64) and the products with their
/// Jacobian J [R, P] that a Gauss–Newton step needs. <see cref="Explicit"/> is J itself when it is stored; a matrix-free
/// linearization computes the products from the residuals' graph instead, in bounded memory.
/// </summary>
public interface ILinearization : IDisposable
{
    Tensor Residuals { get; }

    /// <summary>P, the number of parameters (columns of J).</summary>
    long Columns { get; }

    /// <summary>J v for v [P]: [R].</summary>
    Tensor Times(Tensor v);

    /// <summary>Jᵀ u for u [R]: [P].</summary>
    Tensor TransposeTimes(Tensor u);

    /// <summary>diag(JᵀJ) [P]: each column's sum of squares (the conjugate-gradient solver's preconditioner).</summary>
    Tensor ColumnSquares();

    /// <summary>J when it is stored; null for a matrix-free linearization.</summary>
    Tensor? Explicit { get; }
}

/// <summary>A linearization with its Jacobian stored: [R, P] float64.</summary>
public sealed class ExplicitLinearization(Tensor residuals, Tensor jacobian) : ILinearization
{
    public Tensor Residuals { get; } = residuals.to(ScalarType.Float64);
    public Tensor? Explicit { get; } = jacobian.to(ScalarType.Float64);
    public long Columns => Explicit!.shape[1];
    public Tensor Times(Tensor v) => Explicit!.mv(v);
    public Tensor TransposeTimes(Tensor u) => Explicit!.t().mv(u);
    public Tensor ColumnSquares() => Explicit!.square().sum([0L]);

    /// <summary>Keeps both tensors alive past the dispose scope they were made in.</summary>
    public ExplicitLinearization MoveToOuterDisposeScope()
    {
        Residuals.MoveToOuterDisposeScope();
        Explicit!.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Residuals.Dispose();
        Explicit!.Dispose();
    }
}
