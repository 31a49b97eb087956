using System.Globalization;
using Deqn.Equilibrium.Modeling;
using Deqn.Training.Data;
using Deqn.Training.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// A policy as a Deqn model file (a solve's <c>policy.deqn</c>): the network; its inputs by name (continuous states,
/// features, one-hot chain states); its outputs by policy element, raw, before their transforms; the input scaling as
/// a min-max normalizer of centers and half-widths; and provenance naming the model, its calibration and the scaling.
/// <see cref="Load"/> turns such a file back into the policy the solver trained, transforms and all.
/// </summary>
public sealed partial class PolicyNetwork
{
    /// <summary>Provenance key: the model's name in its catalog. Its presence marks a solve's policy.</summary>
    public const string ModelKey = "deqn-model";

    /// <summary>Provenance key: every parameter of the model as name=value;name=value.</summary>
    public const string CalibrationKey = "calibration";

    /// <summary>Provenance key: the policies' output transforms, in words.</summary>
    public const string OutputsKey = "outputs";

    /// <summary>Provenance key: "box" or "simulated", the <see cref="InputScaling"/> (files written before it existed lack it).</summary>
    public const string ScalingKey = "input-scaling";

    /// <summary>
    /// Provenance key: the fixed first-order part added to the network's outputs (<see cref="LinearPart.ToString"/>:
    /// raw = network + clamp(anchor + slopes·(x[columns] − center), anchor ± reach)); absent when there is none.
    /// </summary>
    public const string LinearKey = "linear-part";

