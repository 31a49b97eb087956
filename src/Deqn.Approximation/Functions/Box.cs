using System.Globalization;
using System.Text.RegularExpressions;

namespace Deqn.Approximation.Functions;

/// <summary>
/// An axis-aligned box [Lower₁, Upper₁] × … × [Lower_d, Upper_d], the domain of a target function.
/// Bounds are finite with Lower &lt; Upper in every dimension. The arrays are copied on construction;
/// equality compares the bounds, not the array references.
/// </summary>
public sealed partial record Box
{
    public Box(double[] Lower, double[] Upper)
    {
        ArgumentNullException.ThrowIfNull(Lower);
        ArgumentNullException.ThrowIfNull(Upper);
        if (Lower.Length != Upper.Length)
            throw new ArgumentException($"box: {Lower.Length} lower bounds but {Upper.Length} upper bounds");
        if (Lower.Length == 0) throw new ArgumentException("box: needs at least one dimension");
        for (int i = 0; i < Lower.Length; i++)
        {
            if (!double.IsFinite(Lower[i]) || !double.IsFinite(Upper[i]))
                throw new ArgumentException($"box: dimension {i + 1}: bounds must be finite (got {F(Lower[i])}, {F(Upper[i])})");
            if (!(Lower[i] < Upper[i]))
                throw new ArgumentException($"box: dimension {i + 1}: lower {F(Lower[i])} >= upper {F(Upper[i])}");
        }
        this.Lower = (double[])Lower.Clone();
        this.Upper = (double[])Upper.Clone();
    }

    public double[] Lower { get; }
    public double[] Upper { get; }
    public int Dimension => Lower.Length;

    public void Deconstruct(out double[] Lower, out double[] Upper) => (Lower, Upper) = (this.Lower, this.Upper);

    /// <summary>[0, 1]^d.</summary>
    public static Box Unit(int d) => Cube(d, 0, 1);

    /// <summary>[lower, upper]^d.</summary>
    public static Box Cube(int d, double lower, double upper)
    {
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, "box: needs at least one dimension");
        return new Box(Enumerable.Repeat(lower, d).ToArray(), Enumerable.Repeat(upper, d).ToArray());
    }

    /// <summary>The midpoint of every interval.</summary>
    public double[] Centre()
    {
        var c = new double[Dimension];
        for (int i = 0; i < c.Length; i++) c[i] = 0.5 * (Lower[i] + Upper[i]);
        return c;
    }

    /// <summary>
    /// Reads a box as users write it:
    /// <list type="bullet">
    /// <item>"0,1": the same interval in every dimension (needs <paramref name="dimension"/>);</item>
    /// <item>"0:1,0:1,-1:1": one lo:hi per dimension (a single lo:hi is repeated when <paramref name="dimension"/> is given);</item>
    /// <item>"[0,1]x[0,1]x[-1,1]" (also with × or *, as <see cref="ToString"/> writes it), or "[0,1]^3".</item>
    /// </list>
    /// When <paramref name="dimension"/> is given, the box must have that many dimensions.
    /// </summary>
    /// <exception cref="ArgumentException">One-line message naming the problem.</exception>
    public static Box Parse(string text, int? dimension = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (dimension is < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "box: needs at least one dimension");
        string s = text.Trim();
        if (s.Length == 0) throw new ArgumentException("box: empty text (write e.g. \"0,1\", \"0:1,0:1,-1:1\" or \"[0,1]x[0,1]x[-1,1]\")");

        List<(double Lo, double Hi)> intervals;
        bool repeatable; // a single interval that stands for every dimension
        if (s.StartsWith('['))
        {
            var power = PowerForm().Match(s);
            if (power.Success)
            {
                int d = int.Parse(power.Groups[2].Value, CultureInfo.InvariantCulture);
                if (d < 1) throw new ArgumentException($"box '{text}': the power must be at least 1");
                var one = Interval(power.Groups[1].Value, ',', text, 1);
                intervals = Enumerable.Repeat(one, d).ToList();
                repeatable = false;
            }
            else
            {
                var factors = s.Split(['x', 'X', '×', '*']).Select(f => f.Trim()).ToArray();
                intervals = new List<(double, double)>(factors.Length);
                for (int i = 0; i < factors.Length; i++)
                {
                    string f = factors[i];
                    if (f.Length < 2 || f[0] != '[' || f[^1] != ']')
                        throw new ArgumentException($"box '{text}': dimension {i + 1}: expected an interval such as [0,1], got '{f}'");
                    intervals.Add(Interval(f[1..^1], ',', text, i + 1));
                }
                repeatable = factors.Length == 1;
            }
        }
        else if (s.Contains(':'))
        {
            var parts = s.Split(',');
            intervals = parts.Select((p, i) => Interval(p, ':', text, i + 1)).ToList();
            repeatable = parts.Length == 1;
        }
        else
        {
            intervals = [Interval(s, ',', text, 1)];
            if (dimension is null)
                throw new ArgumentException($"box '{text}' gives one interval for every dimension, but the number of dimensions is not known (write one lo:hi per dimension, e.g. \"0:1,0:1,0:1\")");
            repeatable = true;
        }

        if (dimension is int n && intervals.Count != n)
        {
            if (repeatable) intervals = Enumerable.Repeat(intervals[0], n).ToList();
            else throw new ArgumentException($"box '{text}' has {intervals.Count} dimension{(intervals.Count == 1 ? "" : "s")} but {n} are needed");
        }
        return new Box(intervals.Select(iv => iv.Lo).ToArray(), intervals.Select(iv => iv.Hi).ToArray());
    }

    private static (double Lo, double Hi) Interval(string part, char separator, string text, int dimension)
    {
        var ends = part.Split(separator);
        if (ends.Length != 2)
            throw new ArgumentException($"box '{text}': dimension {dimension}: expected two bounds 'lower{separator}upper', got '{part.Trim()}'");
        double lo = Number(ends[0], text, dimension), hi = Number(ends[1], text, dimension);
        if (!(lo < hi)) throw new ArgumentException($"box '{text}': dimension {dimension}: lower {F(lo)} >= upper {F(hi)}");
        return (lo, hi);
    }

    private static double Number(string s, string text, int dimension)
    {
        string t = s.Trim().Replace('−', '-'); // the Unicode minus that ToString-like formulas use
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
        throw new ArgumentException($"box '{text}': dimension {dimension}: '{s.Trim()}' is not a finite number");
    }

    /// <summary>"[0, 1] × [0, 1] × [-1, 1]"; <see cref="Parse"/> reads it back.</summary>
    public override string ToString() =>
        string.Join(" × ", Lower.Select((lo, i) => $"[{F(lo)}, {F(Upper[i])}]"));

    /// <summary>Whether x lies in the closed box.</summary>
    /// <exception cref="ArgumentException">x has a different number of coordinates.</exception>
    public bool Contains(ReadOnlySpan<double> x)
    {
        if (x.Length != Dimension) throw new ArgumentException($"box: a point with {x.Length} coordinates for a {Dimension}-dimensional box");
        for (int i = 0; i < x.Length; i++)
            if (!(x[i] >= Lower[i] && x[i] <= Upper[i])) return false;
        return true;
    }

    public bool Equals(Box? other) =>
        other is not null && Lower.AsSpan().SequenceEqual(other.Lower) && Upper.AsSpan().SequenceEqual(other.Upper);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (double v in Lower) h.Add(v);
        foreach (double v in Upper) h.Add(v);
        return h.ToHashCode();
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\[([^\]]*)\]\s*\^\s*(\d+)$")]
    private static partial Regex PowerForm();
}
