using Deqn.Training.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Ensembles;

/// <summary>
/// K networks of one <see cref="NetworkSpec"/> evaluated together: each dense layer's weights are stacked into
/// [K, in, out] and its biases into [K, 1, out], and a forward pass is one batched matrix product per layer
/// (input [K, B, in] → output [K, B, out]). Layers are named as in <see cref="Network"/> (dense_1, ..., output).
/// </summary>
/// <remarks>
/// Member k's weights are the transpose of <see cref="Network"/>'s (Linear stores [out, in]); <see cref="Extract"/> and
/// <see cref="Insert"/> convert. Batch normalization is not supported. The stack lives on the CPU (the parameters are held
/// by reference, which moving the module to another device would replace).
/// </remarks>
public sealed class NetworkStack : nn.Module<Tensor, Tensor>
{
    private readonly List<Stage> _stages = new();
    private readonly List<StackedDense> _dense = new();

    private abstract record Stage;
    private sealed record DenseStage(StackedDense Layer) : Stage;
    private sealed record ActivationStage(Activation Activation) : Stage;
    private sealed record DropoutStage(double Rate) : Stage;

    /// <summary>
    /// Builds K = generators.Count members; member k starts with exactly the weights of
    /// <c>new Network(spec, generators[k])</c> (each generator is drawn from as that constructor would).
    /// </summary>
    public NetworkStack(NetworkSpec spec, IReadOnlyList<Generator> generators) : base("network_stack")
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(generators);
        spec.Validate();
        for (int i = 0; i < spec.Hidden.Count; i++)
            if (spec.Hidden[i].BatchNorm is not null)
                throw new NotSupportedException($"hidden layer {i + 1}: batch normalization is not supported in a network stack (its running statistics are per member and per batch; train such networks one at a time)");
        if (generators.Count < 1) throw new ArgumentException("a network stack needs at least one member");
        Spec = spec;
        Members = generators.Count;
        DType = spec.Precision == Precision.Float64 ? ScalarType.Float64 : ScalarType.Float32;

        int width = spec.Inputs;
        for (int i = 0; i < spec.Hidden.Count; i++)
        {
            var layer = spec.Hidden[i];
            AddDense($"dense_{i + 1}", width, layer.Width);
            if (layer.Activation != Activation.Linear) _stages.Add(new ActivationStage(layer.Activation));
            if (layer.Dropout > 0) _stages.Add(new DropoutStage(layer.Dropout));
            width = layer.Width;
        }
        AddDense("output", width, spec.Outputs);
        if (spec.OutputActivation != Activation.Linear) _stages.Add(new ActivationStage(spec.OutputActivation));

