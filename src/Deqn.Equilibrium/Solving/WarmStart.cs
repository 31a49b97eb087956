using System.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Training.Engine;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>Where the network starts.</summary>
public enum WarmStartKind
{
    /// <summary>Its random initial weights.</summary>
    None,
    /// <summary>Fitted to the first-order perturbation solution, anchored in the raw (pre-transform) outputs.</summary>
    Linear,
}

/// <summary>
/// Starts the network at the first-order solution, so that training begins on the saddle path instead of anywhere:
/// a short full-batch fit of the raw outputs to raw ≈ T⁻¹(p̄) + (T⁻¹)′(p̄)·P·(x − x̄) (T each policy's output transform,
/// p̄ and x̄ the steady state, P the perturbation's slopes) on draws of the initial distributions. Anchoring in raw
/// outputs keeps every policy inside its transform's range however far the linear policy would leave it; where T⁻¹ is
/// unbounded (a multiplier at 0 under softplus) the anchor is held at a small positive value and the raw targets within
/// ±10 of it. Without a first-order solution but with a steady state, the network starts at the steady state's policies.
/// </summary>
internal static class WarmStart
{
    /// <summary>Draws of the initial distributions the fit uses.</summary>
    public const int Draws = 2048;

    /// <summary>Adam steps of the fit (full batch, cosine decay from <see cref="LearningRate"/>).</summary>
    public const int Steps = 500;

    public const double LearningRate = 3e-3;

    /// <summary>Fits the network; returns what it started from, for the console and the report (null: nothing to start from).</summary>
    public static string? Fit(Model model, PolicyNetwork policy, LinearSolution linear, long seed)
    {
        var steady = linear.SteadyState;
        if (!steady.Found) return null;
        var clock = Stopwatch.StartNew();
        var device = policy.Device;
        var dtype = policy.Network.DType;
        int m = model.PolicyWidth;
        var columns = model.PolicyColumns;
        var anchor = new double[m];
        var factor = new double[m];
        for (int i = 0; i < m; i++)
        {
            var p = columns[i].Policy;
            anchor[i] = PolicyOutputs.Inverse(p, steady.PolicyRow[i]);
            factor[i] = 1 / Math.Max(PolicyOutputs.Slope(p, anchor[i]), 1e-12);
        }
        var continuous = model.StateColumns.Select((c, j) => (c, j)).Where(x => x.c.State.Chain is null).Select(x => x.j).ToArray();
        using var scope = NewDisposeScope();
        var random = new StandardNormalStream(Seeds.Derive(seed, "warm-start"));
        var states = Simulator.DrawInitial(model, Draws, random, dtype, device);
        Tensor targets;
        using (no_grad())
        {
            var x = states.index_select(1, tensor(continuous.Select(j => (long)j).ToArray(), device: device));
            var center = tensor(continuous.Select(j => steady.StateRow[j]).ToArray(), [1, continuous.Length], dtype: dtype, device: device);
            var slopes = linear.Solved ? Tensors.FromArray(linear.PolicySlopes, dtype).to(device) : zeros(m, continuous.Length, dtype: dtype, device: device);
            var scaled = slopes.mul(tensor(factor, [m, 1], dtype: dtype, device: device));
            var anchors = tensor(anchor, [1, m], dtype: dtype, device: device);
            targets = anchors.add(x.sub(center).matmul(scaled.t())).clamp(anchors.sub(10), anchors.add(10));
            // Inputs scaled by the simulated states start from the initial distributions' statistics, as episode 1 would.
            if (policy is { ObservesStates: true, Statistics: null }) policy.Observe(states);
        }
        var built = SolverSpec.AdamCosine(LearningRate, Steps).Build(policy.Network.parameters());
        using var optimizer = built.Optimizer;
        for (int step = 0; step < Steps; step++)
        {
            optimizer.LearningRate = built.Schedule.At(step);
            optimizer.Step(() =>
            {
                var error = policy.Raw(states).sub(targets).square().mean();
                error.backward();
                return error.item<double>();
            });
        }
        double worst;
        using (no_grad()) worst = policy.Raw(states).sub(targets).abs().max().item<double>();
        string start = linear.Solved ? "the first-order solution" : "the steady state's policies (no first-order solution: " + linear.Message + ")";
        return $"{start}, fitted in raw outputs on {Draws:N0} draws of the initial distributions (largest raw gap {worst:G2}, {clock.Elapsed.TotalSeconds:0.0} s)";
    }
}
