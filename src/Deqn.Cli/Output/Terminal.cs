using Deqn.Training.Logging;
using Spectre.Console;

namespace Deqn.Cli.Output;

/// <summary>
/// Where a command writes, and whether it may draw on a terminal. Decided once per run, so every command and progress
/// display agrees: live redraws, colour and the terminal's width only on a real terminal; plain lines, no escape
/// sequences and no wrapping at 80 columns in a log file, a pipe, CI or a dumb terminal.
/// </summary>
public sealed class Terminal
{
    // Wide enough that a redirected table or header line is not folded mid-sentence; log readers wrap for themselves.
    private const int RedirectedWidth = 200;

    /// <param name="interactive">Null detects it from the output (see <see cref="ConsoleProgressLogger.IsLiveConsole"/>).</param>
    public Terminal(TextWriter stdout, TextWriter stderr, bool? interactive = null)
    {
        Interactive = interactive ?? ConsoleProgressLogger.IsLiveConsole(stdout);
        Out = new BestEffortWriter(stdout);
        Error = new BestEffortWriter(stderr);
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!Interactive) Console.Profile.Width = RedirectedWidth;
    }

    /// <summary>Standard output: results, tables and progress. A closed or broken output is dropped, never fatal.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: messages about the run itself.</summary>
    public TextWriter Error { get; }

    /// <summary>True on a live terminal: progress may redraw a line in place.</summary>
    public bool Interactive { get; }

    /// <summary>Tables and markup, rendered for <see cref="Out"/>.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>The progress display for training: a live bar on a terminal, plain lines elsewhere.</summary>
    public ConsoleProgressLogger Progress(IReadOnlyList<string>? keys = null, string unit = "epoch") =>
        new(Out, Interactive, keys, unit: unit);

    /// <summary>Columns available for one line: the terminal's width, or <see cref="RedirectedWidth"/> when redirected.</summary>
    public int Width => Console.Profile.Width;
}
