using System.Diagnostics;

namespace Deqn.Cli.Tests;

/// <summary>
/// Runs the built deqn as users do: a separate process, its output in a file, a pipe or a pseudo-terminal, with the
/// environment they have (CI=true, TERM=dumb, COLUMNS=40) — the settings an in-process run with a StringWriter never meets.
/// </summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>deqn.dll as built next to the tests (the CLI project is referenced, so it is copied here).</summary>
    public static string DeqnDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "deqn.dll");
            if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution first");
            return dll;
        }
    }

    /// <summary>
    /// Runs a bash script in which <c>deqn</c> is the built tool; the script's own standard output and error are piped
    /// back here. Variables in <paramref name="environment"/> are set (null removes one); CI, TERM and COLUMNS are
    /// removed unless given, so a test states the environment it means.
    /// </summary>
    public static Result Bash(string script, IReadOnlyDictionary<string, string?>? environment = null, int timeoutSeconds = 180)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("deqn() { dotnet \"$DEQN_DLL\" \"$@\"; }\n" + script);
        foreach (var name in new[] { "CI", "TERM", "COLUMNS", "DEQN_DEBUG" }) start.Environment.Remove(name);
        start.Environment["DEQN_DLL"] = DeqnDll;
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start bash");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the script did not finish within {timeoutSeconds} s:\n{script}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Quotes a path or argument for bash.</summary>
    public static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    /// <summary>Whether a program is on the PATH (for tests that need one, e.g. util-linux's <c>script</c> for a pseudo-terminal).</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));
}
