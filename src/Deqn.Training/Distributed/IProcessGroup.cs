namespace Deqn.Training.Distributed;

/// <summary>
/// The processes of one data-parallel run and the collective operations they take together. Every process must call
/// each operation in the same order with buffers of the same length; a process that does not arrive blocks the others,
/// which is why a failing process ends the whole job (<see cref="Abort"/>) instead of returning an error.
/// </summary>
public interface IProcessGroup
{
    /// <summary>This process's index, 0 … <see cref="Size"/> − 1; process 0 writes the run's files.</summary>
    int Rank { get; }

    int Size { get; }

    /// <summary>Replaces every element by its sum over the processes.</summary>
    void AllreduceSum(Span<double> values);

    /// <summary>Replaces every element by its maximum over the processes.</summary>
    void AllreduceMax(Span<double> values);

    /// <summary>Every process's <paramref name="mine"/> (all of one length), in rank order, into <paramref name="all"/>.</summary>
    void AllGather(ReadOnlySpan<double> mine, Span<double> all);

    /// <summary>Ends every process of the job with this exit code (MPI_Abort): for a failure one process cannot recover from.</summary>
    void Abort(int exitCode);
}

/// <summary>A run on one process: every collective is the identity.</summary>
public sealed class SingleProcess : IProcessGroup
{
    public static SingleProcess Instance { get; } = new();

    public int Rank => 0;
    public int Size => 1;
    public void AllreduceSum(Span<double> values) { }
    public void AllreduceMax(Span<double> values) { }
    public void AllGather(ReadOnlySpan<double> mine, Span<double> all) => mine.CopyTo(all);
    public void Abort(int exitCode) => Environment.Exit(exitCode);
}
