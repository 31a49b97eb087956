using System.CommandLine;
using Deqn.Cli.Commands;
using Deqn.Cli.Options;
using Deqn.Cli.Output;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Persistence;

namespace Deqn.Cli;

/// <summary>The deqn command line: parses, runs one command, and turns bad input into one line and a non-zero exit.</summary>
public static class Entry
{
    public const int BadInput = 2;
    public const int Failure = 1;

    /// <summary>The commands, with <paramref name="models"/> (the shipped models when null) for solve, models, evaluate and predict.</summary>
    public static IReadOnlyList<CliCommand> Commands(ModelCatalog? models = null)
    {
        models ??= BuiltinModels.Catalog();
        return [new FitCommand(), new PredictCommand(models), new ApproxCommand(), new MergeCommand(), new SolveCommand(models), new ModelsCommand(models), new EvaluateCommand(models), new DemosCommand()];
    }

    /// <summary>
    /// Runs the command line. A program with models of its own passes its catalog — e.g.
    /// <c>Entry.Run(args, models: BuiltinModels.Catalog().Add("my-model", …))</c> — and gets solve, models, evaluate and predict for them.
    /// </summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, ModelCatalog? models = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var terminal = new Terminal(stdout, stderr);
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C asks the run to stop cleanly and keep what it has; a second one kills the process.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
            terminal.Error.WriteLine("deqn: stopping after the current step (Ctrl-C again to abort)...");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var root = new RootCommand("Deqn: train neural networks and solve economic models with Deep Equilibrium Nets.");
            foreach (var c in Commands(models))
                root.Subcommands.Add(c.Build((cmd, settings) => Execute(cmd, settings, terminal, cancel.Token)));
            var parse = root.Parse(args.Length == 0 ? new[] { "--help" } : args);
            if (parse.Errors.Count > 0)
            {
                string where = parse.CommandResult.Command is { } cmd && cmd != root ? $"deqn {cmd.Name}" : "deqn";
                terminal.Error.WriteLine($"{where}: {parse.Errors[0].Message} (see '{where} --help')");
                return BadInput;
            }
            return parse.Invoke(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error });
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static int Execute(CliCommand command, Func<Settings> merge, Terminal terminal, CancellationToken cancel)
    {
        var stderr = terminal.Error;
        try
        {
            var settings = merge();
            TorchEngine.SetThreads(settings.Int("threads", min: 1));
            TorchEngine.AvoidBackgroundCollections();
            return command.Execute(settings, terminal, cancel);
        }
        catch (Exception e) when (e is UsageException or DataException or ModelFileException or ArgumentException)
        {
            stderr.WriteLine($"deqn {command.Name}: {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("DEQN_DEBUG") is not null) stderr.WriteLine(e);
            return BadInput;
        }
        catch (Exception e) when (e is Deqn.Equilibrium.Solving.SolverException or Deqn.Equilibrium.Simulation.SimulationException)
        {
            stderr.WriteLine($"deqn {command.Name}: {OneLine(e.Message)}");
            return Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"deqn {command.Name}: {OneLine(e.Message)}");
            return Failure;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("DEQN_DEBUG") is null)
        {
            stderr.WriteLine($"deqn {command.Name}: internal error: {e.GetType().Name}: {OneLine(e.Message)} (set DEQN_DEBUG=1 for details)");
            return Failure;
        }
    }

    private static string OneLine(string message) => message.Split('\n')[0].Trim();
}
