using System.Diagnostics;
using System.Globalization;
using Deqn.Approximation.Study;

namespace Deqn.Cli.Output;

/// <summary>
/// Progress over a study's experiments: one line redrawn in place on a terminal (count, bar, elapsed, ETA, the last
/// result), plain lines every 5% or 5 s when the output is redirected.
/// </summary>
public sealed class StudyProgress(Terminal terminal, bool quiet) : IDisposable
{
    private static readonly TimeSpan QuietLimit = TimeSpan.FromSeconds(5);

    private readonly Stopwatch _clock = new();
    private readonly bool _interactive = !quiet && terminal.Interactive;
    private int _total, _done;
    // When the last plain line was written; the start counts as one, so the 5 s rule measures from there.
    private TimeSpan _lastLine = TimeSpan.Zero;
    private int _lastPercent;
    private bool _finished;

    public void Start(int toRun, int reused)
    {
        _total = toRun;
        _clock.Start();
        if (reused > 0 && !quiet) terminal.Out.WriteLine($"{reused} experiments already done in this folder; running the other {toRun}");
    }

    public void Advance(ExperimentResult r)
    {
        _done++;
        if (quiet) return;
        var elapsed = _clock.Elapsed;
        var eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / _done * (_total - _done));
        string last = string.Create(CultureInfo.InvariantCulture, $"{r.Function} N={r.Key.N} seed {r.Key.Seed}: mean {r.MeanAbsError:0.##e+0}, max {r.MaxAbsError:0.##e+0}");
        if (_interactive)
        {
            int width = 24, filled = _total == 0 ? width : width * _done / _total;
            var bar = new string('━', filled) + new string('╺', Math.Min(1, width - filled)) + new string(' ', Math.Max(0, width - filled - 1));
            var line = $"experiments {_done}/{_total} {bar} [{Format(elapsed)} elapsed, eta {Format(eta)}]  {last}";
            int max = Math.Max(20, terminal.Width - 1);
            terminal.Out.Write("\r" + (line.Length > max ? line[..max] : line.PadRight(max)));
            terminal.Out.Flush();
            return;
        }
        int percent = _total == 0 ? 100 : 100 * _done / _total;
        if (_done >= _total || percent >= _lastPercent + 5 || elapsed - _lastLine >= QuietLimit)
        {
            terminal.Out.WriteLine($"experiments {_done}/{_total} ({percent}%)  [{Format(elapsed)} elapsed, eta {Format(eta)}]  {last}");
            terminal.Out.Flush();
            _lastPercent = percent;
            _lastLine = elapsed;
        }
    }

    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        if (_interactive && _done > 0) terminal.Out.WriteLine();
        _clock.Stop();
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);

    public void Dispose() => Finish();
}
