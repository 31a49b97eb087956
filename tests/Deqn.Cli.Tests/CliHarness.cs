using System.Text.Json;
using Deqn.Testing;

namespace Deqn.Cli.Tests;

/// <summary>Runs the deqn command line in-process and captures what it prints.</summary>
public static class CliHarness
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    private static readonly object ConsoleLock = new();

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code;
        // The fit command draws tables with Spectre.Console on the real console; runs are serialized so their output does not interleave.
        lock (ConsoleLock) code = Entry.Run(args.Concat(new[] { "--quiet" }).ToArray(), stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The repository root (the folder holding Deqn.slnx).</summary>
    public static string RepositoryRoot => RepositoryFiles.Root;

    /// <summary>A file of the shared data sets (../shared/data or DEQN_SHARED_DATA), or a skip with the reason when it is absent.</summary>
    public static string SharedData(string name)
    {
        var folder = RepositoryFiles.SharedDataFolder();
        Skip.If(folder is null, "no Deqn.slnx above the test binaries, so ../shared/data cannot be located (or set DEQN_SHARED_DATA)");
        var path = Path.Combine(folder!, name);
        Skip.IfNot(File.Exists(path), $"{path} is absent: the shared data sets live beside the repository (../shared/data) or in DEQN_SHARED_DATA");
        return path;
    }

    public static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;
}
