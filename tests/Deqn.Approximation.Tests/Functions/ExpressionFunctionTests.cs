using CsCheck;
using Deqn.Approximation.Functions;

namespace Deqn.Approximation.Tests.Functions;

public sealed class ExpressionFunctionTests
{
    public static TheoryData<string, string> BuiltinsAsText => new()
    {
        { "poly1", "x^2 + y^2 + z^2" },
        { "poly2", "x**3 + x*y + y^3 + z" },
        { "trig1", "sin(pi*x)*cos(pi*y)*sin(pi*z)" },
        { "trig2", "sin(PI*x) + cos(pi*y) + Sin(pi*z)" },
        { "exp1", "exp(x+y+z)" },
        { "exp2", "e^(x^2 - y^2 + z^2)" },
        { "mixed1", "x*exp(y)*sin(π*z)" },
        { "mixed2", "sin(pi*x) * pow(e, y) * cos(pi*z)" },
        { "cos2d", "cos(pi*x/2)*cos(pi*y/2)" },
    };

    [Theory]
    [MemberData(nameof(BuiltinsAsText))]
    public void An_expression_of_a_builtins_formula_agrees_with_the_builtin_everywhere_in_its_domain(string name, string text)
    {
        // Given
        var builtin = BuiltinFunctions.Get(name);
        var parsed = ExpressionFunction.Parse(text);
        var box = builtin.DefaultDomain;
        Assert.Equal(builtin.Dimension, parsed.Dimension);

        // When / Then: e^v by pow and by exp differ in the last bits only, so 1e-12 relative
        var point = Gen.Double[0, 1].Array[box.Dimension].Select(u =>
            u.Select((ui, j) => box.Lower[j] + ui * (box.Upper[j] - box.Lower[j])).ToArray());
        point.Sample(x =>
        {
            double expected = builtin.Evaluate(x), actual = parsed.Evaluate(x);
            Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)),
                $"{name} at ({string.Join(", ", x)}): {actual} vs {expected}");
        }, iter: 200);
    }

    [Fact]
    public void Indexed_variables_give_a_five_dimensional_function()
    {
        // Given / When
        var f = ExpressionFunction.Parse("x1 + 2*x2 + 3*x3 + 4*x4 + 5*X5");

        // Then
        Assert.Equal(5, f.Dimension);
        Assert.Equal(Box.Unit(5), f.DefaultDomain);
        Assert.Equal(15, f.Evaluate([1.0, 1, 1, 1, 1]));
        Assert.Equal(5, f.Evaluate([0.0, 0, 0, 0, 1]));
        Assert.Equal("x1 + 2*x2 + 3*x3 + 4*x4 + 5*X5", f.Name);
    }

    [Theory]
    [InlineData("x", 1)]
    [InlineData("y", 2)]
    [InlineData("z + x", 3)]
    [InlineData("x3", 3)]
    [InlineData("pi", 1)]
    public void The_dimension_is_the_highest_variable_used(string text, int dimension)
    {
        // Given / When
        var f = ExpressionFunction.Parse(text);

        // Then
        Assert.Equal(dimension, f.Dimension);
    }

    [Fact]
    public void A_domain_may_have_more_dimensions_than_the_expression_uses()
    {
        // Given / When
        var f = ExpressionFunction.Parse("x^2", dimension: 3);

        // Then: the unused coordinates are ignored
        Assert.Equal(3, f.Dimension);
        Assert.Equal(4, f.Evaluate([2.0, 5, 7]));
    }

    [Theory]
    [InlineData("-x^2", 2, -4)]
    [InlineData("2^3^2", 0, 512)]
    [InlineData("(-x)**2", 2, 4)]
    [InlineData("1/2", 0, 0.5)]
    [InlineData("2**40", 0, 1099511627776)]
    [InlineData("log(e) + log(8, 2)", 0, 4)]
    [InlineData("ln(1) + log10(1000)", 0, 3)]
    [InlineData("max(x, 1, 3) + min(x, -1)", 2, 2)]
    [InlineData("sqrt(abs(x - 6)) + tanh(0)", 2, 2)]
    [InlineData("3 · x − 1", 2, 5)]
    [InlineData("1e-3 * x", 2, 0.002)]
    public void Operators_follow_mathematical_precedence_in_doubles(string text, double x, double expected)
    {
        // Given
        var f = ExpressionFunction.Parse(text, dimension: 1);

        // When
        double value = f.Evaluate([x]);

        // Then
        Assert.Equal(expected, value, 1e-12);
    }

    [Theory]
    [InlineData("sin(pi*x", "expression 'sin(pi*x': parenthesis not closed at position 9")]
    [InlineData("x^2)", "expression 'x^2)': invalid token in expression at position 4")]
    [InlineData("w+x", "unknown variable 'w' in 'w+x' (use x, y, z or x1..xd)")]
    [InlineData("x0 + 1", "unknown variable 'x0' in 'x0 + 1' (use x, y, z or x1..xd)")]
    [InlineData("x + x2", "the expression 'x + x2' mixes x and x2: use x, y, z or x1..xd, not both")]
    [InlineData("pow(x)", "function 'pow' takes 2 arguments, got 1 in 'pow(x)'")]
    [InlineData("x % 2", "expression 'x % 2': operator '%' is not supported (use + - * / ^ and functions such as sin, exp, log)")]
    [InlineData("x > 1", "expression 'x > 1': operator '>' is not supported (use + - * / ^ and functions such as sin, exp, log)")]
    [InlineData("  ", "expression is empty (write e.g. \"sin(pi*x)*exp(y)\")")]
    public void Each_error_has_a_one_line_message(string text, string message)
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => ExpressionFunction.Parse(text));

        // Then
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void An_unknown_function_is_named_with_the_available_ones()
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => ExpressionFunction.Parse("foo(x)"));

        // Then
        Assert.StartsWith("unknown function 'foo' in 'foo(x)' (available: sin, cos, tan,", e.Message);
        Assert.Contains("exp, log", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("x + y + z", 2, "the expression uses z (3 dimensions) but the domain has 2")]
    [InlineData("x1 * x5", 3, "the expression uses x5 (5 dimensions) but the domain has 3")]
    [InlineData("y", 1, "the expression uses y (2 dimensions) but the domain has 1")]
    public void Using_more_variables_than_the_domain_has_is_refused(string text, int dimension, string message)
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => ExpressionFunction.Parse(text, dimension));

        // Then
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_non_finite_value_is_returned_not_thrown()
    {
        // Given
        var f = ExpressionFunction.Parse("log(x)");

        // When / Then: the study reports non-finite values with the point where they occur
        Assert.Equal(double.NegativeInfinity, f.Evaluate([0.0]));
        Assert.True(double.IsNaN(f.Evaluate([-1.0])));
    }

    [Fact]
    public void One_parsed_expression_evaluates_correctly_from_several_threads()
    {
        // Given
        var f = ExpressionFunction.Parse("sin(pi*x)*exp(y) + z^2");
        var rng = new Random(7);
        var points = new double[20_000, 3];
        for (int i = 0; i < points.GetLength(0); i++)
            for (int j = 0; j < 3; j++) points[i, j] = rng.NextDouble();
        double[] sequential = f.Evaluate(points);

        // When
        var parallel = new double[points.GetLength(0)];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => parallel[i] = f.Evaluate([points[i, 0], points[i, 1], points[i, 2]]));

        // Then
        Assert.Equal(sequential, parallel);
        Assert.Equal(Math.Sin(Math.PI * points[0, 0]) * Math.Exp(points[0, 1]) + points[0, 2] * points[0, 2], sequential[0], 1e-12);
    }
}
