using Deqn.Training.Logging;

namespace Deqn.Training.Tests.Logging;

public sealed class ConsoleProgressLoggerTests
{
    private static Dictionary<string, double> Metrics(double loss, double valLoss, double lr) =>
        new() { ["loss"] = loss, ["val_loss"] = valLoss, ["lr"] = lr, ["grad_norm"] = 9 };

    private static string[] Lines(StringWriter output) =>
        output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void A_plain_line_shows_the_epoch_the_chosen_metrics_elapsed_and_eta()
    {
        // Given 12 epochs of 0.25 s out of 200, where only epoch 10 is due by cadence
        var output = new StringWriter();
        var clock = new ManualClock();
        var logger = new ConsoleProgressLogger(output, interactive: false, timeProvider: clock);
        logger.Begin(200);
        for (int epoch = 1; epoch <= 12; epoch++)
        {
            clock.Advance(TimeSpan.FromSeconds(0.25));
            logger.LogScalars(epoch, Metrics(0.0123, 0.0456, 0.001));
        }

        // When the run is stopped early, the last epoch is printed anyway
        logger.Finish("early stopping");

        // Then (eta = 3 s × 188 remaining / 12 done = 47 s)
        Assert.Equal(
            [
                "epoch 10/200  loss 0.0123  val_loss 0.0456  lr 0.001  [elapsed 00:02, eta 00:47]",
                "epoch 12/200  loss 0.0123  val_loss 0.0456  lr 0.001  [elapsed 00:03, eta 00:47]",
                "finished after 00:03: early stopping",
            ],
            Lines(output));
    }

    [Fact]
    public void Plain_lines_come_every_twentieth_of_the_run_plus_the_last_epoch()
    {
        // Given 45 fast epochs: a line every max(1, 45/20) = 2 epochs
        var output = new StringWriter();
        var clock = new ManualClock();
        using var logger = new ConsoleProgressLogger(output, interactive: false, timeProvider: clock);
        logger.Begin(45);

        // When
        for (int epoch = 1; epoch <= 45; epoch++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            logger.LogScalars(epoch, new Dictionary<string, double> { ["loss"] = 1.0 / epoch });
        }
        logger.Finish("max epochs");

        // Then
        var epochs = Lines(output).Where(l => l.StartsWith("epoch ")).Select(l => int.Parse(l.Split(' ', '/')[1])).ToArray();
        Assert.Equal(Enumerable.Range(1, 22).Select(i => 2 * i).Append(45), epochs);
        Assert.All(Lines(output).SkipLast(1), l => Assert.Contains("/45  loss ", l));
        Assert.Equal("finished after 00:00: max epochs", Lines(output)[^1]);
    }

    [Fact]
    public void A_slow_run_prints_a_line_once_five_seconds_passed_since_the_last_one()
    {
        // Given 1000 epochs (cadence 50) with irregular durations
        var output = new StringWriter();
        var clock = new ManualClock();
        using var logger = new ConsoleProgressLogger(output, interactive: false, timeProvider: clock);
        logger.Begin(1000);
        double[] secondsPerEpoch = [6, 1, 3.9, 0.2, 5, 1];

        // When
        for (int i = 0; i < secondsPerEpoch.Length; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(secondsPerEpoch[i]));
            logger.LogScalars(i + 1, new Dictionary<string, double> { ["loss"] = 1 });
        }

        // Then: epoch 1 (6 s), epoch 4 (1 + 3.9 + 0.2 = 5.1 s), epoch 5 (5 s)
        Assert.Equal(
            ["epoch 1/1000", "epoch 4/1000", "epoch 5/1000"],
            Lines(output).Select(l => l[..l.IndexOf("  ", StringComparison.Ordinal)]));
    }

    [Fact]
    public void Without_begin_every_epoch_is_printed_without_a_total_or_eta_and_only_present_keys_show()
    {
        // Given
        var output = new StringWriter();
        var clock = new ManualClock();
        using var logger = new ConsoleProgressLogger(output, interactive: false, keys: ["val_loss", "loss"], timeProvider: clock);

        // When
        logger.LogScalars(1, new Dictionary<string, double> { ["loss"] = 0.5 });
        clock.Advance(TimeSpan.FromSeconds(65));
        logger.LogScalars(2, new Dictionary<string, double> { ["loss"] = 0.25, ["val_loss"] = 0.3, ["lr"] = 1 });

        // Then
        Assert.Equal(
            ["epoch 1  loss 0.5  [elapsed 00:00]", "epoch 2  val_loss 0.3  loss 0.25  [elapsed 01:05]"],
            Lines(output));
    }

    [Theory]
    [InlineData(0.0123, "0.0123")]
    [InlineData(0.001, "0.001")]
    [InlineData(0.000123456, "1.235e-04")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(0.5, "0.5")]
    [InlineData(1234.56, "1235")]
    [InlineData(12345.6, "1.235e+04")]
    [InlineData(1.0, "1")]
    [InlineData(0.0, "0")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Numbers_are_shown_with_four_significant_digits_and_scientific_when_tiny(double value, string expected)
    {
        // Given / When / Then
        Assert.Equal(expected, ConsoleProgressLogger.FormatNumber(value));
    }

    [Theory]
    [InlineData(0, "00:00")]
    [InlineData(59.9, "00:59")]
    [InlineData(754, "12:34")]
    [InlineData(3600 * 27 + 62, "27:01:02")]
    public void Durations_are_minutes_and_seconds_with_hours_when_needed(double seconds, string expected)
    {
        // Given / When / Then
        Assert.Equal(expected, ConsoleProgressLogger.FormatDuration(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void The_live_bar_ends_with_a_clean_final_epoch_line_and_the_reason()
    {
        // Given a forced interactive display on a captured writer
        var output = new StringWriter();
        var clock = new ManualClock();
        var logger = new ConsoleProgressLogger(output, interactive: true, timeProvider: clock);
        Assert.True(logger.IsInteractive);
        logger.Begin(3);
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            logger.LogScalars(epoch, Metrics(0.5 / epoch, 0.6, 0.01));
        }

        // When
        logger.Finish("max epochs");
        logger.Dispose();

        // Then the plain tail comes after the live display, exactly once
        string text = output.ToString();
        const string tail = "epoch 3/3  loss 0.1667  val_loss 0.6  lr 0.01  [elapsed 00:03, eta 00:00]" + "\n" + "finished after 00:03: max epochs\n";
        Assert.EndsWith(tail.Replace("\n", Environment.NewLine), text);
        Assert.Contains("\u001b[?25h", text); // the live display ran and gave the cursor back
        Assert.Equal(1, text.Split("finished after").Length - 1);
    }

    [Fact]
    public void Redirected_output_is_not_interactive_by_default()
    {
        // Given a writer that is not the console
        using var logger = new ConsoleProgressLogger(new StringWriter());

        // When / Then
        Assert.False(logger.IsInteractive);
    }
}
