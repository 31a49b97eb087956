using System.Globalization;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// A model the catalog can build: its name, one line, the parameters users may set (with their defaults), and how to
/// build it. The solver settings recommended for it come with the model itself (<c>Solving.IRecommendsSolver</c>).
/// </summary>
public sealed record ModelEntry(
    string Name,
    string Summary,
    IReadOnlyList<(string Name, string Description, double Default)> Parameters,
    Func<IReadOnlyDictionary<string, double>, Model> Create)
{
    /// <summary>The valid range of each parameter as text, by name, where its calibration states one (<see cref="ParameterAttribute.Range"/>).</summary>
    public IReadOnlyDictionary<string, string> ParameterRanges { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Models by name, for the command line: each entry is added explicitly with its calibration's defaults (nothing is
/// found by scanning assemblies). A catalog is an ordinary object; build as many as needed.
/// </summary>
public sealed class ModelCatalog
{
    private readonly List<ModelEntry> _entries = [];

    public IReadOnlyList<ModelEntry> Entries => _entries;

    /// <summary>
    /// Adds a model built by <paramref name="create"/> from a calibration: <paramref name="defaults"/> with the user's
    /// overrides applied. <paramref name="parameters"/> names the parameters users may set (all of the record's when
    /// null); the others stay as in <paramref name="defaults"/>, and the entry's models report only the named ones.
    /// </summary>
    public ModelCatalog Add<T>(string name, string summary, T defaults, Func<T, Model> create, IEnumerable<string>? parameters = null) where T : Calibration
    {
        if (_entries.Any(e => e.Name == name)) throw new ArgumentException($"model '{name}' is registered twice");
        var table = parameters is null ? ParameterTable<T>.All : ParameterTable<T>.All.Only(parameters);
        _entries.Add(new ModelEntry(name, summary,
            table.Describe(defaults).Select(p => (p.Name, p.Description, p.Value)).ToArray(),
            overrides =>
            {
                var model = create(table.Apply(defaults, overrides, name));
                if (parameters is not null && model is Model<T> typed) typed.ReportOnly(table);
                return model;
            })
        {
            ParameterRanges = table.Ranges.Where(r => r.Value is not null).ToDictionary(r => r.Key, r => r.Value!, StringComparer.Ordinal),
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
