using System.Reflection;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// A model's parameters as one positional record: each parameter is written once, with its name for configs and
/// <c>--set</c>, its meaning and its default, e.g.
/// <c>record GrowthCalibration([Parameter("alpha", "capital share α")] double Alpha = 0.36, …) : Calibration</c>.
/// Code builds calibrations as records (<c>new GrowthCalibration(Delta: 1)</c>, <c>c with { Beta = 0.98 }</c>); configs
/// and command lines go through its <see cref="ParameterTable{T}"/>.
/// </summary>
public abstract record Calibration
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first impossible parameter; nothing to check by default.</summary>
    public virtual void Validate() { }
}

/// <summary>
/// Marks a parameter of a <see cref="Calibration"/> record's primary constructor: its name in configs, its meaning and,
/// optionally, the values it may take as text for listings (<c>Range = "(0, 1)"</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class ParameterAttribute(string name, string description) : Attribute
{
    public string Name { get; } = name;
    public string Description { get; } = description;

    /// <summary>
    /// The valid values in words or interval notation ("(0, 1)", "(0, 1]", "> 0", "below k_high"), shown by
    /// <c>deqn models &lt;name&gt;</c>; the record's <see cref="Calibration.Validate"/> stays what enforces them.
    /// </summary>
    public string? Range { get; init; }
}

/// <summary>
/// The parameters of a calibration record by name, read once from the [Parameter] marks of its primary constructor:
/// overrides from configs are applied by rebuilding the record through that constructor, so a record's own checks run.
/// </summary>
public sealed class ParameterTable<T> where T : Calibration
{
    private readonly ConstructorInfo _constructor;
    private readonly PropertyInfo[] _arguments;                   // one per constructor parameter, to read a record's values
    private readonly (string Name, string Description, int Argument, string? Range)[] _rows;

    private ParameterTable(ConstructorInfo constructor, PropertyInfo[] arguments, (string, string, int, string?)[] rows)
    {
        _constructor = constructor;
        _arguments = arguments;
        _rows = rows;
    }

    private static readonly Lazy<ParameterTable<T>> Marked = new(Read);

    /// <summary>Every marked parameter of <typeparamref name="T"/>, in declaration order (a badly marked record is an error naming the parameter).</summary>
    public static ParameterTable<T> All => Marked.Value;

    public IReadOnlyList<string> Names => _rows.Select(r => r.Name).ToArray();

    /// <summary>Only the named parameters (a catalog entry that fixes the others); an unknown name is an error.</summary>
    public ParameterTable<T> Only(IEnumerable<string> names)
    {
        var wanted = names.ToArray();
        foreach (var name in wanted)
            if (!_rows.Any(r => r.Name == name)) throw new ArgumentException($"{typeof(T).Name} has no parameter '{name}' (its parameters: {string.Join(", ", Names)})");
        return new ParameterTable<T>(_constructor, _arguments, _rows.Where(r => wanted.Contains(r.Name)).ToArray());
    }

    /// <summary>The calibration with <paramref name="overrides"/> applied; an unknown name is an error naming the known ones.</summary>
    public T Apply(T calibration, IReadOnlyDictionary<string, double> overrides, string model)
    {
        var values = _arguments.Select(p => p.GetValue(calibration)).ToArray();
        foreach (var (name, value) in overrides)
        {
            var row = _rows.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
            if (row.Name is null)
                throw new ArgumentException($"model '{model}' has no parameter '{name}' (its parameters: {string.Join(", ", Names)})");
            values[row.Argument] = value;
        }
        try { return (T)_constructor.Invoke(values); }
        catch (TargetInvocationException e) when (e.InnerException is not null) { throw e.InnerException; }
    }

    public IReadOnlyList<(string Name, string Description, double Value)> Describe(T calibration) =>
        _rows.Select(r => (r.Name, r.Description, (double)_arguments[r.Argument].GetValue(calibration)!)).ToArray();

    /// <summary>Each parameter's valid range as its [Parameter] mark states it (<see cref="ParameterAttribute.Range"/>), by name; null where unstated.</summary>
    public IReadOnlyDictionary<string, string?> Ranges => _rows.ToDictionary(r => r.Name, r => r.Range, StringComparer.Ordinal);

    private static ParameterTable<T> Read()
    {
        // A positional record has one public constructor whose parameters are its properties (the copy constructor is protected).
        var constructors = typeof(T).GetConstructors();
        if (constructors.Length != 1)
            throw new InvalidOperationException($"{typeof(T).Name}: a calibration is a positional record with one public constructor");
        var constructor = constructors[0];
        var parameters = constructor.GetParameters();
        var arguments = parameters.Select(p => typeof(T).GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"{typeof(T).Name}: constructor parameter '{p.Name}' has no property of that name")).ToArray();
        var rows = new List<(string, string, int, string?)>();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].GetCustomAttribute<ParameterAttribute>() is not { } mark) continue;
            if (parameters[i].ParameterType != typeof(double))
                throw new InvalidOperationException($"{typeof(T).Name}.{parameters[i].Name}: a parameter is a double");
            if (rows.Any(r => r.Item1 == mark.Name)) throw new InvalidOperationException($"{typeof(T).Name}: parameter '{mark.Name}' is named twice");
            rows.Add((mark.Name, mark.Description, i, mark.Range));
        }
        return new ParameterTable<T>(constructor, arguments, rows.ToArray());
    }
}
