using System.Globalization;
using Deqn.Training.Initialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Networks;

/// <summary>
/// A fully connected network built from a <see cref="NetworkSpec"/>. Layers are named like Keras's
/// (dense_1, batch_norm_1, dropout_1, ..., output) so that summaries, TensorBoard tags and saved weights read alike.
/// </summary>
public sealed class Network : nn.Module<Tensor, Tensor>
{
    private readonly List<Stage> _stages = new();

    public NetworkSpec Spec { get; }
    public ScalarType DType { get; }

    private abstract record Stage(string Name);
    private sealed record DenseStage(string Name, Linear Layer) : Stage(Name);
    // Momentum is Keras's: the weight of the old running value.
    private sealed record NormStage(string Name, BatchNorm1d Layer, double Momentum) : Stage(Name);
    private sealed record ActivationStage(string Name, Activation Activation) : Stage(Name);
    private sealed record DropoutStage(string Name, double Rate) : Stage(Name);

    /// <summary>Builds the network and initializes it from <paramref name="generator"/>.</summary>
    public Network(NetworkSpec spec, Generator generator, Device? device = null) : base("network")
    {
        spec.Validate();
        Spec = spec;
        DType = spec.Precision == Precision.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        int width = spec.Inputs;
        for (int i = 0; i < spec.Hidden.Count; i++)
        {
            var layer = spec.Hidden[i];
            int n = i + 1;
            var dense = nn.Linear(width, layer.Width, dtype: DType);
            register_module($"dense_{n}", dense);
            _stages.Add(new DenseStage($"dense_{n}", dense));
            if (layer.BatchNorm is { } bn)
            {
                // TorchSharp's momentum is the weight of the new batch; ours (Keras's) is the weight of the old value.
                var norm = nn.BatchNorm1d(layer.Width, eps: bn.Epsilon, momentum: 1.0 - bn.Momentum, dtype: DType);
                register_module($"batch_norm_{n}", norm);
                _stages.Add(new NormStage($"batch_norm_{n}", norm, bn.Momentum));
            }
            if (layer.Activation != Activation.Linear) _stages.Add(new ActivationStage($"{layer.Activation.Name()}_{n}", layer.Activation));
            if (layer.Dropout > 0) _stages.Add(new DropoutStage($"dropout_{n}", layer.Dropout));
            width = layer.Width;
        }
        var output = nn.Linear(width, spec.Outputs, dtype: DType);
        register_module("output", output);
        _stages.Add(new DenseStage("output", output));
        if (spec.OutputActivation != Activation.Linear) _stages.Add(new ActivationStage($"output_{spec.OutputActivation.Name()}", spec.OutputActivation));

        Initialize(generator);
        if (device is not null && device.type != DeviceType.CPU) this.to(device);
    }

    /// <summary>One explicit pass over the network: dense weights and biases from the spec's initializers, batch norm to identity.</summary>
    public void Initialize(Generator generator)
    {
        foreach (var stage in _stages)
        {
            switch (stage)
            {
                case DenseStage d:
                    long fanIn = d.Layer.weight!.shape[1], fanOut = d.Layer.weight.shape[0];
                    Initializers.Fill(d.Layer.weight, Spec.WeightInitializer, generator, fanIn, fanOut);
                    if (d.Layer.bias is { } b) Initializers.Fill(b, Spec.BiasInitializer, generator, fanIn, fanOut);
                    break;
                case NormStage n:
                    n.Layer.reset_parameters();
                    break;
            }
        }
    }

    /// <summary>Moves the parameters to <paramref name="device"/> (in place) and returns this network.</summary>
    public Network MoveTo(Device device)
    {
        this.to(device);
        return this;
    }

    public override Tensor forward(Tensor input) => Run(input, stopAtSoftmax: false);

    /// <summary>Output logits for classification: the network without its softmax.</summary>
    public Tensor Logits(Tensor input) => Run(input, stopAtSoftmax: true);

    /// <summary>
    /// The generator dropout masks are drawn from while training. libtorch's own dropout draws from the global generator,
    /// which would make runs depend on whatever else the process did; the trainer sets this to its seeded generator.
    /// </summary>
    public Generator? DropoutGenerator { get; set; }

