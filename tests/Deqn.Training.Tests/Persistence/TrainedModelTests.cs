using Deqn.Testing;
using Deqn.Training.Data;
using Deqn.Training.Networks;
using Deqn.Training.Persistence;
using TorchSharp;

namespace Deqn.Training.Tests.Persistence;

public sealed class TrainedModelTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-model-");

    public void Dispose() => _dir.Dispose();

    private static TrainedModel Model(TaskKind task, bool batchNorm)
    {
        var spec = NetworkSpec.Dense(2, new[] { 8, 8 }, task == TaskKind.Classification ? 3 : 2, Activation.Swish, 0.1,
            batchNorm ? new BatchNormSpec() : null);
        if (task == TaskKind.Classification) spec = spec with { OutputActivation = Activation.Softmax };
        var net = new Network(spec, new torch.Generator(4));
        if (batchNorm)
        {
            // Move the running statistics away from their initial values so that saving them matters.
            net.train();
            using var _ = net.forward(torch.randn(16, 2, generator: new torch.Generator(1)) * 3 + 1);
            net.eval();
        }
        return new TrainedModel(net, new ModelMetadata
        {
            Task = task,
            Network = spec,
            Features = new[] { "a", "b" },
            Targets = task == TaskKind.Classification ? new[] { "label" } : new[] { "y1", "y2" },
            Classes = task == TaskKind.Classification ? new[] { "cat", "dog", "eel" } : null,
            InputNormalizer = new Normalizer(NormalizationKind.Standard, new[] { 1.0, -2.0 }, new[] { 2.0, 0.5 }),
            TargetNormalizer = task == TaskKind.Regression ? new Normalizer(NormalizationKind.Standard, new[] { 10.0, 0.0 }, new[] { 3.0, 1.0 }) : null,
        });
    }

    [Theory]
    [InlineData(TaskKind.Regression, false)]
    [InlineData(TaskKind.Regression, true)]
    [InlineData(TaskKind.Classification, true)]
    public void Save_then_load_gives_identical_predictions(TaskKind task, bool batchNorm)
    {
        // Given
        using var model = Model(task, batchNorm);
        var x = new double[,] { { 0.1, 2.0 }, { -3.0, 0.5 }, { 7.0, -1.0 } };
        var before = model.Predict(x);
        string path = _dir.File("model.deqn");

        // When
        model.Save(path);
        using var loaded = TrainedModel.Load(path);

        // Then
        Assert.Equal(before, loaded.Predict(x));
        Assert.Equal(model.Metadata.Features, loaded.Metadata.Features);
        Assert.Equal(model.Metadata.InputNormalizer.Offset, loaded.Metadata.InputNormalizer.Offset);
        Assert.Equal(model.Metadata.Network.Hidden, loaded.Metadata.Network.Hidden);
        if (task == TaskKind.Classification)
            for (int i = 0; i < 3; i++) Assert.Equal(1.0, before[i, 0] + before[i, 1] + before[i, 2], 6);
    }

    [Fact]
    public void A_missing_file_or_one_that_is_not_a_model_gives_a_one_line_error()
    {
        var missing = Assert.Throws<ModelFileException>(() => TrainedModel.Load(_dir.File("nope.deqn")));
        Assert.Contains("not found", missing.Message);

        string text = _dir.File("text.deqn");
        File.WriteAllText(text, "hello");
        var notZip = Assert.Throws<ModelFileException>(() => TrainedModel.Load(text));
        Assert.Contains("not a Deqn model", notZip.Message);
        Assert.DoesNotContain('\n', notZip.Message);
    }

    [Fact]
    public void Safetensors_export_holds_every_parameter_by_name()
    {
        using var model = Model(TaskKind.Regression, batchNorm: false);
        string path = _dir.File("model.safetensors");
        model.ExportSafetensors(path);

        // The format: an 8-byte little-endian header length, then a JSON header naming each tensor.
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        foreach (var (name, _) in model.Network.named_parameters()) Assert.Contains($"\"{name}\"", header);
    }
}
