using System.Globalization;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// A calibration record's parameters by name, written out once per model, so configs can override them without
/// reflection: <c>new ParameterTable&lt;C&gt;().Add("alpha", "capital share α", c =&gt; c.Alpha, (c, v) =&gt; c with { Alpha = v })</c>.
/// </summary>
public sealed class ParameterTable<T> where T : class
{
    private readonly List<(string Name, string Description, Func<T, double> Get, Func<T, double, T> With)> _rows = [];

    public ParameterTable<T> Add(string name, string description, Func<T, double> get, Func<T, double, T> with)
    {
        if (_rows.Any(r => r.Name == name)) throw new ArgumentException($"parameter '{name}' is listed twice");
        _rows.Add((name, description, get, with));
        return this;
    }

    public IReadOnlyList<string> Names => _rows.Select(r => r.Name).ToArray();

    /// <summary>The calibration with <paramref name="overrides"/> applied; an unknown name is an error naming the known ones.</summary>
    public T Apply(T calibration, IReadOnlyDictionary<string, double> overrides, string model)
    {
        foreach (var (name, value) in overrides)
        {
            var row = _rows.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
            if (row.Name is null)
                throw new ArgumentException($"model '{model}' has no parameter '{name}' (its parameters: {string.Join(", ", Names)})");
            calibration = row.With(calibration, value);
        }
        return calibration;
    }

    public IReadOnlyList<(string Name, string Description, double Value)> Describe(T calibration) =>
        _rows.Select(r => (r.Name, r.Description, r.Get(calibration))).ToArray();
}

/// <summary>
/// A model the catalog can build: its name, one line, its parameters with defaults, how to build it, and the solver
/// settings recommended for it (as config keys and values, e.g. episodes → 10000), which a command line uses as defaults.
/// </summary>
public sealed record ModelEntry(
    string Name,
    string Summary,
    IReadOnlyList<(string Name, string Description, double Default)> Parameters,
    Func<IReadOnlyDictionary<string, double>, Model> Create)
{
    public IReadOnlyDictionary<string, string> RecommendedSettings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Models by name, for the command line: each entry is added explicitly with its calibration's defaults and parameter
/// table (no reflection, nothing found by scanning assemblies). A catalog is an ordinary object; build as many as needed.
/// </summary>
public sealed class ModelCatalog
{
    private readonly List<ModelEntry> _entries = [];

    public IReadOnlyList<ModelEntry> Entries => _entries;

    public ModelCatalog Add<T>(string name, string summary, T defaults, ParameterTable<T> parameters, Func<T, Model> create,
        IReadOnlyDictionary<string, string>? recommendedSettings = null) where T : class
    {
        if (_entries.Any(e => e.Name == name)) throw new ArgumentException($"model '{name}' is registered twice");
        _entries.Add(new ModelEntry(name, summary,
            parameters.Describe(defaults).Select(p => (p.Name, p.Description, p.Value)).ToArray(),
            overrides => create(parameters.Apply(defaults, overrides, name)))
        {
            RecommendedSettings = recommendedSettings ?? new Dictionary<string, string>(),
        });
        return this;
    }

    /// <summary>The entry called <paramref name="name"/>; an unknown name is an error listing the models.</summary>
    public ModelEntry Find(string name) =>
        _entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown model '{name}' (available: {string.Join(", ", _entries.Select(e => e.Name))})");

    /// <summary>Parses "alpha=0.3;beta=0.99" (or comma-separated) into overrides; a bad pair is an error naming it.</summary>
    public static IReadOnlyDictionary<string, double> ParseOverrides(string? text)
    {
        var result = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (var pair in text.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"'{pair}' is not name=value");
            var name = pair[..eq].Trim();
            var v = pair[(eq + 1)..].Trim();
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
                throw new ArgumentException($"{name}: '{v}' is not a number");
            result[name] = x;
        }
        return result;
    }
}