    private Tensor Run(Tensor input, bool stopAtSoftmax)
    {
        var x = input;
        foreach (var stage in _stages)
        {
            if (stopAtSoftmax && stage is ActivationStage { Activation: Activation.Softmax }) break;
            x = stage switch
            {
                DenseStage d => d.Layer.forward(x),
                NormStage n => Normalize(n, x),
                ActivationStage a => a.Activation.Apply(x),
                DropoutStage p => Dropout(x, p.Rate),
                _ => throw new InvalidOperationException(),
            };
        }
        return x;
    }

    private Tensor Dropout(Tensor x, double rate)
    {
        if (!training) return x;
        if (DropoutGenerator is null) return nn.functional.dropout(x, rate, training: true);
        using var keep = torch.rand(x.shape, dtype: x.dtype, device: x.device, generator: DropoutGenerator).ge_(rate);
        return x * keep / (1.0 - rate);
    }

    /// <summary>
    /// Batch norm with Keras's running statistics. In training, libtorch would fold the unbiased batch variance
    /// into running_var; Keras folds the biased one (the variance it normalizes with), so the update is done here.
    /// </summary>
    private Tensor Normalize(NormStage stage, Tensor x)
    {
        var bn = stage.Layer;
        if (!training) return bn.forward(x);
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var mean = x.mean(new long[] { 0 });
            var variance = x.var(0, unbiased: false);
            double keep = stage.Momentum;
            bn.running_mean!.mul_(keep).add_(mean, alpha: 1.0 - keep);
            bn.running_var!.mul_(keep).add_(variance, alpha: 1.0 - keep);
            bn.num_batches_tracked?.add_(1);
        }
        return nn.functional.batch_norm(x, null, null, bn.weight, bn.bias, training: true, eps: bn.eps);
    }

    /// <summary>
    /// True when the network is dense layers and activations only (no batch norm, no dropout): a function of each row
    /// alone, as per-row Jacobians (<see cref="ForwardTraced"/>) need.
    /// </summary>
    public bool IsRowwiseDense => _stages.All(s => s is DenseStage or ActivationStage);

    /// <summary>The dense layers' weights [out, in] and biases [out], input to output.</summary>
    public IReadOnlyList<(Parameter Weight, Parameter Bias)> DenseLayers() =>
        _stages.OfType<DenseStage>().Select(d => (d.Layer.weight!, d.Layer.bias!)).ToArray();

    /// <summary>
    /// The forward pass of a <see cref="IsRowwiseDense"/> network that appends each dense layer's input and output to
    /// <paramref name="trace"/>, input to output: the adjoint at an output times the input is that layer's weight
    /// gradient row by row.
    /// </summary>
    public Tensor ForwardTraced(Tensor input, IList<(Tensor Input, Tensor Output)> trace)
    {
        if (!IsRowwiseDense) throw new InvalidOperationException("per-row traces need a network of dense layers and activations only");
        var x = input;
        foreach (var stage in _stages)
        {
            if (stage is DenseStage d)
            {
                var output = d.Layer.forward(x);
                trace.Add((x, output));
                x = output;
            }
            else x = ((ActivationStage)stage).Activation.Apply(x);
        }
        return x;
    }

    /// <summary>
    /// The output [n, O] of a <see cref="IsRowwiseDense"/> network and its Jacobian [n, O, P] with respect to every
    /// parameter, in <see cref="DenseLayers"/> order (each weight row-major, then its bias): one backward pass per output
    /// column gives every row's adjoints at once (rows do not interact), and a layer's per-row weight gradient is the
    /// adjoint times the layer's input.
    /// </summary>
    public (Tensor Output, Tensor Jacobian) ForwardWithJacobian(Tensor input)
    {
        var trace = new List<(Tensor Input, Tensor Output)>();
        Tensor output;
        var perOutput = new List<Tensor>();
        using (torch.enable_grad())
        {
            output = ForwardTraced(input, trace);
            var layerOutputs = trace.Select(t => t.Output).ToArray();
            long columns = output.shape[1];
            for (long o = 0; o < columns; o++)
            {
                var adjoints = torch.autograd.grad([output.select(1, o).sum()], layerOutputs, retain_graph: o < columns - 1, allow_unused: true);
                var parts = new List<Tensor>(2 * trace.Count);
                for (int l = 0; l < trace.Count; l++)
                {
                    var h = trace[l].Input.detach();
                    var delta = adjoints[l] is { IsInvalid: false } a ? a : torch.zeros_like(trace[l].Output);
                    parts.Add(delta.unsqueeze(2).mul(h.unsqueeze(1)).reshape(h.shape[0], -1));
                    parts.Add(delta);
                }
                perOutput.Add(torch.cat(parts, 1));
            }
        }
        return (output.detach(), torch.stack(perOutput, 1));
    }

    /// <summary>The dense layers' names and weight tensors, input to output (for per-layer gradient norms).</summary>
    public IEnumerable<(string Name, Parameter Weight)> DenseWeights() =>
        _stages.OfType<DenseStage>().Select(d => (d.Name, d.Layer.weight!));

    /// <summary>A Keras-like table: each layer, its output shape and parameter count, and the totals.</summary>
    public NetworkSummary Summary()
    {
        var rows = new List<NetworkSummary.Row>();
        foreach (var stage in _stages)
        {
            switch (stage)
            {
                case DenseStage d:
                    rows.Add(new(d.Name, "Dense", d.Layer.weight!.shape[0], d.Layer.parameters().Sum(p => p.numel()), 0));
                    break;
                case NormStage n:
                    long f = n.Layer.weight!.shape[0];
                    rows.Add(new(n.Name, "BatchNorm", f, 4 * f, 2 * f));
                    break;
                case ActivationStage a:
                    rows.Add(new(a.Name, $"Activation({a.Activation.Name()})", rows.Count > 0 ? rows[^1].Units : Spec.Inputs, 0, 0));
                    break;
                case DropoutStage p:
                    rows.Add(new(p.Name, string.Create(CultureInfo.InvariantCulture, $"Dropout({p.Rate:0.###})"), rows[^1].Units, 0, 0));
                    break;
            }
        }
        return new NetworkSummary(Spec.Inputs, rows, Spec.Precision);
    }
}

