using System.Globalization;
using Deqn.Training.Networks;
using TorchSharp;

namespace Deqn.Training.Tests.Networks;

public sealed class NetworkSummaryTests
{
    [Fact]
    public void A_3_64_64_1_dense_network_has_kerass_4481_parameters_all_trainable()
    {
        // Given
        using var g = new torch.Generator(1);
        using var net = new Network(NetworkSpec.Dense(3, new[] { 64, 64 }, 1), g);

        // When
        var summary = net.Summary();

        // Then
        Assert.Equal(4481, summary.TotalParameters);
        Assert.Equal(4481, summary.TrainableParameters);
        Assert.Equal(0, summary.NonTrainableParameters);
        Assert.Equal(4481, net.parameters().Sum(p => p.numel()));
        Assert.Equal(new[] { ("dense_1", 64L, 256L), ("tanh_1", 64L, 0L), ("dense_2", 64L, 4160L), ("tanh_2", 64L, 0L), ("output", 1L, 65L) },
            summary.Rows.Select(r => (r.Name, r.Units, r.Parameters)));
    }

    [Fact]
    public void Batch_norm_counts_four_parameters_per_unit_of_which_two_are_not_trainable_as_in_keras()
    {
        // Given 3→64→64→1 with batch norm and dropout on each hidden layer
        using var g = new torch.Generator(1);
        using var net = new Network(NetworkSpec.Dense(3, new[] { 64, 64 }, 1, Activation.Relu, dropout: 0.2, batchNorm: new BatchNormSpec()), g);

        // When
        var summary = net.Summary();

        // Then Keras reports 4481 + 2·(4·64) = 4993 of which 2·(2·64) = 256 are the moving mean and variance
        Assert.Equal(4993, summary.TotalParameters);
        Assert.Equal(256, summary.NonTrainableParameters);
        Assert.Equal(4737, summary.TrainableParameters);
        // and the trainable count is what the optimizer will see
        Assert.Equal(summary.TrainableParameters, net.parameters().Sum(p => p.numel()));
        Assert.Equal(new[] { "dense_1", "batch_norm_1", "relu_1", "dropout_1", "dense_2", "batch_norm_2", "relu_2", "dropout_2", "output" },
            summary.Rows.Select(r => r.Name));
        Assert.All(summary.Rows.Where(r => r.Name != "output"), r => Assert.Equal(64, r.Units));
        Assert.Equal((256, 128), summary.Rows.Where(r => r.Name.StartsWith("batch_norm")).Select(r => (r.Parameters, r.NonTrainable)).Distinct().Single());
    }

    [Fact]
    public void The_output_shape_of_each_layer_matches_the_forward_pass()
    {
        // Given layers of different widths and a softmax output
        using var g = new torch.Generator(1);
        using var net = new Network(NetworkSpec.Dense(5, new[] { 7, 3 }, 4, Activation.Gelu) with { OutputActivation = Activation.Softmax }, g);
        using var x = torch.rand(9, 5, generator: g);

        // When
        var summary = net.Summary();
        using var y = net.forward(x);

        // Then
        Assert.Equal(new[] { 9L, 4L }, y.shape);
        Assert.Equal(new[] { ("dense_1", 7L), ("gelu_1", 7L), ("dense_2", 3L), ("gelu_2", 3L), ("output", 4L), ("output_softmax", 4L) },
            summary.Rows.Select(r => (r.Name, r.Units)));
        Assert.Equal(5 * 7 + 7 + 7 * 3 + 3 + 3 * 4 + 4, summary.TotalParameters);
    }

    [Fact]
    public void The_formatted_table_has_a_row_for_each_layer_and_the_totals()
    {
        // Given
        using var g = new torch.Generator(1);
        using var net = new Network(NetworkSpec.Dense(3, new[] { 64, 64 }, 1, dropout: 0.25, batchNorm: new BatchNormSpec()), g);

        // When
        string table = net.Summary().ToString();

        // Then
        var lines = table.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Contains(lines, l => l.StartsWith("input (Input)") && l.Contains("(None, 3)"));
        Assert.Contains(lines, l => l.StartsWith("dense_1 (Dense)") && l.Contains("(None, 64)") && l.TrimEnd().EndsWith("256"));
        Assert.Contains(lines, l => l.StartsWith("batch_norm_1 (BatchNorm)") && l.Contains("(None, 64)") && l.TrimEnd().EndsWith("256"));
        Assert.Contains(lines, l => l.StartsWith("tanh_1 (Activation(tanh))") && l.TrimEnd().EndsWith(" 0"));
        Assert.Contains(lines, l => l.StartsWith("dropout_1 (Dropout(0.25))") && l.Contains("(None, 64)"));
        Assert.Contains(lines, l => l.StartsWith("dense_2 (Dense)") && l.TrimEnd().EndsWith("4,160"));
        Assert.Contains(lines, l => l.StartsWith("output (Dense)") && l.Contains("(None, 1)") && l.TrimEnd().EndsWith("65"));
        Assert.Contains("Total params: 4,993 (19.50 KB)", lines);
        Assert.Contains("Trainable params: 4,737", lines);
        Assert.Contains("Non-trainable params: 256", lines);
    }

    [Fact]
    public void The_formatted_table_reads_the_same_whatever_the_current_culture()
    {
        // Given a culture that writes 4.481 and 17,5 (built by hand: the project runs in invariant-globalization mode)
        using var g = new torch.Generator(1);
        using var net = new Network(NetworkSpec.Dense(3, new[] { 64, 64 }, 1, dropout: 0.25), g);
        var commaDecimal = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        commaDecimal.NumberFormat.NumberGroupSeparator = ".";
        commaDecimal.NumberFormat.NumberDecimalSeparator = ",";
        var saved = CultureInfo.CurrentCulture;
        string invariant, german;
        try
        {
            // When
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            invariant = net.Summary().ToString();
            CultureInfo.CurrentCulture = commaDecimal;
            german = net.Summary().ToString();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }

        // Then
        Assert.Equal(invariant, german);
        Assert.Contains("Total params: 4,481 (17.50 KB)", german);
        Assert.Contains("dropout_1 (Dropout(0.25))", german);
    }
}
