using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Deqn.Training.Data;
using Deqn.Training.Networks;
using TorchSharp;
using Deqn.Training.Engine;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Deqn.Training.Persistence;

public enum TaskKind { Regression, Classification }

/// <summary>Everything besides the weights that a saved model needs to predict from raw rows.</summary>
public sealed record ModelMetadata
{
    public const string FormatName = "deqn-model";
    public const int CurrentVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;
    public required TaskKind Task { get; init; }
    public required NetworkSpec Network { get; init; }
    public required IReadOnlyList<string> Features { get; init; }
    public required IReadOnlyList<string> Targets { get; init; }

    /// <summary>Class labels in output order (classification only).</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    public required Normalizer InputNormalizer { get; init; }

    /// <summary>Applied to regression targets during training; predictions are mapped back through its inverse.</summary>
    public Normalizer? TargetNormalizer { get; init; }

    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Free-form provenance, e.g. the command line and the seed.</summary>
    public IReadOnlyDictionary<string, string> Provenance { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A network together with what it needs to turn raw feature rows into predictions: the input normalizer, the target
/// normalizer (regression) or class labels (classification). Saved as one file, a zip archive holding
/// <c>model.json</c> (spec, normalizers, metadata) and <c>weights.bin</c> (TorchSharp's format).
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private const string MetadataEntry = "model.json";
    private const string WeightsEntry = "weights.bin";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public TrainedModel(Network network, ModelMetadata metadata)
    {
        Network = network;
        Metadata = metadata;
    }

    public Network Network { get; }
    public ModelMetadata Metadata { get; }

    /// <summary>
    /// Regression: predicted targets in their original units, [n, targets]. Classification: class probabilities, [n, classes].
    /// </summary>
    public double[,] Predict(double[,] features)
    {
        if (features.GetLength(1) != Metadata.Features.Count)
            throw new ArgumentException($"the model expects {Metadata.Features.Count} features ({string.Join(", ", Metadata.Features)}), got {features.GetLength(1)}");
        Network.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = Metadata.InputNormalizer.Transform(Tensors.FromArray(features, Network.DType));
        var y = Network.forward(x);
        if (Metadata.Task == TaskKind.Classification && Network.Spec.OutputActivation != Activation.Softmax)
            y = nn.functional.softmax(y, -1);
        if (Metadata.TargetNormalizer is { } tn) y = tn.Inverse(y);
        return Tensors.ToArray(y);
    }

    /// <summary>The most probable class index of each row (classification).</summary>
    public static int[] ArgMax(double[,] probabilities)
    {
        int n = probabilities.GetLength(0), c = probabilities.GetLength(1);
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int j = 1; j < c; j++) if (probabilities[i, j] > probabilities[i, best]) best = j;
            result[i] = best;
        }
        return result;
    }

    /// <summary>Writes the model file atomically: a crash leaves the previous file, never a torn one.</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    private void WriteTo(string path)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        using (var meta = zip.CreateEntry(MetadataEntry, CompressionLevel.Optimal).Open())
            JsonSerializer.Serialize(meta, Metadata, Json);
        using var weights = new MemoryStream();
        using (var writer = new BinaryWriter(weights, System.Text.Encoding.UTF8, leaveOpen: true)) Network.save(writer);
        using var entry = zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open();
        entry.Write(weights.GetBuffer(), 0, (int)weights.Length);
    }

    /// <summary>Loads a model file; a one-line <see cref="ModelFileException"/> when the file is missing or is not a Deqn model.</summary>
    public static TrainedModel Load(string path, Device? device = null)
    {
        if (!File.Exists(path)) throw new ModelFileException($"{path}: model file not found");
        ModelMetadata? metadata;
        byte[] weights;
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var metaEntry = zip.GetEntry(MetadataEntry) ?? throw new ModelFileException($"{path}: not a Deqn model (no {MetadataEntry} inside)");
            var weightsEntry = zip.GetEntry(WeightsEntry) ?? throw new ModelFileException($"{path}: not a Deqn model (no {WeightsEntry} inside)");
            using (var s = metaEntry.Open()) metadata = JsonSerializer.Deserialize<ModelMetadata>(s, Json);
            using var w = weightsEntry.Open();
            using var buffer = new MemoryStream();
            w.CopyTo(buffer);
            weights = buffer.ToArray();
        }
        catch (InvalidDataException) { throw new ModelFileException($"{path}: not a Deqn model (not a zip archive)"); }
        catch (JsonException e) { throw new ModelFileException($"{path}: not a Deqn model (model.json: {e.Message.Split('\n')[0]})"); }
        if (metadata is null || metadata.Format != ModelMetadata.FormatName)
            throw new ModelFileException($"{path}: not a Deqn model (format is not '{ModelMetadata.FormatName}')");
        if (metadata.Version > ModelMetadata.CurrentVersion)
            throw new ModelFileException($"{path}: model format version {metadata.Version} is newer than this Deqn ({ModelMetadata.CurrentVersion})");

        using var generator = new Generator(0);
        var network = new Network(metadata.Network, generator, device);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(weights));
            network.load(reader);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            network.Dispose();
            throw new ModelFileException($"{path}: the weights do not match the network in model.json ({e.Message.Split('\n')[0]})");
        }
        network.eval();
        return new TrainedModel(network, metadata);
    }

    /// <summary>Writes the weights as safetensors (keys such as dense_1.weight), loadable in PyTorch with safetensors.torch.load_file.</summary>
    public void ExportSafetensors(string path) => AtomicFile.Write(path, t => Network.save_safetensors(t));

    public void Dispose() => Network.Dispose();
}

/// <summary>A model file that is missing, damaged or not a Deqn model.</summary>
public sealed class ModelFileException(string message) : Exception(message);
