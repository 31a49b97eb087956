using Deqn.Approximation.Functions;

namespace Deqn.Approximation.Tests.Functions;

public sealed class BoxTests
{
    [Fact]
    public void The_unit_box_prints_as_a_product_of_intervals()
    {
        // Given / When
        var box = Box.Unit(3);

        // Then
        Assert.Equal(3, box.Dimension);
        Assert.Equal("[0, 1] × [0, 1] × [0, 1]", box.ToString());
    }

    [Theory]
    [InlineData("0,1", 3, "[0, 1] × [0, 1] × [0, 1]")]
    [InlineData(" -1 , 1 ", 2, "[-1, 1] × [-1, 1]")]
    [InlineData("0:1,0:1,-1:1", null, "[0, 1] × [0, 1] × [-1, 1]")]
    [InlineData("0:1,0:1,-1:1", 3, "[0, 1] × [0, 1] × [-1, 1]")]
    [InlineData("-1:1", 2, "[-1, 1] × [-1, 1]")]
    [InlineData("0.5:2.5", null, "[0.5, 2.5]")]
    [InlineData("[0,1]x[0,1]x[-1,1]", null, "[0, 1] × [0, 1] × [-1, 1]")]
    [InlineData("[0, 1] × [0, 1] × [-1, 1]", 3, "[0, 1] × [0, 1] × [-1, 1]")]
    [InlineData("[0,1]*[2,3]", null, "[0, 1] × [2, 3]")]
    [InlineData("[0,1]^3", null, "[0, 1] × [0, 1] × [0, 1]")]
    [InlineData("[-2,1e1]", 2, "[-2, 10] × [-2, 10]")]
    public void Parse_reads_each_written_form(string text, int? dimension, string expected)
    {
        // Given / When
        var box = Box.Parse(text, dimension);

        // Then
        Assert.Equal(expected, box.ToString());
    }

    [Fact]
    public void Parse_reads_back_what_ToString_writes()
    {
        // Given
        var box = new Box([-1.5, 0, 1e-3], [2.25, 1, 7]);

        // When
        var again = Box.Parse(box.ToString());

        // Then
        Assert.Equal(box, again);
    }

    [Theory]
    [InlineData("0,1", null, "box '0,1' gives one interval for every dimension, but the number of dimensions is not known (write one lo:hi per dimension, e.g. \"0:1,0:1,0:1\")")]
    [InlineData("0:1,1:0", null, "box '0:1,1:0': dimension 2: lower 1 >= upper 0")]
    [InlineData("1,1", 2, "box '1,1': dimension 1: lower 1 >= upper 1")]
    [InlineData("0:1,a:1", null, "box '0:1,a:1': dimension 2: 'a' is not a finite number")]
    [InlineData("0:1,0:1", 3, "box '0:1,0:1' has 2 dimensions but 3 are needed")]
    [InlineData("[0,1]x[0,1]", 3, "box '[0,1]x[0,1]' has 2 dimensions but 3 are needed")]
    [InlineData("[0,1]x0:1", null, "box '[0,1]x0:1': dimension 2: expected an interval such as [0,1], got '0:1'")]
    [InlineData("0:1:2", null, "box '0:1:2': dimension 1: expected two bounds 'lower:upper', got '0:1:2'")]
    [InlineData("", 3, "box: empty text (write e.g. \"0,1\", \"0:1,0:1,-1:1\" or \"[0,1]x[0,1]x[-1,1]\")")]
    public void Parse_errors_name_the_problem_in_one_line(string text, int? dimension, string message)
    {
        // Given / When
        var e = Assert.Throws<ArgumentException>(() => Box.Parse(text, dimension));

        // Then
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void The_constructor_refuses_inverted_and_mismatched_bounds()
    {
        // Given / When / Then
        Assert.Equal("box: dimension 2: lower 1 >= upper 0",
            Assert.Throws<ArgumentException>(() => new Box([0.0, 1], [1.0, 0])).Message);
        Assert.Equal("box: 2 lower bounds but 1 upper bounds",
            Assert.Throws<ArgumentException>(() => new Box([0.0, 0], [1.0])).Message);
        Assert.Throws<ArgumentException>(() => new Box([double.NegativeInfinity], [1.0]));
    }

    [Fact]
    public void Contains_includes_the_boundary_and_excludes_outside_and_NaN()
    {
        // Given
        var box = Box.Parse("0:1,-1:1");

        // When / Then
        Assert.True(box.Contains([0.0, 1.0]));
        Assert.True(box.Contains([0.5, -1.0]));
        Assert.False(box.Contains([1.0000001, 0.0]));
        Assert.False(box.Contains([0.5, -1.5]));
        Assert.False(box.Contains([double.NaN, 0.0]));
        Assert.Throws<ArgumentException>(() => box.Contains([0.5]));
    }

    [Fact]
    public void Boxes_with_the_same_bounds_are_equal()
    {
        // Given
        double[] lower = [0, 0], upper = [1, 2];

        // When
        var a = new Box(lower, upper);
        lower[0] = -5; // the box keeps its own copy

        // Then
        Assert.Equal(new Box([0.0, 0], [1.0, 2]), a);
        Assert.Equal(new Box([0.0, 0], [1.0, 2]).GetHashCode(), a.GetHashCode());
        Assert.NotEqual(Box.Unit(2), a);
    }
}
