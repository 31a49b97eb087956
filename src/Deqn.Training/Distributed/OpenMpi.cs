using System.Runtime.InteropServices;

namespace Deqn.Training.Distributed;

/// <summary>
/// The processes started by Open MPI's <c>mpirun</c> (or a PMIx launcher such as Slurm's <c>srun --mpi=pmix</c>), through
/// a thin P/Invoke layer over <c>libmpi.so.40</c> (Debian's <c>openmpi-bin</c>). The NuGet package MPI.NET 1.4.0 was
/// tried first: it is built against Microsoft MPI's ABI (integer handles, <c>msmpi.dll</c>) and crashes on Open MPI,
/// whose handles are addresses of global objects (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>).
/// </summary>
/// <remarks>
/// MPI's default error handler aborts the job on a failed call, so the return codes checked here are a second line.
/// Only the launcher's environment decides whether MPI is used (<see cref="Launched"/>): a process started any other
/// way never loads libmpi, so machines without Open MPI run everything else.
/// </remarks>
public sealed unsafe class OpenMpi : IProcessGroup
{
    private const string Library = "libmpi.so.40";

    [DllImport(Library)] private static extern int MPI_Init(IntPtr argc, IntPtr argv);
    [DllImport(Library)] private static extern int MPI_Initialized(out int flag);
    [DllImport(Library)] private static extern int MPI_Finalized(out int flag);
    [DllImport(Library)] private static extern int MPI_Finalize();
    [DllImport(Library)] private static extern int MPI_Comm_rank(IntPtr comm, out int rank);
    [DllImport(Library)] private static extern int MPI_Comm_size(IntPtr comm, out int size);
    [DllImport(Library)] private static extern int MPI_Allreduce(void* send, void* receive, int count, IntPtr type, IntPtr op, IntPtr comm);
    [DllImport(Library)] private static extern int MPI_Allgather(void* send, int sendCount, IntPtr sendType, void* receive, int receiveCount, IntPtr receiveType, IntPtr comm);
    [DllImport(Library)] private static extern int MPI_Abort(IntPtr comm, int code);

    private static readonly IntPtr InPlace = 1;  // MPI_IN_PLACE in Open MPI's mpi.h
    private static OpenMpi? _world;
    private readonly IntPtr _comm, _double, _sum, _max;

    private OpenMpi()
    {
        var library = NativeLibrary.Load(Library);
        _comm = NativeLibrary.GetExport(library, "ompi_mpi_comm_world");
        _double = NativeLibrary.GetExport(library, "ompi_mpi_double");
        _sum = NativeLibrary.GetExport(library, "ompi_mpi_op_sum");
        _max = NativeLibrary.GetExport(library, "ompi_mpi_op_max");
        Check(MPI_Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0) Check(MPI_Init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        Check(MPI_Comm_rank(_comm, out int rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(_comm, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>The number of processes the launcher started, when this process is one of several; null otherwise.</summary>
    public static int? Launched =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") ?? Environment.GetEnvironmentVariable("PMI_SIZE"), out int n) && n > 1 ? n : null;

    /// <summary>MPI_COMM_WORLD, initialized on first use; a one-line error when libmpi cannot be loaded.</summary>
    public static OpenMpi World
    {
        get
        {
            if (_world is not null) return _world;
            try
            {
                _world = new OpenMpi();
            }
            catch (DllNotFoundException)
            {
                throw new InvalidOperationException($"this process was started by an MPI launcher but {Library} (Open MPI 4) cannot be loaded; install Open MPI (Debian: apt-get install openmpi-bin)");
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Finish();
            // Another MPI's launcher (MPICH's mpiexec) starts processes that Open MPI initializes as singletons: each
            // would train alone and write its own run folder.
            if (Launched is int launched && _world.Size != launched)
                throw new InvalidOperationException($"the launcher started {launched} processes but Open MPI sees {_world.Size}; start deqn with Open MPI's mpirun (not MPICH's mpiexec)");
            return _world;
        }
    }

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Wall time this process spent in collectives: the communication, and waiting for slower processes.</summary>
    public TimeSpan InCollectives => _inCollectives.Elapsed;

    private readonly System.Diagnostics.Stopwatch _inCollectives = new();

    public void AllreduceSum(Span<double> values) => Reduce(values, _sum);

    public void AllreduceMax(Span<double> values) => Reduce(values, _max);

    private void Reduce(Span<double> values, IntPtr op)
    {
        _inCollectives.Start();
        fixed (double* p = values)
            Check(MPI_Allreduce((void*)InPlace, p, values.Length, _double, op, _comm), "MPI_Allreduce");
        _inCollectives.Stop();
    }

    public void AllGather(ReadOnlySpan<double> mine, Span<double> all)
    {
        if (all.Length != mine.Length * Size) throw new ArgumentException($"gathering {mine.Length} values from {Size} processes needs {mine.Length * Size}, not {all.Length}");
        _inCollectives.Start();
        fixed (double* send = mine)
        fixed (double* receive = all)
            Check(MPI_Allgather(send, mine.Length, _double, receive, mine.Length, _double, _comm), "MPI_Allgather");
        _inCollectives.Stop();
    }

    public void Abort(int exitCode) => MPI_Abort(_comm, exitCode);

    private static void Finish()
    {
        if (MPI_Finalized(out int finalized) == 0 && finalized == 0) MPI_Finalize();
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }
}
