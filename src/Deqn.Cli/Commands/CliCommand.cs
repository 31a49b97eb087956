using System.CommandLine;
using Deqn.Cli.Options;
using Deqn.Cli.Output;

namespace Deqn.Cli.Commands;

/// <summary>
/// A deqn command described as data: its options (shared with config files through <see cref="Settings"/>),
/// positional arguments (which config files may also set) and what it does with the merged settings.
/// </summary>
public abstract class CliCommand
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public virtual IReadOnlyList<string> Examples => Array.Empty<string>();

    /// <summary>
    /// Positional arguments, each also a settings key (so a config file can give them). A repeatable one (only the last
    /// may be) takes any number of values, joined with ';' like a repeatable option's.
    /// </summary>
    public virtual IReadOnlyList<OptionDef> Positionals => Array.Empty<OptionDef>();

    /// <summary>The command's own options; <see cref="CommonOptions"/> are added to every command.</summary>
    protected abstract IReadOnlyList<OptionDef> OwnOptions { get; }

    public static IReadOnlyList<OptionDef> CommonOptions { get; } = new OptionDef[]
    {
        new("config", null, "YAML or TOML file with any of these settings; command-line options override it", "Run", ValueName: "file"),
        new("out", null, "output: the run folder to create (never overwritten), or the output file", "Run", ValueName: "path"),
        new("seed", "0", "seed for every random stream of the run (weights, split, shuffling, dropout)", "Run"),
        new("threads", "1", "libtorch threads; the same seed and thread count give bit-identical results", "Run"),
        new("device", "cpu", "device for tensors: cpu, or cuda / cuda:N where libtorch has CUDA", "Run"),
        new("quiet", "false", "no progress display, only the final results", "Run", Flag: true),
    };

    public IReadOnlyList<OptionDef> AllOptions => Positionals.Concat(OwnOptions).Concat(CommonOptions).ToArray();

    /// <summary>Runs the command; returns the exit code. Throws <see cref="UsageException"/> (and data/model errors) for bad input.</summary>
    public abstract int Execute(Settings settings, Terminal terminal, CancellationToken cancel);

    /// <summary>This command's settings at their defaults, overridden by a config file's when one is given.</summary>
    public Settings SettingsFrom(string? configPath)
    {
        var settings = new Settings(AllOptions);
        if (configPath is null) return settings;
        foreach (var (key, value) in ConfigFile.Load(configPath))
        {
            if (Settings.Canonical(key) == "config") throw new UsageException($"{configPath}: a config file cannot name another config file");
            settings.Set(key, value, configPath);
        }
        return settings;
    }

    public Command Build(Func<CliCommand, Func<Settings>, int> run)
    {
        var description = Description;
        if (Examples.Count > 0) description += "\n\nExamples:\n" + string.Join("\n", Examples.Select(e => "  " + e));
        var command = new Command(Name, description);
        var arguments = new List<(OptionDef Def, Argument<string?> Arg)>();
        var lists = new List<(OptionDef Def, Argument<string[]> Arg)>();
        foreach (var p in Positionals)
        {
            if (p.Repeatable)
            {
                var list = new Argument<string[]>(p.Name) { Description = p.Help, Arity = ArgumentArity.ZeroOrMore };
                command.Arguments.Add(list);
                lists.Add((p, list));
                continue;
            }
            var arg = new Argument<string?>(p.Name) { Description = p.Help, Arity = ArgumentArity.ZeroOrOne };
            command.Arguments.Add(arg);
            arguments.Add((p, arg));
        }
        var options = new List<(OptionDef Def, Option<string?> Opt)>();
        var repeatable = new List<(OptionDef Def, Option<string[]> Opt)>();
        foreach (var d in OwnOptions.Concat(CommonOptions))
        {
            if (d.Repeatable)
            {
                var many = new Option<string[]>($"--{d.Name}") { Description = d.Help, Arity = ArgumentArity.OneOrMore, HelpName = d.ValueName ?? d.Name };
                command.Options.Add(many);
                repeatable.Add((d, many));
                continue;
            }
            var help = d.Help + (d.Default is { Length: > 0 } ? $" [default: {d.Default}]" : "");
            var opt = new Option<string?>($"--{d.Name}")
            {
                Description = help,
                Arity = d.Flag ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
                HelpName = d.Flag ? "true|false" : d.ValueName ?? d.Name.Split('-')[^1],
            };
            command.Options.Add(opt);
            options.Add((d, opt));
        }
        command.SetAction(parse => run(this, () =>
        {
            var config = options.First(o => o.Def.Name == "config");
            var settings = SettingsFrom(parse.GetResult(config.Opt) is { Implicit: false } ? parse.GetValue(config.Opt) : null);
            foreach (var (def, arg) in arguments)
                if (parse.GetValue(arg) is { } v) settings.Set(def.Name, v, "command line");
            foreach (var (def, arg) in lists)
                if (parse.GetValue(arg) is { Length: > 0 } values) settings.Set(def.Name, string.Join(';', values), "command line");
            foreach (var (def, opt) in options)
                if (parse.GetResult(opt) is { Implicit: false }) settings.Set(def.Name, parse.GetValue(opt) ?? "true", "command line");
            foreach (var (def, opt) in repeatable)
                if (parse.GetResult(opt) is { Implicit: false } && parse.GetValue(opt) is { Length: > 0 } values)
                    settings.Set(def.Name, string.Join(';', values), "command line");
            return settings;
        }));
        return command;
    }
}
