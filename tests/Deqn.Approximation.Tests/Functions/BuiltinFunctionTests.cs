using Deqn.Approximation.Functions;

namespace Deqn.Approximation.Tests.Functions;

public sealed class BuiltinFunctionTests
{
    private const double Tol = 1e-12; // absolute; all values here are O(1)–O(10)

    public static TheoryData<string, double[], double> HandComputedValues => new()
    {
        { "poly1", [0.5, 0.5, 0.5], 0.75 },
        { "poly1", [1, 0, 1], 2 },
        { "poly2", [0.5, 1, 0], 0.125 + 0.5 + 1 },
        { "poly2", [1, 1, 1], 4 },
        { "trig1", [0.5, 0, 0.5], 1 },
        { "trig1", [0.5, 1, 0.5], -1 },
        { "trig1", [0, 0.3, 0.7], 0 },
        { "trig2", [0.5, 0, 0.5], 3 },
        { "trig2", [0, 1, 1], -1 },
        { "exp1", [0, 0, 0], 1 },
        { "exp1", [0.5, 0.5, 1], Math.E * Math.E },
        { "exp2", [1, 1, 1], Math.E },
        { "exp2", [0, 1, 0], 1 / Math.E },
        { "mixed1", [1, 0, 0.5], 1 },
        { "mixed1", [0.5, 1, 0.5], 0.5 * Math.E },
        { "mixed2", [0.5, 0, 0], 1 },
        { "mixed2", [0.5, 1, 1], -Math.E },
        { "cos2d", [0, 0], 1 },
        { "cos2d", [2.0 / 3, 0], 0.5 },
        { "cos2d", [1, -1], 0 },
    };

    [Theory]
    [MemberData(nameof(HandComputedValues))]
    public void Each_builtin_matches_its_formula_at_hand_computed_points(string name, double[] x, double expected)
    {
        // Given
        var f = BuiltinFunctions.Get(name);

        // When
        double value = f.Evaluate(x);

        // Then
        Assert.Equal(expected, value, Tol);
    }

    [Fact]
    public void The_lecture_functions_live_on_the_unit_cube_and_the_notebook_example_on_minus_one_to_one_squared()
    {
        // Given / When
        var names = BuiltinFunctions.All.Select(f => f.Name).ToArray();

        // Then
        Assert.Equal(["poly1", "poly2", "trig1", "trig2", "exp1", "exp2", "mixed1", "mixed2", "cos2d"], names);
        foreach (var f in BuiltinFunctions.All.Where(f => f.Name != "cos2d"))
        {
            Assert.Equal(3, f.Dimension);
            Assert.Equal(Box.Unit(3), f.DefaultDomain);
        }
        var cos2d = BuiltinFunctions.Get("cos2d");
        Assert.Equal(2, cos2d.Dimension);
        Assert.Equal("[-1, 1] × [-1, 1]", cos2d.DefaultDomain.ToString());
        Assert.Equal("sin(πx)·cos(πy)·sin(πz)", BuiltinFunctions.Get("trig1").Formula);
    }

    [Fact]
    public void Names_are_case_insensitive_and_sphere_is_poly1()
    {
        // Given / When
        bool found = BuiltinFunctions.TryGet(" TRIG1 ", out var trig1);
        bool sphere = BuiltinFunctions.TryGet("sphere", out var poly1);

        // Then
        Assert.True(found);
        Assert.Equal("trig1", trig1.Name);
        Assert.True(sphere);
        Assert.Equal("poly1", poly1.Name);
        Assert.False(BuiltinFunctions.TryGet("foo", out _));
    }

    [Fact]
    public void An_unknown_name_lists_the_builtins_and_suggests_an_expression()
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => BuiltinFunctions.Get("foo"));

        // Then
        Assert.Equal(
            "unknown function 'foo' (built-in: poly1, poly2, trig1, trig2, exp1, exp2, mixed1, mixed2, cos2d; or give an expression such as \"sin(pi*x)*exp(y)\")",
            e.Message);
    }

    [Fact]
    public void Evaluating_rows_gives_the_same_values_as_evaluating_points_one_by_one()
    {
        // Given
        var f = BuiltinFunctions.Get("mixed2");
        double[,] points = { { 0.1, 0.2, 0.3 }, { 0.9, 0.5, 0.0 }, { 0.5, 1.0, 1.0 } };

        // When
        double[] values = f.Evaluate(points);

        // Then
        for (int i = 0; i < 3; i++)
            Assert.Equal(f.Evaluate([points[i, 0], points[i, 1], points[i, 2]]), values[i]);
    }

    [Fact]
    public void A_point_of_the_wrong_dimension_is_refused()
    {
        // Given
        var f = BuiltinFunctions.Get("poly1");

        // When / Then
        var e = Assert.Throws<ArgumentException>(() => f.Evaluate([1.0, 2.0]));
        Assert.Equal("function 'poly1' takes 3 coordinates, got 2", e.Message);
        var rows = Assert.Throws<ArgumentException>(() => f.Evaluate(new double[4, 2]));
        Assert.Equal("function 'poly1' takes 3 coordinates, got points with 2 columns", rows.Message);
    }

    [Fact]
    public void Changing_a_returned_domain_does_not_change_the_builtin()
    {
        // Given
        var f = BuiltinFunctions.Get("poly1");

        // When
        f.DefaultDomain.Upper[0] = 7;

        // Then
        Assert.Equal(Box.Unit(3), f.DefaultDomain);
    }
}
