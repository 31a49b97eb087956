using System.Text;

namespace Deqn.Cli.Output;

/// <summary>
/// Writes to another writer until that fails — standard output closed (<c>&gt;&amp;-</c>), a file system full, a reader
/// that went away — and from then on discards. What a run prints is for its audience; what it computes goes to its
/// run folder, and losing the first must never cost the second.
/// </summary>
public sealed class BestEffortWriter(TextWriter inner) : TextWriter
{
    private bool _broken;

    /// <summary>True once a write failed; later output is dropped.</summary>
    public bool IsBroken => _broken;

    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // the base setter accepts null and so does the inner writer
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value) => Try(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Try(() => inner.Write(buffer, index, count));

    public override void Write(string? value) => Try(() => inner.Write(value));

    public override void WriteLine(string? value) => Try(() => inner.WriteLine(value));

    public override void WriteLine() => Try(inner.WriteLine);

    public override void Flush() => Try(inner.Flush);

    private void Try(Action write)
    {
        if (_broken) return;
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _broken = true;
        }
    }
}
