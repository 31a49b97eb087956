using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Deqn.Training.Logging;

/// <summary>
/// Shows training progress: epoch i/N, elapsed time, ETA and the latest values of a few metrics
/// (by default loss, val_loss and lr, whichever are logged).
/// </summary>
/// <remarks>
/// On a terminal it draws a live Spectre.Console progress bar that is cleared at the end and replaced by the final
/// epoch line. When the output is redirected (a file, a pipe, CI=true) it writes plain lines instead, one every
/// max(1, N/20) epochs, or sooner when 5 s passed since the last line, plus the last epoch:
/// <c>epoch 12/200  loss 0.0123  val_loss 0.0456  lr 0.001  [elapsed 00:03, eta 00:47]</c>.
/// Steps are epoch numbers counted from 1, so epoch N of N is the last. Call from one thread.
/// </remarks>
public sealed class ConsoleProgressLogger : ITrainingLogger
{
    /// <summary>Metrics shown when no list is given.</summary>
    public static IReadOnlyList<string> DefaultKeys { get; } = ["loss", "val_loss", "lr"];

    private static readonly TimeSpan QuietLimit = TimeSpan.FromSeconds(5);

    private readonly TextWriter _output;
    private readonly IReadOnlyList<string> _keys;
    private readonly TimeProvider _time;
    private readonly bool _interactive;
    private readonly string _unit;

    private int? _total;
    private long? _start;
    private long _lastLineAt;
    private long? _firstStep;
    private long? _lastStep;
    private long? _lastPrintedStep;
    private string _lastLine = "";
    private bool _finished;
    private LiveBar? _live;

    /// <param name="output">Where to write; <see cref="Console.Out"/> when null.</param>
    /// <param name="interactive">
    /// Draw a live bar (true) or plain lines (false). Null detects: live only when writing to the console, the
    /// console is not redirected and neither CI=true nor TERM=dumb is set.
    /// </param>
    /// <param name="keys">Metric keys to show, in this order, when present in the logged scalars.</param>
    /// <param name="timeProvider">Clock for elapsed time, ETA and the 5 s rule (tests pass a fake one).</param>
    /// <param name="unit">What a step is called on the line ("epoch", "episode").</param>
    public ConsoleProgressLogger(
        TextWriter? output = null, bool? interactive = null, IReadOnlyList<string>? keys = null, TimeProvider? timeProvider = null, string unit = "epoch")
    {
        _unit = unit;
        _output = output ?? Console.Out;
        _keys = keys ?? DefaultKeys;
        _time = timeProvider ?? TimeProvider.System;
        _interactive = interactive ?? IsLiveConsole(_output);
    }

    /// <summary>Whether the live bar is used (resolved at construction).</summary>
    public bool IsInteractive => _interactive;

