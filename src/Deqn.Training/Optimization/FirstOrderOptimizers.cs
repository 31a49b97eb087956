using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Training.Optimization;

/// <summary>
/// A method that evaluates the closure once per step and updates each parameter element-wise from its gradient and
/// a fixed number of state tensors per parameter ("slots": momentum, accumulators, moments).
/// </summary>
internal abstract class FirstOrderOptimizer : Optimizer
{
    /// <summary>[slot][parameter]; each has its parameter's shape, dtype and device.</summary>
    private Tensor[][] _slots;

    protected FirstOrderOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings, int slotCount, double initialValue = 0.0)
        : base(parameters, settings)
    {
        _slots = new Tensor[slotCount][];
        using var noGrad = torch.no_grad();
        for (int s = 0; s < slotCount; s++)
            // Detached: a caller may build the optimizer inside its own dispose scope, and the state must outlive it.
            _slots[s] = parameters.Select(p => torch.full_like(p, initialValue).DetachFromDisposeScope()).ToArray();
    }

    protected Tensor Slot(int slot, int parameter) => _slots[slot][parameter];

    // Every number handed to libtorch is a native Scalar. One made implicitly (w.mul_(0.9)) is unreachable once its
    // handle is read, so the GC may finalize it while libtorch still reads it ("Unknown scalar type", seen under load
    // in CI). The step's Scalars are made here and held until the step ends.
    private readonly List<Scalar> _stepScalars = new();

    /// <summary>A Scalar for this step's updates, alive until the step ends.</summary>
    protected Scalar S(double value)
    {
        var scalar = value.ToScalar();
        _stepScalars.Add(scalar);
        return scalar;
    }

    private protected sealed override double StepCore(Func<double> closure)
    {
        double loss = Evaluate(closure);
        StepCount++;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        try
        {
            for (int i = 0; i < Parameters.Count; i++)
            {
                var g = Parameters[i].grad;
                if (g is null) continue;
                Update(i, Parameters[i], g, StepCount);
            }
        }
        finally
        {
            foreach (var scalar in _stepScalars) scalar.Dispose();
            _stepScalars.Clear();
        }
        return loss;
    }

    /// <summary>Updates parameter <paramref name="index"/> in place; runs without autograd inside a dispose scope.</summary>
    protected abstract void Update(int index, Tensor w, Tensor g, long t);

    private protected sealed override void WriteState(BinaryWriter w)
    {
        w.Write(_slots.Length);
        foreach (var slot in _slots)
            foreach (var t in slot)
                WriteTensor(w, t);
    }

    private protected sealed override void ReadState(BinaryReader r)
    {
        int count = r.ReadInt32();
        if (count != _slots.Length) throw new InvalidDataException($"the saved optimizer state has {count} state tensors per parameter, expected {_slots.Length}");
        var loaded = new Tensor[count][];
        try
        {
            for (int s = 0; s < count; s++)
            {
                loaded[s] = new Tensor[Parameters.Count];
                for (int i = 0; i < Parameters.Count; i++)
                {
                    var p = Parameters[i];
                    loaded[s][i] = ReadTensor(r, p.dtype, p.shape, p.device, $"state {s} of parameter {i}");
                }
            }
        }
        catch
        {
            DisposeAll(loaded.Where(a => a is not null).SelectMany(a => a));
            throw;
        }
        DisposeState();
        _slots = loaded;
    }

    private protected sealed override void DisposeState() => DisposeAll(_slots.SelectMany(s => s));

    /// <summary>sqrt(A + eps) (the lecture) or sqrt(A) + eps (Keras's Adam, PyTorch); a new tensor.</summary>
    protected Tensor Denominator(Tensor a) =>
        Settings.EpsilonInsideSqrt ? a.add(S(Settings.Epsilon)).sqrt_() : a.sqrt().add_(S(Settings.Epsilon));
}

