using Deqn.Equilibrium.Modeling;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>How the network's continuous inputs are scaled.</summary>
public enum InputScaling
{
    /// <summary>States by their initial distributions' centers and half-widths (features, which have none, by running statistics).</summary>
    InitialBox,
    /// <summary>Every continuous input by the running mean and standard deviation of the simulated states (updated every episode).</summary>
    Simulated,
}

/// <summary>Running mean and spread of the network's continuous inputs over every simulated state so far (Chan et al.'s merge).</summary>
public sealed record InputStatistics(long Count, double[] Mean, double[] SquaredDeviations);

/// <summary>
/// The network as a model's policy: continuous states and the model's features are scaled (by the initial box or by
/// running statistics of the simulated states), each Markov-chain state enters one-hot, the network gives one raw
/// output per policy element, and each policy's output transform (sigmoid into bounds, softplus…) is applied.
/// Inputs in order: continuous state columns, feature columns, one-hot chain states.
/// </summary>
public sealed partial class PolicyNetwork : IPolicyFunction, IDisposable
{
    private readonly Model _model;
    private readonly Tensor _offset;
    private readonly Tensor _inverseScale;
    private readonly bool _singleTransform;
    private readonly Tensor? _continuous;
    private readonly (int Column, int States)[] _chains;
    private readonly bool[] _byStatistics;
    private readonly double[] _boxCenter, _boxHalfWidth;

    public PolicyNetwork(Model model, Network network, InputScaling scaling = InputScaling.InitialBox)
    {
        if (network.Spec.Inputs != InputWidth(model) || network.Spec.Outputs != model.PolicyWidth)
            throw new ArgumentException($"{model.Title}: the network maps {network.Spec.Inputs} → {network.Spec.Outputs}, the model needs {InputWidth(model)} inputs → {model.PolicyWidth} policy outputs");
        _model = model;
        Network = network;
        var device = network.parameters().First().device;
        var columns = model.StateColumns;
        var continuous = Enumerable.Range(0, columns.Count).Where(j => columns[j].State.Chain is null).ToArray();
        _chains = model.ChainStates.Select(c => (c.Index, c.Chain!.Count)).ToArray();
        if (_chains.Length > 0) _continuous = torch.tensor(continuous.Select(j => (long)j).ToArray(), dtype: ScalarType.Int64, device: device);
        int features = model.FeatureColumns.Count;
        _boxCenter = continuous.Select(j => columns[j].Initial.Center).Concat(Enumerable.Repeat(0.0, features)).ToArray();
        _boxHalfWidth = continuous.Select(j => columns[j].Initial.HalfWidth).Concat(Enumerable.Repeat(1.0, features)).ToArray();
        _byStatistics = continuous.Select(_ => scaling == InputScaling.Simulated).Concat(Enumerable.Repeat(true, features)).ToArray();
        Scaling = scaling;
        // (x − center)/halfWidth as one fused x·scale + shift.
        int scaled = _boxCenter.Length;
        _offset = torch.tensor(_boxCenter.Zip(_boxHalfWidth, (c, h) => -c / h).ToArray(), [1, scaled], dtype: network.DType, device: device);
        _inverseScale = torch.tensor(_boxHalfWidth.Select(h => 1.0 / h).ToArray(), [1, scaled], dtype: network.DType, device: device);
        var first = model.Policies[0];
        _singleTransform = model.Policies.All(p => p.Output == first.Output && p.Bounds == first.Bounds);
    }

    public Network Network { get; }

    public InputScaling Scaling { get; }

    /// <summary>
    /// A fixed first-order part added to the network's raw outputs (<see cref="WarmStartKind.Correction"/>): the network
    /// is then the correction to the linear solution. Null: the network's outputs alone.
    /// </summary>
    public LinearPart? Linear
    {
        get => _linear;
        set
        {
            _linear = value;
            ForgetLinearInInputs();
        }
    }

    private LinearPart? _linear;

    // The linear part as a function of the scaled inputs the network already gets: a + S·(x − x̄) = a + S·(c − x̄) + S·diag(h)·u
    // for u = (x − c)/h, one addmm and a clamp per call (the policy is called several times a step). Rebuilt when the scaling changes.
    private (Tensor Weight, Tensor Bias, Tensor Lower, Tensor Upper)? _linearInInputs;

    private Tensor LinearRaw(Tensor inputs)
    {
        var t = _linearInInputs ??= LinearInInputs();
        int n = _linear!.Columns.Count;
        if (n == 0) return t.Bias.expand(inputs.shape[0], -1);
        var u = inputs.shape[1] == n ? inputs : inputs.narrow(1, 0, n);
        return torch.addmm(t.Bias, u, t.Weight, 1, 1).clamp(t.Lower, t.Upper);
    }