    public void Begin(int totalEpochs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalEpochs);
        _total = totalEpochs;
        _start = _time.GetTimestamp();
        _lastLineAt = _start.Value;
        if (_interactive && _live is null)
            _live = LiveBar.TryStart(_output, totalEpochs, this);
    }

    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        if (_finished) return;
        if (_start is null)
        {
            _start = _time.GetTimestamp();
            _lastLineAt = _start.Value;
        }
        _firstStep ??= step;
        _lastStep = step;
        long now = _time.GetTimestamp();
        _lastLine = FormatLine(step, scalars, now);

        if (_live is not null)
        {
            var (_, eta) = Times(step, now);
            _live.Update(step, MetricsText(scalars), eta, now);
            return;
        }
        int every = _total is int n ? Math.Max(1, n / 20) : 1;
        bool due = step % every == 0
            || _time.GetElapsedTime(_lastLineAt, now) >= QuietLimit
            || (_total is int t && step >= t);
        if (due)
            WriteLine(step, now);
    }

    /// <summary>Ends the live bar (leaving the console clean), makes sure the last epoch was printed, then prints the reason.</summary>
    public void Finish(string reason)
    {
        if (_finished) return;
        Stop();
        var elapsed = _start is long s ? _time.GetElapsedTime(s) : TimeSpan.Zero;
        _output.WriteLine($"finished after {FormatDuration(elapsed)}: {reason}");
        _output.Flush();
    }

    public void Dispose()
    {
        if (!_finished) Stop();
    }

    private void Stop()
    {
        _finished = true;
        _live?.Stop();
        _live = null;
        if (_lastStep is long step && _lastPrintedStep != step)
            WriteLine(step, _time.GetTimestamp());
    }

    private void WriteLine(long step, long now)
    {
        _output.WriteLine(_lastLine);
        _output.Flush();
        _lastLineAt = now;
        _lastPrintedStep = step;
    }

    private string FormatLine(long step, IReadOnlyDictionary<string, double> scalars, long now)
    {
        var line = new StringBuilder(EpochText(step));
        line.Append(MetricsText(scalars));
        var (elapsed, eta) = Times(step, now);
        line.Append("  ").Append(TimeText(elapsed, eta));
        return line.ToString();
    }

    private string MetricsText(IReadOnlyDictionary<string, double> scalars)
    {
        var line = new StringBuilder();
        foreach (var key in _keys)
        {
            if (scalars.TryGetValue(key, out double v))
                line.Append("  ").Append(key).Append(' ').Append(FormatNumber(v));
        }
        return line.ToString();
    }

    private string EpochText(long step) => _total is int n ? $"{_unit} {step}/{n}" : $"{_unit} {step}";

    private (TimeSpan Elapsed, TimeSpan? Eta) Times(long step, long now)
    {
        var elapsed = _time.GetElapsedTime(_start!.Value, now);
        if (_total is not int n || _firstStep is not long first)
            return (elapsed, null);
        // Rate over the epochs seen by this logger, so a resumed run does not count the epochs it skipped.
        long done = step - first + 1;
        long remaining = Math.Max(0, n - step);
        return (elapsed, done > 0 ? elapsed * ((double)remaining / done) : TimeSpan.Zero);
    }

    private static string TimeText(TimeSpan elapsed, TimeSpan? eta) => eta is { } e
        ? $"[elapsed {FormatDuration(elapsed)}, eta {FormatDuration(e)}]"
        : $"[elapsed {FormatDuration(elapsed)}]";

    /// <summary>4 significant digits; scientific below 1e-3 and from 1e4 on, where fixed notation gets long.</summary>
    internal static string FormatNumber(double x)
    {
        if (double.IsNaN(x)) return "nan";
        if (double.IsInfinity(x)) return x > 0 ? "inf" : "-inf";
        if (x == 0) return "0";
        double magnitude = Math.Abs(x);
        if (magnitude < 1e-3 || magnitude >= 1e4)
            return x.ToString("0.###e+00", CultureInfo.InvariantCulture);
        return x.ToString("G4", CultureInfo.InvariantCulture);
    }

    /// <summary>mm:ss, or h:mm:ss from one hour on.</summary>
    internal static string FormatDuration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        long seconds = (long)t.TotalSeconds;
        return seconds >= 3600
            ? $"{seconds / 3600}:{seconds / 60 % 60:00}:{seconds % 60:00}"
            : $"{seconds / 60:00}:{seconds % 60:00}";
    }

    /// <summary>
    /// True when <paramref name="output"/> is the process's console, the console is a terminal (not a file or a pipe),
    /// and neither CI=true (or 1) nor TERM=dumb says that redraws would not show.
    /// </summary>
    public static bool IsLiveConsole(TextWriter output)
    {
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected) return false;
        string? ci = Environment.GetEnvironmentVariable("CI");
        if (string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1") return false;
        return Environment.GetEnvironmentVariable("TERM") != "dumb";
    }

    /// <summary>
    /// Spectre's progress display owns a callback, while training calls us epoch by epoch: the display runs on a
    /// background task until <see cref="Stop"/> releases it.
    /// </summary>
    private sealed class LiveBar
    {
        private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConsoleProgressLogger _owner;
        private Task _display = Task.CompletedTask;
        private ProgressTask? _task;
        private volatile Snapshot _now;

        // Immutable so the render thread always sees one consistent epoch.
        private sealed record Snapshot(string Epoch, string Metrics, TimeSpan? EtaAtUpdate, long UpdatedAt);

        private LiveBar(ConsoleProgressLogger owner)
        {
            _owner = owner;
            _now = new Snapshot(owner.EpochText(0), "", null, owner._start ?? owner._time.GetTimestamp());
        }

        /// <summary>Null when the display cannot start (then the owner falls back to plain lines).</summary>
        public static LiveBar? TryStart(TextWriter output, int total, ConsoleProgressLogger owner)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = ReferenceEquals(output, Console.Out) ? AnsiSupport.Detect : AnsiSupport.Yes,
                Interactive = InteractionSupport.Yes,
            });
            var bar = new LiveBar(owner);
            var ready = new TaskCompletionSource<ProgressTask>(TaskCreationOptions.RunContinuationsAsynchronously);
            var progress = console.Progress()
                .AutoClear(true)
                .HideCompleted(false)
                .Columns(new TextColumn(() => bar._now.Epoch), new ProgressBarColumn(), new TextColumn(bar.Status));
            bar._display = Task.Run(() => progress.StartAsync(async context =>
            {
                ready.SetResult(context.AddTask("epochs", autoStart: true, maxValue: Math.Max(1, total)));
                await bar._stop.Task.ConfigureAwait(false);
            }));
            // If Spectre refuses (e.g. another live display is running), the display task ends before handing over a task.
            if (Task.WaitAny(ready.Task, bar._display) == 1 && !ready.Task.IsCompleted)
            {
                _ = bar._display.Exception; // observed: the fallback is plain lines
                return null;
            }
            bar._task = ready.Task.Result;
            return bar;
        }

        public void Update(long step, string metrics, TimeSpan? eta, long now)
        {
            _now = new Snapshot(_owner.EpochText(step), metrics, eta, now);
            _task!.Value = Math.Min(step, _task.MaxValue);
        }

        // Times tick between epochs: elapsed from the start, the ETA counted down from the last estimate.
        private string Status()
        {
            var snapshot = _now;
            var time = _owner._time;
            long now = time.GetTimestamp();
            var elapsed = _owner._start is long start ? time.GetElapsedTime(start, now) : TimeSpan.Zero;
            var eta = snapshot.EtaAtUpdate - time.GetElapsedTime(snapshot.UpdatedAt, now);
            return snapshot.Metrics.TrimStart() + "  " + TimeText(elapsed, eta);
        }

        public void Stop()
        {
            _stop.TrySetResult();
            try { _display.Wait(); }
            catch (AggregateException) { /* a broken display must not break the end of training */ }
        }
    }

    private sealed class TextColumn(Func<string> text) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(text());
    }
}
