namespace Deqn.Cli.Options;

/// <summary>One setting a command accepts, both as <c>--name</c> on the command line and as <c>name:</c> in a config file.</summary>
/// <param name="Name">Canonical name, kebab-case (config files may use snake_case).</param>
/// <param name="Default">Default as text; null when the setting is unset by default.</param>
/// <param name="Help">One line for --help.</param>
/// <param name="Flag">A switch: given without a value means "true".</param>
/// <param name="Group">Heading for --help and the merged config.</param>
/// <param name="Repeatable">May be given several times; the values are joined with ';'.</param>
public sealed record OptionDef(string Name, string? Default, string Help, string Group, bool Flag = false, string? ValueName = null, bool Repeatable = false);

/// <summary>A thrown one-line message about the user's input: an option, a config key, a file.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Settings merged from defaults, a config file and the command line (later wins), each remembering where it came
/// from so that errors can name the flag or the file and key.
/// </summary>
public sealed class Settings
{
    private readonly Dictionary<string, (string? Value, string Source)> _values = new();
    private readonly IReadOnlyList<OptionDef> _defs;

    public Settings(IReadOnlyList<OptionDef> defs)
    {
        _defs = defs;
        foreach (var d in defs) _values[d.Name] = (d.Default, "default");
    }

    public IReadOnlyList<OptionDef> Definitions => _defs;

    /// <summary>A copy to vary (a sweep's configurations start from the study's settings).</summary>
    public Settings Clone()
    {
        var copy = new Settings(_defs);
        foreach (var (k, v) in _values) copy._values[k] = v;
        return copy;
    }

    public static string Canonical(string key) => key.Trim().Replace('_', '-').ToLowerInvariant();

    public bool IsKnown(string key) => _values.ContainsKey(Canonical(key));

    public void Set(string key, string? value, string source)
    {
        var name = Canonical(key);
        if (!_values.ContainsKey(name))
            throw new UsageException($"{source}: unknown key '{key}'{Suggest(name)}");
        _values[name] = (value, source);
    }

    private string Suggest(string name)
    {
        var best = _defs.Select(d => (d.Name, Distance: Levenshtein(d.Name, name))).OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, name.Length / 3) ? $" (did you mean '{best.Name}'?)" : "";
    }

    private static int Levenshtein(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    public string? Raw(string name) => _values[name].Value;
    public string Source(string name) => _values[name].Source;

    /// <summary>How an error names a setting: "--lr" from the command line, "run.yaml: key 'lr'" from a file.</summary>
    public string Where(string name)
    {
        var src = _values[name].Source;
        return src == "command line" || src == "default" ? $"--{name}" : $"{src}: key '{name}'";
    }

    public UsageException Error(string name, string problem) => new($"{Where(name)}: {problem}");

    public string? String(string name) => string.IsNullOrWhiteSpace(Raw(name)) ? null : Raw(name)!.Trim();

    public string Required(string name, string hint) => String(name) ?? throw new UsageException($"missing --{name} ({hint})");

    public bool Bool(string name)
    {
        var v = String(name);
        return v?.ToLowerInvariant() switch
        {
            null => false,
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw Error(name, $"'{v}' is not true or false"),
        };
    }

    public double? DoubleOrNull(string name)
    {
        var v = String(name);
        if (v is null) return null;
        if (!double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
            throw Error(name, $"'{v}' is not a number");
        return x;
    }

    public double Double(string name) => DoubleOrNull(name) ?? throw Error(name, "a number is required");

    public double Positive(string name)
    {
        var x = Double(name);
        return x > 0 ? x : throw Error(name, $"must be > 0 (got {Raw(name)})");
    }

    public double? PositiveOrNull(string name)
    {
        var x = DoubleOrNull(name);
        return x is null || x > 0 ? x : throw Error(name, $"must be > 0 (got {Raw(name)})");
    }

    public int? IntOrNull(string name)
    {
        var v = String(name);
        if (v is null) return null;
        return int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var x)
            ? x
            : throw Error(name, $"'{v}' is not a whole number");
    }

    public int Int(string name, int min = int.MinValue)
    {
        var x = IntOrNull(name) ?? throw Error(name, "a whole number is required");
        return x >= min ? x : throw Error(name, $"must be at least {min} (got {x})");
    }

    public long Long(string name)
    {
        var v = String(name) ?? throw Error(name, "a whole number is required");
        return long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var x)
            ? x
            : throw Error(name, $"'{v}' is not a whole number");
    }

    /// <summary>A comma-separated list (config files may also give a YAML/TOML list, which arrives joined by commas).</summary>
    public IReadOnlyList<string> List(string name) =>
        String(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Array.Empty<string>();

    /// <summary>Runs a parser and re-throws its complaint with the setting's name in front.</summary>
    public T Parse<T>(string name, Func<string, T> parse, bool allowEmpty = false)
    {
        var v = String(name) ?? (allowEmpty ? "" : throw Error(name, "a value is required"));
        try { return parse(v); }
        catch (ArgumentException e) { throw Error(name, e.Message); }
    }

    /// <summary>All settings with their final values, for the run folder's merged config.</summary>
    public IEnumerable<(OptionDef Def, string? Value, string Source)> All() => _defs.Select(d => (d, _values[d.Name].Value, _values[d.Name].Source));
}