    private (Tensor, Tensor, Tensor, Tensor) LinearInInputs()
    {
        var part = _linear!;
        var (center, halfWidth) = CurrentScaling();
        int m = part.Anchor.Count, n = part.Columns.Count;
        var weight = new double[n, m];
        var bias = part.Anchor.ToArray();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                weight[j, i] = part.Slopes[i, j] * halfWidth[j];
                bias[i] += part.Slopes[i, j] * (center[j] - part.Center[j]);
            }
        var dtype = Network.DType;
        var anchors = torch.tensor(part.Anchor.ToArray(), [1, m], dtype: dtype, device: Device);
        var made = (Deqn.Training.Engine.Tensors.FromArray(weight, dtype).to(Device), torch.tensor(bias, [1, m], dtype: dtype, device: Device),
            anchors.sub(LinearPart.Reach), anchors.add(LinearPart.Reach));
        foreach (var kept in new[] { made.Item1, made.Item2, made.Item3, made.Item4 }) kept.DetachFromDisposeScope();
        anchors.Dispose();
        return made;
    }

    private void ForgetLinearInInputs()
    {
        if (_linearInInputs is not { } t) return;
        t.Weight.Dispose();
        t.Bias.Dispose();
        t.Lower.Dispose();
        t.Upper.Dispose();
        _linearInInputs = null;
    }

    /// <summary>The device of the network's parameters; <see cref="Values"/> moves inputs there.</summary>
    public Device Device => _offset.device;

    /// <summary>Whether some inputs are scaled by the simulated states' statistics (then <see cref="Observe"/> feeds them).</summary>
    public bool ObservesStates => _byStatistics.Any(b => b);

    /// <summary>The running statistics behind the scaling (null before any observation).</summary>
    public InputStatistics? Statistics { get; private set; }

    /// <summary>The network's inputs for <paramref name="model"/>: continuous state elements, feature elements, and one per state of each Markov chain.</summary>
    public static int InputWidth(Model model) =>
        model.StateWidth - model.ChainStates.Count + model.FeatureColumns.Count + model.ChainStates.Sum(c => c.Chain!.Count);

    /// <summary>The names of the network's inputs, in order (one-hot chain states as "shock=label").</summary>
    public static IReadOnlyList<string> InputNames(Model model) =>
        model.StateColumns.Where(c => c.State.Chain is null).Select(c => c.Name).Concat(model.FeatureColumns)
            .Concat(model.ChainStates.SelectMany(c => c.Chain!.Labels.Select(label => $"{c.Name}={label}"))).ToArray();

    /// <summary>The current scaling of the scaled inputs (continuous states, then features) as centers and half-widths: input = (x − center)/halfWidth.</summary>
    public (double[] Center, double[] HalfWidth) CurrentScaling()
    {
        var offset = _offset.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        var inverse = _inverseScale.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return (offset.Zip(inverse, (o, i) => -o / i).ToArray(), inverse.Select(i => 1 / i).ToArray());
    }

    /// <summary>A network spec for <paramref name="model"/>: its inputs, <paramref name="body"/>, one linear output per policy element.</summary>
    public static NetworkSpec SpecFor(Model model, NetworkBodySpec body) => body.For(InputWidth(model), model.PolicyWidth, Activation.Linear);

    /// <summary>
    /// While set, every <see cref="Values"/> call appends its dense layers' inputs and outputs (one list per call), for
    /// <see cref="ResidualJacobian"/>.
    /// </summary>
    internal List<List<(Tensor Input, Tensor Output)>>? Trace { get; set; }

    public Tensor Values(Tensor states)
    {
        // Probes and diagnostics build their inputs on the CPU; a network elsewhere takes them across.
        if (states.device_type != _offset.device_type || states.device_index != _offset.device_index) states = states.to(_offset.device);
        Tensor raw;
        var inputs = Inputs(states);
        if (Trace is null) raw = Network.forward(inputs);
        else
        {
            var layers = new List<(Tensor Input, Tensor Output)>();
            raw = Network.ForwardTraced(inputs, layers);
            Trace.Add(layers);
        }
        if (_linear is not null) raw = raw.add(LinearRaw(inputs));
        // One transform on the whole output when all policies share it: fewer operations per step.
        if (_singleTransform) return _model.Policies[0].Transform(raw);
        return torch.cat(_model.Policies.Select(p => p.Transform(raw.narrow(1, p.Index, p.Size))).ToArray(), 1);
    }

    /// <summary>The raw outputs [n, PolicyWidth] before each policy's transform, the linear part included (gradients flow).</summary>
    internal Tensor Raw(Tensor states)
    {
        var inputs = Inputs(states.to(_offset.device));
        var raw = Network.forward(inputs);
        return _linear is null ? raw : raw.add(LinearRaw(inputs));
    }

    /// <summary>
    /// Adds the simulated states <paramref name="visited"/> [rows, StateWidth] to the running statistics and rescales
    /// the inputs scaled by them (no gradients; the solver calls it once an episode, before its steps).
    /// </summary>
    public void Observe(Tensor visited)
    {
        if (!ObservesStates) return;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var x = Unscaled(visited.to(_offset.device)).to_type(ScalarType.Float64);
        long n = x.shape[0];
        var mean = x.mean([0]).cpu().data<double>().ToArray();
        var squares = x.sub(x.mean([0], keepdim: true)).square().sum([0]).cpu().data<double>().ToArray();
        var merged = Statistics is not { } old ? new InputStatistics(n, mean, squares) : Merge(old, n, mean, squares);
        Restore(merged);
    }

    /// <summary>Sets the running statistics (from a checkpoint) and the scaling they imply.</summary>
    public void Restore(InputStatistics statistics)
    {
        if (statistics.Mean.Length != _boxCenter.Length) throw new ArgumentException($"input statistics for {statistics.Mean.Length} inputs, the network scales {_boxCenter.Length}");
        Statistics = statistics;
        var center = (double[])_boxCenter.Clone();
        var half = (double[])_boxHalfWidth.Clone();
        for (int j = 0; j < center.Length; j++)
        {
            if (!_byStatistics[j]) continue;
            double sd = Math.Sqrt(statistics.SquaredDeviations[j] / Math.Max(1, statistics.Count));
            center[j] = statistics.Mean[j];
            // Relative to the input's own size, so tiny holdings keep their spread; only a constant input (a fixed state, a
            // feature that does not move) keeps unit spread rather than dividing by ~0.
            half[j] = sd > 0 && sd > 1e-9 * Math.Abs(center[j]) ? sd : 1;
        }
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        _offset.copy_(torch.tensor(center.Zip(half, (c, h) => -c / h).ToArray(), [1, center.Length], dtype: ScalarType.Float64));
        ForgetLinearInInputs();
        _inverseScale.copy_(torch.tensor(half.Select(h => 1.0 / h).ToArray(), [1, center.Length], dtype: ScalarType.Float64));
    }

    private static InputStatistics Merge(InputStatistics a, long n, double[] mean, double[] squares)
    {
        long total = a.Count + n;
        var m = new double[mean.Length];
        var s = new double[mean.Length];
        for (int j = 0; j < m.Length; j++)
        {
            double delta = mean[j] - a.Mean[j];
            m[j] = a.Mean[j] + delta * n / total;
            s[j] = a.SquaredDeviations[j] + squares[j] + delta * delta * a.Count * n / total;
        }
        return new InputStatistics(total, m, s);
    }

    // The continuous state columns and the features, before scaling.
    private Tensor Unscaled(Tensor states)
    {
        var continuous = _chains.Length == 0 ? states : states.index_select(1, _continuous!);
        return _model.Features.Count == 0 ? continuous : torch.cat([continuous, Period.FeatureMatrix(_model, states)], 1);
    }

    private Tensor Inputs(Tensor states)
    {
        if (_chains.Length == 0 && _model.Features.Count == 0 && Scaling == InputScaling.InitialBox) return torch.addcmul(_offset, states, _inverseScale, 1.0);
        var parts = new List<Tensor>(1 + _chains.Length);
        if (_offset.shape[1] > 0) parts.Add(Limit(torch.addcmul(_offset, Unscaled(states), _inverseScale, 1.0)));
        foreach (var (column, count) in _chains)
            parts.Add(nn.functional.one_hot(states.select(1, column).to_type(ScalarType.Int64), count).to_type(states.dtype));
        return parts.Count == 1 ? parts[0] : torch.cat(parts.ToArray(), 1);
    }

    /// <summary>
    /// Inputs scaled by statistics are standard scores; a next-period state far outside what was simulated (a
    /// tiny holding that moved by orders of its spread) would otherwise saturate the network and, through a saturated
    /// sigmoid, turn the gradient into 0·∞. Scores beyond ±<see cref="ScoreLimit"/> are held there.
    /// </summary>
    private Tensor Limit(Tensor scaled) => ObservesStates ? scaled.clamp(-ScoreLimit, ScoreLimit) : scaled;

    /// <summary>The largest standard score an input scaled by statistics takes (8: far beyond any simulated state's).</summary>
    public const double ScoreLimit = 8;

    public void Dispose()
    {
        ForgetLinearInInputs();
        _offset.Dispose();
        _inverseScale.Dispose();
        _continuous?.Dispose();
        Network.Dispose();
    }
}
