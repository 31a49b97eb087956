using Deqn.Equilibrium.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

public sealed class ComplementarityTests
{
    private static double FB(double a, double b, double smoothing = 0)
    {
        using var scope = NewDisposeScope();
        return Complementarity.FischerBurmeister(tensor(a, float64), tensor(b, float64), smoothing).item<double>();
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.0, 2.5)]
    [InlineData(3.0, 0.0)]
    public void It_is_zero_where_both_are_nonnegative_and_one_is_zero(double a, double b)
    {
        Assert.Equal(0.0, FB(a, b), 15);
    }

    [Theory]
    [InlineData(1.0, 1.0, 2 - 1.4142135623730951)]     // both slack: positive
    [InlineData(-1.0, 0.0, -2.0)]                       // a violated: a + 0 − |a| = 2a
    [InlineData(0.0, -0.5, -1.0)]                       // b violated
    [InlineData(3.0, 4.0, 2.0)]                         // 3 + 4 − 5
    [InlineData(-3.0, 4.0, -4.0)]                       // −3 + 4 − 5
    public void Away_from_complementarity_it_has_the_hand_derived_value(double a, double b, double expected)
    {
        Assert.Equal(expected, FB(a, b), 12);
    }

    [Fact]
    public void Its_zero_set_is_exactly_the_complementarity_set_on_a_grid()
    {
        // Given a grid over [−1, 1]² with the axes on it
        var values = Enumerable.Range(-4, 9).Select(i => i / 4.0).ToArray();
        foreach (var a in values)
            foreach (var b in values)
            {
                // Then FB is zero exactly where a ≥ 0, b ≥ 0 and a·b = 0
                bool complementary = a >= 0 && b >= 0 && a * b == 0;
                Assert.True(complementary == (Math.Abs(FB(a, b)) < 1e-14), $"FB({a}, {b}) = {FB(a, b)}");
            }
    }

    [Fact]
    public void Smoothing_solves_a_times_b_equal_to_half_its_square()
    {
        // FB_ε(a, b) = 0 ⇔ a, b > 0 and a·b = ε²/2
        double eps = 0.1, a = 0.25, b = eps * eps / 2 / a;
        Assert.Equal(0.0, FB(a, b, eps), 14);
        Assert.Throws<ArgumentException>(() => FB(1, 1, -1));
    }

    [Fact]
    public void Its_gradient_matches_finite_differences()
    {
        // Given a point off the kink
        using var scope = NewDisposeScope();
        var a = tensor(0.7, float64, requires_grad: true);
        var b = tensor(-0.2, float64, requires_grad: true);

        // When FB is differentiated by autograd
        Complementarity.FischerBurmeister(a, b).backward();

        // Then each partial derivative equals a central difference
        const double h = 1e-6;
        double da = (FB(0.7 + h, -0.2) - FB(0.7 - h, -0.2)) / (2 * h);
        double db = (FB(0.7, -0.2 + h) - FB(0.7, -0.2 - h)) / (2 * h);
        Assert.Equal(da, a.grad!.item<double>(), 8);
        Assert.Equal(db, b.grad!.item<double>(), 8);
    }
}
