using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// Updates a fixed list of parameters from their gradients. Built by <see cref="Optimizers.Create"/>; the update rules
/// are those of the lecture's table (README.md in this folder), with t = <see cref="StepCount"/> counting from 1.
/// </summary>
/// <remarks>
/// State tensors (moments, accumulators, L-BFGS history) have the shape and dtype of their parameter, live outside every
/// dispose scope and are freed by <see cref="Dispose"/>. A parameter with no gradient at a step is left alone and its
/// state does not advance (as in PyTorch); stacked parameters of shape [K, in, out] are updated element-wise like any other.
/// </remarks>
public abstract class Optimizer : IDisposable
{
    private static readonly byte[] Magic = "DEQNOPT1"u8.ToArray();
    private double _learningRate;
    private bool _disposed;

    private protected Optimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    {
        if (parameters.Count == 0) throw new ArgumentException("an optimizer needs at least one parameter");
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var p in parameters)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(parameters));
            // A parameter listed twice would be updated twice per step.
            if (!seen.Add(p)) throw new ArgumentException("the same parameter is listed twice");
            if (!p.is_floating_point()) throw new ArgumentException($"parameters must be floating point (got {p.dtype})");
            // backward() fills .grad only on leaves: a parameter made from e.g. other.clone() would silently never move.
            if (!p.is_leaf) throw new ArgumentException("parameters must be leaf tensors (build them from detach()ed values)");
        }
        Parameters = parameters;
        Settings = settings;
        _learningRate = settings.LearningRate;
    }

    /// <summary>The resolved hyper-parameters this optimizer was built with; <see cref="LearningRate"/> may since have changed.</summary>
    public ResolvedOptimizer Settings { get; }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The current learning rate; schedules and callbacks set it between steps. Zero is allowed (a schedule's end).</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0 && double.IsFinite(value))) throw new ArgumentException($"learning rate must be >= 0 (got {OptimizerSpec.Format(value)})");
            _learningRate = value;
        }
    }

    /// <summary>Number of completed <see cref="Step"/> calls.</summary>
    public long StepCount { get; private protected set; }

    /// <summary>Run after every backward inside <see cref="Step"/>, before the update (gradient clipping, gradient statistics).</summary>
    public Action? AfterBackward { get; set; }

    /// <summary>Clears every parameter's gradient (sets it to none, as PyTorch does by default).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.grad = null;
    }

    /// <summary>
    /// One optimization step. Before each call of <paramref name="closure"/> the optimizer calls <see cref="ZeroGrad"/>; the
    /// closure runs forward and backward and returns the loss. Tensors the closure creates are disposed when it returns
    /// (it runs in its own dispose scope), so it must hand back numbers, not tensors. First-order methods call the closure
    /// once, L-BFGS possibly many times.
    /// </summary>
    /// <returns>The loss of the first evaluation, at the weights before the step.</returns>
    public double Step(Func<double> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return StepCore(closure);
    }

    private protected abstract double StepCore(Func<double> closure);

    /// <summary>Zeroes the gradients, runs the closure with autograd on, then the hook.</summary>
    private protected double Evaluate(Func<double> closure)
    {
        ZeroGrad();
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        double loss = closure();
        AfterBackward?.Invoke();
        return loss;
    }

    /// <summary>
    /// Writes the step counter, the learning rate and every state tensor. Hyper-parameters are not stored: the resumed run
    /// takes them from its own spec.
    /// </summary>
    public void SaveState(Stream s)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write((int)Settings.Kind);
        w.Write(Parameters.Count);
        foreach (var p in Parameters)
        {
            w.Write((int)p.dtype);
            w.Write(p.shape.Length);
            foreach (long n in p.shape) w.Write(n);
        }
        w.Write(StepCount);
        w.Write(_learningRate);
        WriteState(w);
        w.Flush();
    }

    /// <summary>The kind of optimizer whose state <paramref name="saved"/> holds (what <see cref="SaveState"/> wrote); null when it is not one.</summary>
    public static OptimizerKind? SavedKind(ReadOnlySpan<byte> saved) =>
        saved.Length >= Magic.Length + 4 && saved[..Magic.Length].SequenceEqual(Magic)
            ? (OptimizerKind)BitConverter.ToInt32(saved.Slice(Magic.Length, 4))
            : null;

    /// <summary>Restores what <see cref="SaveState"/> wrote; the parameters must match in number, dtype and shape.</summary>
    public void LoadState(Stream s)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var r = new BinaryReader(s, Encoding.UTF8, leaveOpen: true);
        if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("not a saved optimizer state");
        var kind = (OptimizerKind)r.ReadInt32();
        if (kind != Settings.Kind) throw new InvalidDataException($"the saved optimizer state is for {Optimizers.Name(kind)}, not {Optimizers.Name(Settings.Kind)}");
        int count = r.ReadInt32();
        if (count != Parameters.Count) throw new InvalidDataException($"the saved optimizer state has {count} parameters, this optimizer {Parameters.Count}");
        for (int i = 0; i < count; i++)
        {
            var dtype = (ScalarType)r.ReadInt32();
            var shape = new long[r.ReadInt32()];
            for (int k = 0; k < shape.Length; k++) shape[k] = r.ReadInt64();
            var p = Parameters[i];
            if (dtype != p.dtype || !shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"parameter {i}: saved state is {dtype} [{string.Join(", ", shape)}], the parameter {p.dtype} [{string.Join(", ", p.shape)}]");
        }
        long steps = r.ReadInt64();
        double lr = r.ReadDouble();
        ReadState(r);
        StepCount = steps;
        _learningRate = lr;
    }

    private protected abstract void WriteState(BinaryWriter w);

    /// <summary>Reads everything first and replaces the state only when all of it was read.</summary>
    private protected abstract void ReadState(BinaryReader r);

    private protected abstract void DisposeState();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeState();
        GC.SuppressFinalize(this);
    }

    // --- helpers for state tensors ---

    /// <summary>Writes dtype, shape and raw bytes.</summary>
    private protected static void WriteTensor(BinaryWriter w, Tensor t)
    {
        w.Write((int)t.dtype);
        w.Write(t.shape.Length);
        foreach (long n in t.shape) w.Write(n);
        w.Flush();
        using var scope = torch.NewDisposeScope();
        var cpu = t.device_type == DeviceType.CPU ? t.contiguous() : t.to(CPU).contiguous();
        cpu.WriteBytesToStream(w.BaseStream);
    }

    /// <summary>Reads a tensor written by <see cref="WriteTensor"/>, checks it against the expected dtype and shape, and returns it owned by no scope.</summary>
    private protected static Tensor ReadTensor(BinaryReader r, ScalarType dtype, long[] shape, Device device, string what)
    {
        var savedType = (ScalarType)r.ReadInt32();
        var savedShape = new long[r.ReadInt32()];
        for (int k = 0; k < savedShape.Length; k++) savedShape[k] = r.ReadInt64();
        if (savedType != dtype || !savedShape.SequenceEqual(shape))
            throw new InvalidDataException($"{what}: saved as {savedType} [{string.Join(", ", savedShape)}], expected {dtype} [{string.Join(", ", shape)}]");
        using var scope = torch.NewDisposeScope();
        var t = torch.empty(savedShape, savedType);
        t.ReadBytesFromStream(r.BaseStream);
        if (device.type != DeviceType.CPU) t = t.to(device);
        return t.DetachFromDisposeScope();
    }

    private protected static void DisposeAll(IEnumerable<Tensor?> tensors)
    {
        foreach (var t in tensors) t?.Dispose();
    }
}
