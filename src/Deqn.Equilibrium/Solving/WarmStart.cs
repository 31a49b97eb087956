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
    /// <summary>
    /// The first-order solution as a fixed part of the raw outputs (<see cref="LinearPart"/>), the network as its correction,
    /// starting at zero: the network's approximation error then scales with what the linear solution misses.
    /// </summary>
    Correction,
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
        var part = LinearPart.Of(model, linear);
        if (part is null) return null;
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var random = new StandardNormalStream(Seeds.Derive(seed, "warm-start"));
        var states = Simulator.DrawInitial(model, Draws, random, policy.Network.DType, policy.Device);
        Tensor targets;
        using (no_grad())
        {
            targets = part.Raw(states);
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
        return $"{Start(linear)}, fitted in raw outputs on {Draws:N0} draws of the initial distributions (largest raw gap {worst:G2}, {clock.Elapsed.TotalSeconds:0.0} s)";
    }

    /// <summary>
    /// Makes the network the correction to the first-order solution: the policy's raw outputs become the linear part plus
    /// the network, and (on a fresh start) the network's last layer is zeroed so that it starts at the linear solution
    /// exactly. On resume only the linear part is set (it is recomputed from the model; the weights come from the checkpoint).
    /// </summary>
    public static string? Correct(Model model, PolicyNetwork policy, LinearSolution linear, bool fresh)
    {
        policy.Linear = LinearPart.Of(model, linear);
        if (policy.Linear is null || !fresh) return null;
        var last = policy.Network.DenseLayers()[^1];
        using (no_grad())
        {
            last.Weight.zero_();
            last.Bias.zero_();
        }
        return $"{Start(linear)}, as a fixed linear part of the raw outputs; the network (its last layer zeroed) learns the correction";
    }

    private static string Start(LinearSolution linear) =>
        linear.Solved ? "the first-order solution" : "the steady state's policies (no first-order solution: " + linear.Message + ")";
}