/// <summary>What <see cref="Network.Summary"/> reports; <see cref="ToString"/> gives Keras's table.</summary>
public sealed record NetworkSummary(int Inputs, IReadOnlyList<NetworkSummary.Row> Rows, Precision Precision)
{
    public sealed record Row(string Name, string Type, long Units, long Parameters, long NonTrainable);

    public long TotalParameters => Rows.Sum(r => r.Parameters);
    public long NonTrainableParameters => Rows.Sum(r => r.NonTrainable);
    public long TrainableParameters => TotalParameters - NonTrainableParameters;

    /// <remarks>Numbers are written in the invariant culture (4,481 and 17.50), as Keras prints them, whatever the machine's locale.</remarks>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder();
        string line = new('─', 72);
        sb.AppendLine(line);
        sb.AppendLine(inv, $"{"Layer (type)",-40}{"Output Shape",-18}{"Param #",14}");
        sb.AppendLine(line);
        sb.AppendLine(inv, $"{"input (Input)",-40}{$"(None, {Inputs})",-18}{0,14}");
        foreach (var r in Rows)
            sb.AppendLine(inv, $"{$"{r.Name} ({r.Type})",-40}{string.Create(inv, $"(None, {r.Units})"),-18}{r.Parameters,14:N0}");
        sb.AppendLine(line);
        int bytes = Precision == Precision.Float64 ? 8 : 4;
        sb.AppendLine(inv, $"Total params: {TotalParameters:N0} ({TotalParameters * bytes / 1024.0:0.00} KB)");
        sb.AppendLine(inv, $"Trainable params: {TrainableParameters:N0}");
        sb.AppendLine(inv, $"Non-trainable params: {NonTrainableParameters:N0}");
        sb.Append(line);
        return sb.ToString();
    }
}