        // Building each member as a Network and copying it is the simplest way to draw exactly what Network draws.
        for (int k = 0; k < Members; k++)
        {
            ArgumentNullException.ThrowIfNull(generators[k], nameof(generators));
            using var member = new Network(spec, generators[k]);
            Insert(k, member);
        }
    }

    /// <summary>Members initialized from <c>new Generator((ulong)seed)</c>, one per seed.</summary>
    public static NetworkStack FromSeeds(NetworkSpec spec, IReadOnlyList<long> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        var generators = seeds.Select(s => new Generator((ulong)s)).ToArray();
        try { return new NetworkStack(spec, generators); }
        finally { foreach (var g in generators) g.Dispose(); }
    }

    public NetworkSpec Spec { get; }

    /// <summary>K, the number of networks in the stack.</summary>
    public int Members { get; }

    public ScalarType DType { get; }

    /// <summary>
    /// One generator per member for dropout masks while training (as <see cref="Network.DropoutGenerator"/>): member k's
    /// mask is drawn from generator k with the shape a single network would draw, so a stacked run can match K separate
    /// ones. Null: masks come from libtorch's global generator.
    /// </summary>
    public IReadOnlyList<Generator>? DropoutGenerators { get; set; }

    /// <summary>Input [K, B, inputs] → output [K, B, outputs].</summary>
    public override Tensor forward(Tensor input) => Run(input, stopAtSoftmax: false);

    /// <summary>Output logits for classification: the networks without their softmax.</summary>
    public Tensor Logits(Tensor input) => Run(input, stopAtSoftmax: true);

    /// <summary>The stacked dense parameters by layer name, input to output: weight [K, in, out], bias [K, 1, out].</summary>
    public IEnumerable<(string Name, Parameter Weight, Parameter Bias)> Layers() =>
        _dense.Select(d => (d.Name, d.Weight, d.Bias));

    /// <summary>An ordinary, independent <see cref="Network"/> holding member <paramref name="k"/>'s current weights.</summary>
    public Network Extract(int k)
    {
        CheckMember(k);
        using var unused = new Generator(0);
        var net = new Network(Spec, unused);
        try
        {
            using var noGrad = torch.no_grad();
            var target = net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var d in _dense)
            {
                using var scope = torch.NewDisposeScope();
                target[$"{d.Name}.weight"].copy_(d.Weight[k].t());
                target[$"{d.Name}.bias"].copy_(d.Bias[k, 0]);
            }
            net.eval();
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>Overwrites member <paramref name="k"/> with <paramref name="network"/>'s weights (same spec layout required).</summary>
    public void Insert(int k, Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        CheckMember(k);
        var source = network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = torch.no_grad();
        foreach (var d in _dense)
        {
            if (!source.TryGetValue($"{d.Name}.weight", out var w) || !source.TryGetValue($"{d.Name}.bias", out var b))
                throw new ArgumentException($"the network has no layer '{d.Name}' (it was built from another spec)");
            using var scope = torch.NewDisposeScope();
            var wt = w.t();
            if (!wt.shape.SequenceEqual(d.Weight.shape.Skip(1)))
                throw new ArgumentException($"layer '{d.Name}': the network's weights are [{string.Join(", ", w.shape)}], the stack's member [{string.Join(", ", d.Weight.shape.Skip(1))}] transposed");
            d.Weight[k].copy_(wt);
            d.Bias[k, 0].copy_(b);
        }
    }

    private void CheckMember(int k)
    {
        if (k < 0 || k >= Members) throw new ArgumentOutOfRangeException(nameof(k), k, $"the stack has {Members} members");
    }

    private void AddDense(string name, int inputs, int outputs)
    {
        var dense = new StackedDense(name, Members, inputs, outputs, DType);
        register_module(name, dense);
        _dense.Add(dense);
        _stages.Add(new DenseStage(dense));
    }

    private Tensor Run(Tensor input, bool stopAtSoftmax)
    {
        if (input.dim() != 3 || input.shape[0] != Members || input.shape[2] != Spec.Inputs)
            throw new ArgumentException($"network stack: input must be [{Members}, B, {Spec.Inputs}] (got [{string.Join(", ", input.shape)}])");
        var x = input;
        foreach (var stage in _stages)
        {
            if (stopAtSoftmax && stage is ActivationStage { Activation: Activation.Softmax }) break;
            x = stage switch
            {
                DenseStage d => Affine(d.Layer.Bias, x, d.Layer.Weight),
                ActivationStage a => a.Activation.Apply(x),
                DropoutStage p => Dropout(x, p.Rate),
                _ => throw new InvalidOperationException(),
            };
        }
        return x;
    }

    /// <summary>Whether the stack is dense layers and activations only (no dropout), as <see cref="ForwardTraced"/> needs.</summary>
    public bool IsRowwiseDense => _stages.All(s => s is DenseStage or ActivationStage);

    /// <summary>
    /// The forward pass that appends each dense layer's input [K, B, in] and output [K, B, out] to <paramref name="trace"/>,
    /// input to output: the adjoint at a layer's output times its input is that layer's weight gradient row by row
    /// (as <see cref="Network.ForwardTraced"/> for one network).
    /// </summary>
    public Tensor ForwardTraced(Tensor input, IList<(Tensor Input, Tensor Output)> trace)
    {
        if (!IsRowwiseDense) throw new InvalidOperationException("per-row traces need a stack of dense layers and activations only");
        if (input.dim() != 3 || input.shape[0] != Members || input.shape[2] != Spec.Inputs)
            throw new ArgumentException($"network stack: input must be [{Members}, B, {Spec.Inputs}] (got [{string.Join(", ", input.shape)}])");
        var x = input;
        foreach (var stage in _stages)
        {
            if (stage is DenseStage d)
            {
                var output = Affine(d.Layer.Bias, x, d.Layer.Weight);
                trace.Add((x, output));
                x = output;
            }
            else x = ((ActivationStage)stage).Activation.Apply(x);
        }
        return x;
    }

    /// <summary>bias + x @ weight in one batched call.</summary>
    /// <remarks>
    /// TorchSharp 0.107's Tensor.baddbmm hands its arguments to libtorch in the wrong order (it computes
    /// batch2 + self @ batch1). Which order this build uses is probed once, so a fixed TorchSharp keeps working.
    /// </remarks>
    private static Tensor Affine(Tensor bias, Tensor x, Tensor weight) =>
        BaddbmmArgumentsRotated ? x.baddbmm(weight, bias) : bias.baddbmm(x, weight);

    private static readonly bool BaddbmmArgumentsRotated = ProbeBaddbmm();

    private static bool ProbeBaddbmm()
    {
        using var scope = torch.NewDisposeScope();
        var two = torch.full(1, 1, 1, 2.0, dtype: ScalarType.Float64);
        var three = torch.full(1, 1, 1, 3.0, dtype: ScalarType.Float64);
        var five = torch.full(1, 1, 1, 5.0, dtype: ScalarType.Float64);
        // Intended: 2 + 3·5 = 17; rotated: 5 + 2·3 = 11.
        double got = two.baddbmm(three, five).ToDouble();
        return got switch
        {
            17.0 => false,
            11.0 => true,
            _ => throw new InvalidOperationException($"baddbmm gave {got} for 2 + 3·5"),
        };
    }

    private Tensor Dropout(Tensor x, double rate)
    {
        if (!training) return x;
        if (DropoutGenerators is not { } gens) return nn.functional.dropout(x, rate, training: true);
        if (gens.Count != Members) throw new InvalidOperationException($"{gens.Count} dropout generators for {Members} members");
        // One draw per member with a single network's mask shape keeps each member's generator stream as Network's.
        var memberShape = x.shape.Skip(1).ToArray();
        var draws = new Tensor[Members];
        for (int k = 0; k < Members; k++) draws[k] = torch.rand(memberShape, dtype: x.dtype, device: x.device, generator: gens[k]);
        using var keep = torch.stack(draws).ge_(rate);
        foreach (var d in draws) d.Dispose();
        return x * keep / (1.0 - rate);
    }

    /// <summary>One dense layer of all members; registered under the layer's name so parameters read dense_1.weight etc.</summary>
    private sealed class StackedDense : nn.Module
    {
        public StackedDense(string name, int members, int inputs, int outputs, ScalarType dtype) : base(name)
        {
            Name = name;
            // Detached: a caller may build the stack inside a dispose scope, and the parameters must outlive it.
            Weight = new Parameter(torch.zeros(members, inputs, outputs, dtype: dtype).DetachFromDisposeScope());
            Bias = new Parameter(torch.zeros(members, 1, outputs, dtype: dtype).DetachFromDisposeScope());
            register_parameter("weight", Weight);
            register_parameter("bias", Bias);
        }

        public string Name { get; }
        public Parameter Weight { get; }
        public Parameter Bias { get; }
    }
}
