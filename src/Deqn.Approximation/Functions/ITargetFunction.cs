namespace Deqn.Approximation.Functions;

/// <summary>A function ℝ^d → ℝ to approximate. Implementations are immutable and safe to evaluate from several threads.</summary>
public interface ITargetFunction
{
    /// <summary>What users type to choose it: a built-in's name ("trig1") or the expression text.</summary>
    string Name { get; }

    /// <summary>Human-readable, e.g. "sin(πx)·cos(πy)·sin(πz)".</summary>
    string Formula { get; }

    int Dimension { get; }

    Box DefaultDomain { get; }

    /// <exception cref="ArgumentException">x has a length other than <see cref="Dimension"/>.</exception>
    double Evaluate(ReadOnlySpan<double> x);

    /// <summary>One value per row of the [n, d] points.</summary>
    /// <exception cref="ArgumentException">The points have a column count other than <see cref="Dimension"/>.</exception>
    double[] Evaluate(double[,] points);
}

/// <summary>A scalar function of a point, the common shape of built-ins and compiled expressions.</summary>
internal delegate double PointFunction(ReadOnlySpan<double> x);

/// <summary>Shared argument checks and the row loop, so every target function behaves alike.</summary>
internal abstract class TargetFunctionBase : ITargetFunction
{
    public abstract string Name { get; }
    public abstract string Formula { get; }
    public abstract int Dimension { get; }
    public abstract Box DefaultDomain { get; }

    protected abstract double EvaluateUnchecked(ReadOnlySpan<double> x);

    public double Evaluate(ReadOnlySpan<double> x)
    {
        if (x.Length != Dimension)
            throw new ArgumentException($"function '{Name}' takes {Dimension} coordinate{(Dimension == 1 ? "" : "s")}, got {x.Length}");
        return EvaluateUnchecked(x);
    }

    public double[] Evaluate(double[,] points)
    {
        ArgumentNullException.ThrowIfNull(points);
        int n = points.GetLength(0), d = points.GetLength(1);
        if (d != Dimension)
            throw new ArgumentException($"function '{Name}' takes {Dimension} coordinate{(Dimension == 1 ? "" : "s")}, got points with {d} columns");
        var values = new double[n];
        Span<double> row = d <= 64 ? stackalloc double[d] : new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) row[j] = points[i, j];
            values[i] = EvaluateUnchecked(row);
        }
        return values;
    }

    public override string ToString() => Name == Formula ? Name : $"{Name}: {Formula}";
}
