using System.Diagnostics;
using System.Globalization;
using Deqn.Cli.Commands;
using Deqn.Equilibrium.Solving;
using Deqn.Testing;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

/// <summary>
/// <c>mpirun -np 2 deqn solve</c> as users start it. Skipped where Open MPI's mpirun is not installed (.ci/run installs
/// Debian's openmpi-bin, so CI runs them).
/// </summary>
public sealed class MpiSolveTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-mpi-");

    public void Dispose() => _dir.Dispose();

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>The built command line of the configuration these tests were built in.</summary>
    private static string CliDll
    {
        get
        {
            string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            return Path.Combine(RepositoryRoot, "src", "Deqn.Cli", "bin", configuration, "net10.0", "deqn.dll");
        }
    }

    private static ProcessStartInfo Mpirun(params string[] args)
    {
        var mpirun = FindOnPath("mpirun");
        Skip.If(mpirun is null, "mpirun is not installed (Debian: apt-get install openmpi-bin; .ci/run installs it)");
        Skip.IfNot(File.Exists(CliDll), $"{CliDll} is not built");
        var start = new ProcessStartInfo(mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-np", "2", "--oversubscribe", "dotnet", CliDll }.Concat(args)) start.ArgumentList.Add(a);
        // Open MPI refuses root unless told; TERM=dumb keeps .NET from writing terminal escapes into the ranks' output.
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        start.Environment["TERM"] = "dumb";
        return start;
    }

    private static (int ExitCode, string Stdout, string Stderr) RunToEnd(ProcessStartInfo start, int timeoutSeconds = 300)
    {
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun did not end within {timeoutSeconds} s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static double[] Column(string run, string column)
    {
        var lines = File.ReadAllLines(Path.Combine(run, "history.csv"));
        int at = Array.IndexOf(lines[0].Split(','), column);
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[at], CultureInfo.InvariantCulture)).ToArray();
    }

    [SkippableFact]
    public void Two_mpi_processes_take_the_steps_of_one_process_simulating_both_ranks()
    {
        // Given the same solve under mpirun -np 2 and in one process with --ranks 2 (30 Adam episodes, then a polish round)
        string[] solve = ["solve", "brock-mirman", "--episodes", "30", "--polish-rounds", "1", "--seed", "3"];
        var mpi = _dir.File("mpi");
        var (code, stdout, stderr) = RunToEnd(Mpirun([.. solve, "--out", mpi]));
        Assert.True(code == 0, stdout + stderr);
        var local = _dir.File("local");
        var r = Run([.. solve, "--ranks", "2", "--out", local]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Then process 0 alone wrote a run folder, which records the two ranks
        Assert.Equal(["local", "mpi"], Directory.GetDirectories(_dir.Path).Select(Path.GetFileName).Order());
        Assert.Contains("ranks: '2'", File.ReadAllText(Path.Combine(mpi, "config.yaml")));
        Assert.Contains("data-parallel over 2 MPI processes", stdout);
        // And the losses agree to the rounding of the gradient average: ≤ 1e-10 relative over the Adam episodes (measured
        // 3e-15 at episode 30), ≤ 1e-6 after the Levenberg–Marquardt round, which amplifies it (measured 8e-15)
        var a = Column(mpi, "loss");
        var b = Column(local, "loss");
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= (i < a.Length - 1 ? 1e-10 : 1e-6) * Math.Abs(b[i]), $"row {i + 1}: {a[i]:R} under mpirun, {b[i]:R} in one process");
    }

    [SkippableFact]
    public void A_killed_process_ends_the_job_with_the_last_checkpoint_intact_and_the_solve_resumes_on_two_processes()
    {
        // Given a long solve on two processes that checkpoints every 10 episodes
        var run = _dir.File("killed");
        using var job = Process.Start(Mpirun("solve", "brock-mirman", "--episodes", "100000", "--polish-rounds", "0", "--checkpoint-every", "10", "--out", run, "--quiet"))!;
        var stderr = job.StandardError.ReadToEndAsync();
        _ = job.StandardOutput.ReadToEndAsync();
        var checkpoint = Path.Combine(run, SolveCommand.CheckpointFile);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(checkpoint) && clock.Elapsed < TimeSpan.FromSeconds(120) && !job.HasExited) Thread.Sleep(100);
        Assert.True(File.Exists(checkpoint), "no checkpoint was written");
        // When process 1 is killed (kill -9)
        var rank1 = Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsDigit)).Select(int.Parse).FirstOrDefault(pid =>
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains("OMPI_COMM_WORLD_RANK=1")
                    && File.ReadAllText($"/proc/{pid}/cmdline").Contains(run, StringComparison.Ordinal);
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });
        Assert.True(rank1 > 0, "process 1 not found");
        Process.GetProcessById(rank1).Kill();
        // Then the whole job ends with a non-zero code and says which process died
        Assert.True(job.WaitForExit(30_000), "the job did not end after process 1 was killed");
        Assert.NotEqual(0, job.ExitCode);
        Assert.Contains("rank 1", stderr.Result);
        // And the last checkpoint is whole: both ranks' streams and states, at a multiple of 10 episodes
        var saved = SolverCheckpoint.Load(checkpoint);
        Assert.Equal(2, saved.Ranks);
        Assert.True(saved.Episode >= 10 && saved.Episode % 10 == 0, $"checkpoint at episode {saved.Episode}");
        // And two processes resume it (here for 2 more seconds) to a finished run folder
        var (code, stdout, err) = RunToEnd(Mpirun("solve", "--resume", run, "--max-seconds", "2", "--quiet"));
        Assert.True(code == 0, stdout + err);
        Assert.True(File.Exists(Path.Combine(run, "report.md")));
        Assert.True(Column(run, "episode")[^1] > saved.Episode);
    }

    [SkippableFact]
    public void Ranks_that_differ_from_the_processes_are_refused_with_one_line_per_process()
    {
        var (code, _, stderr) = RunToEnd(Mpirun("solve", "brock-mirman", "--ranks", "3", "--out", _dir.File("bad")));
        Assert.Equal(Entry.BadInput, code);
        Assert.Contains("--ranks: is 3 but mpirun started 2 processes", stderr);
        Assert.False(Directory.Exists(_dir.File("bad")));
    }
}
