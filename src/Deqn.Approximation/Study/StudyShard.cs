using System.Globalization;
using System.Text.RegularExpressions;

namespace Deqn.Approximation.Study;

/// <summary>
/// Which share of a study one run trains: shard <see cref="Index"/> of <see cref="Count"/>, counted from 0 (so a Slurm
/// array <c>--array=0-(n-1)</c> passes <c>$SLURM_ARRAY_TASK_ID/n</c> directly). The shards of one study are disjoint and
/// together hold every experiment; see <see cref="StudyRunner.PlanShards"/>.
/// </summary>
public sealed record StudyShard
{
    public StudyShard(int index, int count)
    {
        if (count < 1) throw new ArgumentException($"a study is split into at least 1 shard (got {count})");
        if (index < 0 || index >= count) throw new ArgumentException(OutOfRange(index, count));
        Index = index;
        Count = count;
    }

    public int Index { get; }
    public int Count { get; }

    /// <summary>"i/n", as <c>--shard</c> takes it and config.yaml records it.</summary>
    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses "i/n" (0 ≤ i &lt; n); throws <see cref="ArgumentException"/> with a one-line reason otherwise.</summary>
    public static StudyShard Parse(string text)
    {
        var m = Regex.Match(text.Trim(), @"^(-?\d+)\s*/\s*(-?\d+)$");
        if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(m.Groups[2].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int count))
            throw new ArgumentException($"'{text}' is not of the form i/n (shard i of n, counted from 0: 0/4, 1/4, 2/4, 3/4)");
        if (count < 1) throw new ArgumentException($"{text.Trim()}: a study is split into at least 1 shard");
        if (index < 0 || index >= count) throw new ArgumentException(OutOfRange(index, count));
        return new StudyShard(index, count);
    }

    private static string OutOfRange(int index, int count) =>
        count == 1 ? $"{index}/1 is out of range: the only shard is 0/1"
        : $"{index}/{count} is out of range: shards are counted from 0, 0/{count} … {count - 1}/{count}";
}