    /// <summary>
    /// This policy as a model file's contents, for <paramref name="modelName"/> (the model's name in its catalog), with
    /// <paramref name="provenance"/> added. The model shares this policy's network: save it, and dispose only one of the two.
    /// </summary>
    public TrainedModel ToTrainedModel(string modelName, IReadOnlyDictionary<string, string>? provenance = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelName);
        var (center, halfWidth) = CurrentScaling();
        var inputs = InputNames(_model);
        int oneHot = inputs.Count - center.Length;
        var saved = new Dictionary<string, string>
        {
            [ModelKey] = modelName,
            // Round-trip digits: a policy is evaluated again under exactly the model it was trained for.
            [CalibrationKey] = string.Join(';', _model.Parameters.Select(p => $"{p.Name}={p.Value.ToString("R", CultureInfo.InvariantCulture)}")),
            [OutputsKey] = (Linear is null ? "raw network outputs" : $"raw network outputs plus the linear part ({LinearKey})") + "; the policies apply " + string.Join(", ", _model.Policies.Select(p => $"{p.Name}: {p.Output.ToString().ToLowerInvariant()}{(p.Bounds is { } b ? " " + b : "")}")),
            [ScalingKey] = Scaling == InputScaling.Simulated ? "simulated" : "box",
        };
        if (Linear is not null) saved[LinearKey] = Linear.ToString();
        foreach (var (key, value) in provenance ?? new Dictionary<string, string>()) saved.TryAdd(key, value);
        return new TrainedModel(Network, new ModelMetadata
        {
            Task = TaskKind.Regression,
            Network = Network.Spec,
            Features = inputs.ToArray(),
            Targets = _model.PolicyColumns.Select(p => p.Name).ToArray(),
            InputNormalizer = new Normalizer(NormalizationKind.MinMax,
                center.Concat(Enumerable.Repeat(0.0, oneHot)).ToArray(), halfWidth.Concat(Enumerable.Repeat(1.0, oneHot)).ToArray()),
            Provenance = saved,
        });
    }

    /// <summary>Writes this policy as a model file (atomically), for <paramref name="modelName"/>; <see cref="Load"/> reads it back.</summary>
    public void Save(string path, string modelName, IReadOnlyDictionary<string, string>? provenance = null) =>
        ToTrainedModel(modelName, provenance).Save(path);

    /// <summary>
    /// The policy saved in <paramref name="path"/> (a solve's <c>policy.deqn</c>) as <paramref name="model"/>'s policy: its
    /// weights, its input scaling and the model's output transforms, so <see cref="Values"/> gives what the solver's
    /// policy gave. A file that is missing, not a model, or not a policy of a model with these inputs and outputs is a
    /// one-line <see cref="ModelFileException"/>.
    /// </summary>
    public static PolicyNetwork Load(Model model, string path, Device? device = null)
    {
        var trained = TrainedModel.Load(path, device);
        try { return From(model, trained); }
        catch (ArgumentException e)
        {
            trained.Dispose();
            throw new ModelFileException($"{path}: {e.Message}");
        }
    }

    /// <summary>
    /// <paramref name="trained"/> (a loaded <c>policy.deqn</c>) as <paramref name="model"/>'s policy. The policy uses the
    /// trained model's network itself, not a copy: dispose one of the two. Throws <see cref="ArgumentException"/> when it
    /// is not a solve's policy or its inputs and outputs are not the model's.
    /// </summary>
    public static PolicyNetwork From(Model model, TrainedModel trained)
    {
        var meta = trained.Metadata;
        if (!meta.Provenance.ContainsKey(ModelKey))
            throw new ArgumentException($"not a policy written by a solve (its provenance has no '{ModelKey}')");
        var inputs = InputNames(model);
        if (!meta.Features.SequenceEqual(inputs))
            throw new ArgumentException($"the policy's inputs are {string.Join(", ", meta.Features)}; {model.Title} has {string.Join(", ", inputs)}");
        var outputs = model.PolicyColumns.Select(p => p.Name).ToArray();
        if (!meta.Targets.SequenceEqual(outputs))
            throw new ArgumentException($"the policy's outputs are {string.Join(", ", meta.Targets)}; {model.Title} has {string.Join(", ", outputs)}");
        var normalizer = meta.InputNormalizer;
        if (normalizer.Kind != NormalizationKind.MinMax || normalizer.Dimension != inputs.Count || normalizer.Scale.Any(h => !(h > 0) || !double.IsFinite(h))
            || normalizer.Offset.Any(c => !double.IsFinite(c)))
            throw new ArgumentException("the policy's input scaling is not a solve's (min-max centers and positive half-widths, one per input)");

        var box = model.StateColumns.Where(c => c.State.Chain is null).Select(c => (c.Initial.Center, c.Initial.HalfWidth)).ToArray();
        var scaling = meta.Provenance.TryGetValue(ScalingKey, out var name)
            ? name switch
            {
                "box" => InputScaling.InitialBox,
                "simulated" => InputScaling.Simulated,
                _ => throw new ArgumentException($"unknown input scaling '{name}' in its provenance (box or simulated)"),
            }
            // Written before the key existed: states scaled by anything but their box were scaled by statistics.
            : box.Select((b, j) => SameAsBox(normalizer.Offset[j], normalizer.Scale[j], b)).All(same => same) ? InputScaling.InitialBox : InputScaling.Simulated;
        var linear = meta.Provenance.TryGetValue(LinearKey, out var text) ? LinearPart.Parse(model, text) : null;
        var policy = new PolicyNetwork(model, trained.Network, scaling) { Linear = linear };
        policy.SetScaling(normalizer.Offset, normalizer.Scale);
        return policy;
    }

    /// <summary>
    /// Scales the continuous inputs by the saved centers and half-widths. The file holds them as recomputed from the
    /// scaling tensors (to rounding); where they are an input's box to rounding, the box's own numbers are used, so that
    /// a loaded box-scaled policy computes bit for bit what the trained one did.
    /// </summary>
    private void SetScaling(IReadOnlyList<double> center, IReadOnlyList<double> halfWidth)
    {
        int n = _boxCenter.Length;
        var c = new double[n];
        var h = new double[n];
        for (int j = 0; j < n; j++)
        {
            bool box = SameAsBox(center[j], halfWidth[j], (_boxCenter[j], _boxHalfWidth[j]));
            c[j] = box ? _boxCenter[j] : center[j];
            h[j] = box ? _boxHalfWidth[j] : halfWidth[j];
        }
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        _offset.copy_(torch.tensor(c.Zip(h, (a, b) => -a / b).ToArray(), [1, n], dtype: ScalarType.Float64));
        ForgetLinearInInputs();
        _inverseScale.copy_(torch.tensor(h.Select(b => 1.0 / b).ToArray(), [1, n], dtype: ScalarType.Float64));
    }

    private static bool SameAsBox(double center, double halfWidth, (double Center, double HalfWidth) box) =>
        Close(center, box.Center) && Close(halfWidth, box.HalfWidth);

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-12 * Math.Max(Math.Abs(a), Math.Abs(b));
}