/// <summary>w ← w − η g.</summary>
internal sealed class SgdOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    : FirstOrderOptimizer(parameters, settings, slotCount: 0)
{
    protected override void Update(int index, Tensor w, Tensor g, long t) => w.add_(g, S(-LearningRate));
}

/// <summary>Heavy ball (Qian): v ← μ v − η g; w ← w + v, i.e. w(t+1) = w(t) + μ (w(t) − w(t−1)) − η g.</summary>
internal sealed class MomentumOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    : FirstOrderOptimizer(parameters, settings, slotCount: 1)
{
    protected override void Update(int index, Tensor w, Tensor g, long t)
    {
        var v = Slot(0, index);
        v.mul_(S(Settings.Momentum)).add_(g, S(-LearningRate));
        w.add_(v);
    }
}

/// <summary>
/// Nesterov in the Keras/Sutskever form: v ← μ v − η g; w ← w + μ v − η g.
/// </summary>
/// <remarks>
/// The lecture writes Nesterov with a look-ahead gradient, v ← μ v − η ∇f(w + μ v); w ← w + v. Substituting the
/// look-ahead point w' = w + μ v as the stored weights turns it into the form above, which needs only the gradient at
/// the stored weights; this is the usual reformulation (Sutskever et al. 2013, Keras, PyTorch).
/// </remarks>
internal sealed class NesterovOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    : FirstOrderOptimizer(parameters, settings, slotCount: 1)
{
    protected override void Update(int index, Tensor w, Tensor g, long t)
    {
        var v = Slot(0, index);
        v.mul_(S(Settings.Momentum)).add_(g, S(-LearningRate));
        w.add_(v, S(Settings.Momentum)).add_(g, S(-LearningRate));
    }
}

/// <summary>A ← A + g²; w ← w − η g / sqrt(A + ε) (or / (sqrt(A) + ε)).</summary>
internal sealed class AdaGradOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    : FirstOrderOptimizer(parameters, settings, slotCount: 1, initialValue: settings.InitialAccumulator)
{
    protected override void Update(int index, Tensor w, Tensor g, long t)
    {
        var a = Slot(0, index);
        a.addcmul_(g, g, S(1.0));
        w.addcdiv_(g, Denominator(a), S(-LearningRate));
    }
}

/// <summary>A ← ρ A + (1 − ρ) g²; w ← w − η g / sqrt(A + ε) (or / (sqrt(A) + ε)).</summary>
internal sealed class RmsPropOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    : FirstOrderOptimizer(parameters, settings, slotCount: 1)
{
    protected override void Update(int index, Tensor w, Tensor g, long t)
    {
        var a = Slot(0, index);
        a.mul_(S(Settings.Rho)).addcmul_(g, g, S(1.0 - Settings.Rho));
        w.addcdiv_(g, Denominator(a), S(-LearningRate));
    }
}

/// <summary>
/// Adam: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; m̂ = m/(1−β1^t), v̂ = v/(1−β2^t); w ← w − η m̂ / sqrt(v̂ + ε).
/// AdamW first applies the decoupled decay w ← w − η λ w (as PyTorch), with the gradient taken at the undecayed weights.
/// </summary>
internal sealed class AdamOptimizer(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings)
    : FirstOrderOptimizer(parameters, settings, slotCount: 2)
{
    protected override void Update(int index, Tensor w, Tensor g, long t)
    {
        double b1 = Settings.Beta1, b2 = Settings.Beta2;
        if (Settings.Kind == OptimizerKind.AdamW && Settings.WeightDecay != 0) w.mul_(S(1.0 - LearningRate * Settings.WeightDecay));
        var m = Slot(0, index);
        var v = Slot(1, index);
        m.mul_(S(b1)).add_(g, S(1.0 - b1));
        v.mul_(S(b2)).addcmul_(g, g, S(1.0 - b2));
        double c1 = 1.0 - Math.Pow(b1, t), c2 = 1.0 - Math.Pow(b2, t);
        w.addcdiv_(m, Denominator(v.div(S(c2))), S(-LearningRate / c1));
    }
}
