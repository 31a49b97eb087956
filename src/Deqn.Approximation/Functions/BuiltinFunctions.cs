namespace Deqn.Approximation.Functions;

/// <summary>
/// The lecture's eight test functions on [0, 1]³ and the notebook's 2-D example on [−1, 1]².
/// Names are matched case-insensitively; "sphere" is an alias of poly1.
/// </summary>
public static class BuiltinFunctions
{
    private static readonly Box UnitCube = Box.Unit(3);

    public static IReadOnlyList<ITargetFunction> All { get; } =
    [
        new BuiltinFunction("poly1", "x² + y² + z²", UnitCube,
            x => x[0] * x[0] + x[1] * x[1] + x[2] * x[2]),
        new BuiltinFunction("poly2", "x³ + x·y + y³ + z", UnitCube,
            x => x[0] * x[0] * x[0] + x[0] * x[1] + x[1] * x[1] * x[1] + x[2]),
        new BuiltinFunction("trig1", "sin(πx)·cos(πy)·sin(πz)", UnitCube,
            x => Math.Sin(Math.PI * x[0]) * Math.Cos(Math.PI * x[1]) * Math.Sin(Math.PI * x[2])),
        new BuiltinFunction("trig2", "sin(πx) + cos(πy) + sin(πz)", UnitCube,
            x => Math.Sin(Math.PI * x[0]) + Math.Cos(Math.PI * x[1]) + Math.Sin(Math.PI * x[2])),
        new BuiltinFunction("exp1", "e^(x + y + z)", UnitCube,
            x => Math.Exp(x[0] + x[1] + x[2])),
        new BuiltinFunction("exp2", "e^(x² − y² + z²)", UnitCube,
            x => Math.Exp(x[0] * x[0] - x[1] * x[1] + x[2] * x[2])),
        new BuiltinFunction("mixed1", "x·e^y·sin(πz)", UnitCube,
            x => x[0] * Math.Exp(x[1]) * Math.Sin(Math.PI * x[2])),
        new BuiltinFunction("mixed2", "sin(πx)·e^y·cos(πz)", UnitCube,
            x => Math.Sin(Math.PI * x[0]) * Math.Exp(x[1]) * Math.Cos(Math.PI * x[2])),
        new BuiltinFunction("cos2d", "cos(πx/2)·cos(πy/2)", Box.Cube(2, -1, 1),
            x => Math.Cos(Math.PI * x[0] / 2) * Math.Cos(Math.PI * x[1] / 2)),
    ];

    private static readonly Dictionary<string, ITargetFunction> ByName = BuildIndex();

    private static Dictionary<string, ITargetFunction> BuildIndex()
    {
        var index = All.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
        index["sphere"] = index["poly1"];
        return index;
    }

    public static bool TryGet(string name, out ITargetFunction f)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name.Trim(), out f!);
    }

    /// <exception cref="ArgumentException">Not a built-in name; the message lists them.</exception>
    public static ITargetFunction Get(string name) =>
        TryGet(name, out var f)
            ? f
            : throw new ArgumentException(
                $"unknown function '{name}' (built-in: {string.Join(", ", All.Select(b => b.Name))}; or give an expression such as \"sin(pi*x)*exp(y)\")");

    private sealed class BuiltinFunction(string name, string formula, Box domain, PointFunction f) : TargetFunctionBase
    {
        public override string Name => name;
        public override string Formula => formula;
        public override int Dimension => domain.Dimension;
        // A fresh copy: Box exposes its arrays, and a caller scribbling on them must not change the built-in.
        public override Box DefaultDomain => new(domain.Lower, domain.Upper);
        protected override double EvaluateUnchecked(ReadOnlySpan<double> x) => f(x);
    }
}
