using System.Text.Json;

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
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Deqn.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A file of ../shared/data, or a skip with the reason when the shared folder is absent.</summary>
    public static string SharedData(string name)
    {
        var path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", name));
        Skip.IfNot(File.Exists(path), $"{path} is absent: the shared data sets live beside the repository (../shared/data)");
        return path;
    }

    public static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;
}
