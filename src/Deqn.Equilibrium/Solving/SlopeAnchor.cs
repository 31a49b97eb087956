using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Perturbation;
using Deqn.Training.Engine;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// A penalty on the gap between the network's slopes at the steady state and the first-order solution's, added to the
/// episodes' loss (not the polish's): weight · Σ_i Σ_j ((Π_ij − P_ij)·w_j / s_i)², with Π the network's Jacobian by
/// central differences (differentiable in the weights), P the perturbation's, w_j state j's half-range in the initial
/// distribution and s_i = max(|p̄_i|, Σ_j |P_ij|·w_j) — the verdict's slope gap, squared.
/// </summary>
/// <remarks>
/// Why: the equations on the states a solve visits do not pin down the saddle path. Minimising the residuals from the
/// first-order solution, Adam can drift to an explosive or over-accumulating solution whose residuals are as small
/// (stochastic growth with CRRA 5: s 9 % off everywhere, spectral radius 1.04, with fresh draws as with continuing
/// paths). The saddle path's slopes at the steady state are the perturbation's up to terms of order σ², so the anchor
/// holds the episodes in its basin; the polish, a Gauss–Newton method that converges to the nearest root, then drops it
/// and removes the anchor's bias of order σ².
/// </remarks>
internal sealed class SlopeAnchor : IDisposable
{
    private readonly Model _model;
    private readonly DeterministicSystem _system;
    private readonly Tensor _both, _target, _scale;
    private readonly int _states;
    private readonly double _weight;

    // both: the states at +h along each continuous state, then at −h [2n, n].
    private SlopeAnchor(Model model, DeterministicSystem system, Tensor both, Tensor target, Tensor scale, double weight)
    {
        (_model, _system, _both, _target, _scale, _weight) = (model, system, both, target, scale, weight);
        _states = (int)both.shape[1];
    }

    /// <summary>The anchor for <paramref name="linear"/>; null when it has no first-order solution or no continuous state.</summary>
    public static SlopeAnchor? For(Model model, LinearSolution linear, double weight)
    {
        if (weight <= 0 || !linear.Solved) return null;
        var steady = linear.SteadyState;
        var system = new DeterministicSystem(model, linear.Chains);
        int n = system.Continuous.Length, m = model.PolicyWidth;
        if (n == 0) return null;
        var x0 = system.Continuous.Select(j => steady.StateRow[j]).ToArray();
        var w = Verdict.SlopeHalfRanges(model, system, steady);
        // Steps of a thousandth of each state's half-range: the truncation error is a millionth of the slope's scale,
        // well below the gaps the anchor is for, and the difference is still resolved in float32.
        var both = new double[2 * n, n];
        var target = new double[m, n];
        var scale = new double[m, n];
        for (int j = 0; j < n; j++)
        {
            for (int k = 0; k < n; k++) both[j, k] = both[n + j, k] = x0[k];
            double h = 1e-3 * w[j];
            both[j, j] += h;
            both[n + j, j] -= h;
        }
        for (int i = 0; i < m; i++)
        {
            double reach = 0;
            for (int j = 0; j < n; j++) reach += Math.Abs(linear.PolicySlopes[i, j]) * w[j];
            double size = Math.Max(Math.Abs(steady.PolicyRow[i]), reach);
            // A policy that is zero with zero slopes at first order (a slack constraint's multiplier) has no scale to
            // measure a gap against: it is left out, as the verdict leaves it out.
            if (!(size > Verdict.ZeroAtFirstOrder)) continue;
            for (int j = 0; j < n; j++)
            {
                // Π_ij·w_j/s_i = (p_i(x + h e_j) − p_i(x − h e_j))·w_j/(2h s_i) = difference·500/s_i, with h = w_j/1000.
                scale[i, j] = 500 / size;
                target[i, j] = linear.PolicySlopes[i, j] * w[j] / size;
            }
        }
        return new SlopeAnchor(model, system, Tensors.FromArray(both, ScalarType.Float64).DetachFromDisposeScope(),
            Tensors.FromArray(target, ScalarType.Float64).DetachFromDisposeScope(), Tensors.FromArray(scale, ScalarType.Float64).DetachFromDisposeScope(), weight);
    }

    /// <summary>The penalty for <paramref name="policy"/>'s current weights: a scalar, differentiable in them.</summary>
    public Tensor Penalty(IPolicyFunction policy)
    {
        return Slopes(policy).sub(_target).square().sum().mul(_weight);
    }

    /// <summary>
    /// The verdict's slope gap of <paramref name="policy"/>: over policies, the largest Σ_j |Π_ij − P_ij|·w_j / s_i.
    /// </summary>
    public double Gap(IPolicyFunction policy)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Slopes(policy).sub(_target).abs().sum(dim: 1).max().item<double>();
    }

    /// <summary>Π_ij·w_j/s_i [policies, states]: both sides of every difference in one forward pass (once per step).</summary>
    private Tensor Slopes(IPolicyFunction policy)
    {
        int n = _states;
        var values = new FrozenChainPolicy(_model, policy, _system).Values(_both);
        // [n, m] → [m, n]: row j of the difference is the slope along state j.
        return values.narrow(0, 0, n).sub(values.narrow(0, n, n)).t().mul(_scale);
    }

    public void Dispose()
    {
        _both.Dispose();
        _target.Dispose();
        _scale.Dispose();
    }
}
