namespace Deqn.Reports.Tests;

public sealed class ChartLogTickTests
{
    [Fact]
    public void A_range_of_several_decades_gets_one_labelled_tick_per_decade_and_minor_ticks_between()
    {
        // Given: log10 coordinates from 10^-4.2 to 10^-0.5

        // When
        var ticks = LogTickGenerator.Compute(-4.2, -0.5, maxMajor: 10);

        // Then
        var majors = ticks.Where(t => t.IsMajor).ToList();
        Assert.Equal(["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"], majors.Select(t => t.Label).ToArray());
        Assert.Equal([-4.0, -3, -2, -1], majors.Select(t => t.Position).ToArray());
        // 2×10⁻³ is a minor tick at log10(0.002).
        Assert.Contains(ticks, t => !t.IsMajor && Math.Abs(t.Position - Math.Log10(0.002)) < 1e-12);
    }

    [Fact]
    public void Many_decades_in_little_space_label_every_other_decade_including_ten_to_the_zero()
    {
        // When
        var majors = LogTickGenerator.Compute(-6, 6, maxMajor: 7).Where(t => t.IsMajor).Select(t => t.Label).ToArray();

        // Then
        Assert.Equal(["10⁻⁶", "10⁻⁴", "10⁻²", "10⁰", "10²", "10⁴", "10⁶"], majors);
    }

    [Fact]
    public void A_range_within_one_decade_is_labelled_at_mantissas_in_one_notation()
    {
        // When: 0.0011 … 0.0095 with room for ten labels
        var labels = LogTickGenerator.Compute(Math.Log10(0.0011), Math.Log10(0.0095), maxMajor: 10).Where(t => t.IsMajor).Select(t => t.Label).ToArray();

        // Then
        Assert.Equal(["2×10⁻³", "3×10⁻³", "4×10⁻³", "5×10⁻³", "6×10⁻³", "7×10⁻³", "8×10⁻³", "9×10⁻³"], labels);
    }

    [Fact]
    public void Mantissa_labels_near_one_are_plain_numbers()
    {
        // When: 0.011 … 0.3
        var labels = LogTickGenerator.Compute(Math.Log10(0.011), Math.Log10(0.3), maxMajor: 6).Where(t => t.IsMajor).Select(t => t.Label).ToArray();

        // Then
        Assert.Equal(["0.02", "0.03", "0.05", "0.1", "0.2", "0.3"], labels);
    }

    [Fact]
    public void A_range_narrower_than_a_decade_always_gets_three_labels_or_more_each_at_the_value_it_names()
    {
        foreach (var (low, high, maxMajor) in new[] { (0.0021, 0.0040, 6), (0.0021, 0.0095, 4), (1.02, 1.09, 4), (0.5, 0.9, 12) })
        {
            // When
            var majors = LogTickGenerator.Compute(Math.Log10(low), Math.Log10(high), maxMajor).Where(t => t.IsMajor).ToList();

            // Then: three labels or more, no more than asked, each at the log10 of the value it names
            var labels = string.Join(", ", majors.Select(t => t.Label));
            Assert.True(majors.Count >= 3 && majors.Count <= maxMajor, $"{low}…{high}: {labels}");
            Assert.All(majors, t => Assert.Equal(Math.Log10(double.Parse(t.Label, System.Globalization.CultureInfo.InvariantCulture)), t.Position, 1e-12));
        }
    }

    [Theory]
    [InlineData(0, "⁰")]
    [InlineData(-12, "⁻¹²")]
    [InlineData(305, "³⁰⁵")]
    public void Exponents_are_written_as_unicode_superscripts(int exponent, string expected) =>
        Assert.Equal(expected, LogTickGenerator.Superscript(exponent));

    [Fact]
    public void Non_finite_or_empty_ranges_give_no_ticks_rather_than_an_exception()
    {
        Assert.Empty(LogTickGenerator.Compute(double.NaN, 1, 5));
        Assert.Empty(LogTickGenerator.Compute(2, 2, 5));
        Assert.NotEmpty(LogTickGenerator.Compute(-1e9, 1e9, 5));
    }
}
