namespace Deqn.Cli.Options;

/// <summary>
/// Sweep axes: "key=v1|v2|v3", several separated by ';' (or given as several --sweep options). Each key is a training
/// setting; the study trains every combination of the values.
/// </summary>
public static class Sweeps
{
    public sealed record Axis(string Key, IReadOnlyList<string> Values);

    public static IReadOnlyList<Axis> Parse(string? text, Settings settings, IEnumerable<string> sweepable)
    {
        var axes = new List<Axis>();
        if (string.IsNullOrWhiteSpace(text)) return axes;
        var allowed = sweepable.ToHashSet();
        foreach (var part in text.Split(new[] { ';', '\n' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw settings.Error("sweep", $"'{part}' is not key=value1|value2");
            var key = Settings.Canonical(part[..eq]);
            if (!allowed.Contains(key))
                throw settings.Error("sweep", $"'{part[..eq].Trim()}' cannot be swept (sweepable: {string.Join(", ", allowed.Order())})");
            if (axes.Any(a => a.Key == key)) throw settings.Error("sweep", $"'{key}' is swept twice");
            var values = part[(eq + 1)..].Split('|', StringSplitOptions.TrimEntries);
            if (values.Length == 0 || values.Any(v => v.Length == 0 && key != "layers"))
                throw settings.Error("sweep", $"'{part}' has an empty value");
            axes.Add(new Axis(key, values));
        }
        return axes;
    }

    /// <summary>Every combination of the axes' values, in order (the first axis varies slowest).</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Combinations(IReadOnlyList<Axis> axes)
    {
        IEnumerable<Dictionary<string, string>> combos = new[] { new Dictionary<string, string>() };
        foreach (var axis in axes)
            combos = combos.SelectMany(c => axis.Values.Select(v => new Dictionary<string, string>(c) { [axis.Key] = v })).ToList();
        return combos.Cast<IReadOnlyDictionary<string, string>>().ToList();
    }

    public static string Label(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? "default" : string.Join(" ", values.Select(kv => $"{kv.Key}={kv.Value}"));
}
