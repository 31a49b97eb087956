using System.Diagnostics;
using Deqn.Training.Distributed;

// The gradient average alone: the mean time of one in-place allreduce of n doubles, the processes calling in step, so
// the time is the communication and not waiting for a slower process. Run under mpirun by bench/mpi/run:
//   mpirun -np 2 dotnet Allreduce.dll 2751 10000 100000
if (OpenMpi.Launched is null)
{
    Console.Error.WriteLine("usage: mpirun -np P dotnet Allreduce.dll <n> [<n> ...]");
    return 2;
}
var world = OpenMpi.World;
foreach (var n in args.Select(int.Parse))
{
    var values = new double[n];
    for (int i = 0; i < 100; i++) world.AllreduceSum(values);
    const int calls = 2000;
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < calls; i++) world.AllreduceSum(values);
    double micro = clock.Elapsed.TotalMicroseconds / calls;
    Span<double> slowest = [micro];
    world.AllreduceMax(slowest);
    if (world.Rank == 0) Console.WriteLine($"allreduce of {n} doubles on {world.Size} processes: {slowest[0]:0.0} µs");
}
return 0;
