using System.IO.Compression;
using System.Text.Json;
using Deqn.Training.Loop;
using Deqn.Training.Persistence;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// Everything a solver needs to continue exactly where it stopped: network weights, optimizer state, the random
/// stream's state, the simulated states, the episode and the history so far. Written atomically (a crash leaves the
/// previous checkpoint), as a zip of checkpoint.json and three binary entries.
/// </summary>
public sealed record SolverCheckpoint
{
    public const string Format = "deqn-solver-checkpoint-2";

    // Before the training engine, history rows were episode records of their own.
    private const string FirstFormat = "deqn-solver-checkpoint";

    public required string Model { get; init; }
    public required IReadOnlyList<double> Parameters { get; init; }
    public required int Episode { get; init; }
    public required long Steps { get; init; }
    public required double Seconds { get; init; }
    public required ulong RandomState { get; init; }
    /// <summary>Trajectories per rank.</summary>
    public required int StateRows { get; init; }

    /// <summary>
    /// Every rank's random-stream state in a data-parallel solve (rank 0's is <see cref="RandomState"/>); null for one
    /// rank. The states hold <see cref="StateRows"/> rows per rank, rank after rank.
    /// </summary>
    public IReadOnlyList<ulong>? RandomStates { get; init; }

    public int Ranks => RandomStates?.Count ?? 1;
    public required IReadOnlyList<EpochRecord> History { get; init; }

    /// <summary>The running input statistics of a policy scaled by the simulated states (null otherwise).</summary>
    public InputStatistics? InputStatistics { get; init; }

    internal byte[] Network { get; init; } = [];
    internal byte[] Optimizer { get; init; } = [];
    internal double[] States { get; init; } = [];

    private sealed record Header(string Format, string Model, IReadOnlyList<double> Parameters, int Episode, long Steps, double Seconds,
        ulong RandomState, int StateRows, IReadOnlyList<EpochRecord> History, InputStatistics? InputStatistics = null, IReadOnlyList<ulong>? RandomStates = null);

    public void Save(string path) => AtomicFile.Write(path, temp =>
    {
        using var file = File.Create(temp);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        using (var header = zip.CreateEntry("checkpoint.json").Open())
            JsonSerializer.Serialize(header, new Header(Format, Model, Parameters, Episode, Steps, Seconds, RandomState, StateRows, History, InputStatistics, RandomStates));
        Write(zip, "network.bin", Network);
        Write(zip, "optimizer.bin", Optimizer);
        var states = new byte[States.Length * sizeof(double)];
        Buffer.BlockCopy(States, 0, states, 0, states.Length);
        Write(zip, "states.bin", states);
    });

    /// <summary>Reads a checkpoint; a one-line <see cref="SolverException"/> when the file is missing or not a checkpoint.</summary>
    public static SolverCheckpoint Load(string path)
    {
        if (!File.Exists(path)) throw new SolverException($"{path}: no checkpoint");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            Header header;
            using (var s = Entry(zip, path, "checkpoint.json").Open())
                header = JsonSerializer.Deserialize<Header>(s) ?? throw new SolverException($"{path}: empty checkpoint header");
            if (header.Format == FirstFormat) throw new SolverException($"{path}: a checkpoint of an earlier deqn version, which this one cannot continue; start the solve again");
            if (header.Format != Format) throw new SolverException($"{path}: not a solver checkpoint");
            var states = Read(zip, path, "states.bin");
            var values = new double[states.Length / sizeof(double)];
            Buffer.BlockCopy(states, 0, values, 0, states.Length);
            return new SolverCheckpoint
            {
                Model = header.Model,
                Parameters = header.Parameters,
                Episode = header.Episode,
                Steps = header.Steps,
                Seconds = header.Seconds,
                RandomState = header.RandomState,
                StateRows = header.StateRows,
                History = header.History,
                InputStatistics = header.InputStatistics,
                RandomStates = header.RandomStates,
                Network = Read(zip, path, "network.bin"),
                Optimizer = Read(zip, path, "optimizer.bin"),
                States = values,
            };
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            throw new SolverException($"{path}: not a readable solver checkpoint ({e.Message.Split('\n')[0]})");
        }
    }

    private static ZipArchiveEntry Entry(ZipArchive zip, string path, string name) =>
        zip.GetEntry(name) ?? throw new SolverException($"{path}: not a solver checkpoint (no {name} inside)");

    private static byte[] Read(ZipArchive zip, string path, string name)
    {
        using var s = Entry(zip, path, name).Open();
        using var buffer = new MemoryStream();
        s.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        s.Write(bytes);
    }
}

/// <summary>A solve that cannot go on (non-finite residuals, infeasible simulated states, a checkpoint that does not fit): one line for the user.</summary>
public sealed class SolverException(string message) : Exception(message);
