namespace Deqn.Reports.Tests;

public sealed class ChartLinearTickTests
{
    [Fact]
    public void Labels_are_at_one_two_five_steps_and_share_one_number_of_decimals()
    {
        // When: a loss axis from 0 to 1.35 with room for eight labels
        var majors = LinearTickGenerator.Compute(-0.02, 1.35, maxMajor: 8).Where(t => t.IsMajor).ToList();

        // Then
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"], majors.Select(t => t.Label).ToArray());
        Assert.Equal(0.0, majors[0].Position);
    }

    [Theory]
    [InlineData(0.0, 50.0, 6)]
    [InlineData(-3.7, 12.1, 4)]
    [InlineData(1e-7, 9e-7, 5)]
    [InlineData(0.0, 3e7, 7)]
    [InlineData(0.35638, 0.35642, 5)]
    [InlineData(-2.000004, -2.000001, 4)]
    public void There_are_never_more_major_ticks_than_fit(double low, double high, int maxMajor)
    {
        // When
        var majors = LinearTickGenerator.Compute(low, high, maxMajor).Where(t => t.IsMajor).ToList();

        // Then
        Assert.InRange(majors.Count, 2, maxMajor);
        Assert.All(majors, t => Assert.InRange(t.Position, low, high));
        Assert.Equal(majors.Count, majors.Select(t => t.Label).Distinct().Count());
    }
}
