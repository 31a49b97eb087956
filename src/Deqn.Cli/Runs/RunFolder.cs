using System.Globalization;
using System.Text;
using Deqn.Cli.Options;
using Deqn.Training.Persistence;

namespace Deqn.Cli.Runs;

/// <summary>
/// The folder a run writes everything into. Created fresh: an existing non-empty folder is refused, so no result is
/// ever overwritten. Holds the merged config that reproduces the run.
/// </summary>
public sealed class RunFolder
{
    private RunFolder(string path) => Path = path;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates <paramref name="requested"/>, or runs/&lt;command&gt;-&lt;name&gt;-&lt;time&gt; when none is given.</summary>
    public static RunFolder Create(string? requested, string command, string name, Settings settings)
    {
        string path;
        if (requested is not null)
        {
            path = System.IO.Path.GetFullPath(requested);
            if (System.IO.File.Exists(path))
                throw settings.Error("out", $"{requested} is a file; give a folder for the run");
            if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
                throw settings.Error("out", $"{requested} already exists and is not empty; runs are never overwritten, choose another folder");
        }
        else
        {
            string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            string baseName = System.IO.Path.GetFullPath(System.IO.Path.Combine("runs", $"{command}-{name}-{stamp}"));
            path = baseName;
            for (int i = 2; Directory.Exists(path); i++) path = $"{baseName}-{i}";
        }
        try
        {
            Directory.CreateDirectory(path);
            string probe = System.IO.Path.Combine(path, ".write-test");
            System.IO.File.WriteAllText(probe, "");
            System.IO.File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw settings.Error("out", $"cannot write to {path} ({e.Message.Split('\n')[0]})");
        }
        return new RunFolder(path);
    }

    /// <summary>An existing run folder, to add to (resume).</summary>
    public static RunFolder Open(string path) => new(System.IO.Path.GetFullPath(path));

    /// <summary>
    /// The settings of the run in <paramref name="folder"/> (its config.yaml) and the folder, for --resume. Options given
    /// now must not change the run, except those in <paramref name="allowed"/>, which replace the saved values.
    /// </summary>
    public static (Settings Settings, RunFolder Run) Resume(Settings now, string folder, string command, IReadOnlyCollection<string> allowed)
    {
        var config = System.IO.Path.Combine(folder, "config.yaml");
        if (!Directory.Exists(folder)) throw now.Error("resume", $"{folder} is not a folder");
        if (!System.IO.File.Exists(config)) throw now.Error("resume", $"{folder} is not a run folder of deqn {command} (no config.yaml)");
        foreach (var (def, _, source) in now.All())
            if (source == "command line" && !allowed.Contains(def.Name) && def.Name != "resume")
                throw now.Error(def.Name, $"cannot be changed when resuming; the settings come from {config}");
        var s = new Settings(now.Definitions);
        foreach (var (key, value) in ConfigFile.Load(config))
        {
            if (!s.IsKnown(key)) throw new UsageException($"{config}: key '{key}' is not a {command} setting; is {folder} a {command} run?");
            s.Set(key, value, config);
        }
        foreach (var name in allowed.Append("resume"))
            if (now.Source(name) == "command line") s.Set(name, now.Raw(name), "command line");
        return (s, Open(folder));
    }

    /// <summary>Writes config.yaml: every setting with its final value, so that <c>--config</c> on it reruns the run.</summary>
    public void WriteConfig(string command, Settings settings, IReadOnlyDictionary<string, string>? resolvedPaths = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# deqn {command}: the merged settings of this run (defaults < config file < command line).");
        sb.AppendLine($"# Rerun: ./deqn {command} --config {File("config.yaml")} --out <new folder>");
        sb.AppendLine($"# Command: deqn {string.Join(' ', Environment.GetCommandLineArgs().Skip(1).Select(Quote))}");
        string? group = null;
        foreach (var (def, value, source) in settings.All())
        {
            if (def.Name is "config" or "out") continue;
            if (def.Group != group)
            {
                group = def.Group;
                sb.AppendLine().AppendLine($"# {group}");
            }
            var v = resolvedPaths is not null && resolvedPaths.TryGetValue(def.Name, out var p) ? p : value;
            sb.AppendLine($"{def.Name}: {Yaml(v)}{(source == "default" ? "" : $"   # from {(source == "command line" ? "the command line" : source)}")}");
        }
        AtomicFile.WriteAllText(File("config.yaml"), sb.ToString());
    }

    private static string Yaml(string? v) => v is null ? "~" : $"'{v.Replace("'", "''")}'";

    private static string Quote(string a) => a.Length == 0 || a.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '|' or '$') ? $"'{a.Replace("'", "'\\''")}'" : a;
}
