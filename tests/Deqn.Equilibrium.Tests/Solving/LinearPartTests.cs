using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

/// <summary>
/// <see cref="WarmStartKind.Correction"/>: the first-order solution as a fixed part of the raw outputs, the network as the
/// correction. Checked against the perturbation's own numbers: at the start the policy is the linear solution through
/// the output transform (its value and slope at the steady state), far away its raw outputs are held within reach, and
/// the part survives a policy file.
/// </summary>
public sealed class LinearPartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deqn-linear-part-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Stochastic growth with δ < 1 (log utility): s through a sigmoid in [0, 1], states K and z, a nonzero slope in both.
    private static readonly GrowthCalibration Growth = new(Delta: 0.1);

    private static PolicyNetwork Corrected(StochasticGrowth model, LinearSolution linear, InputScaling scaling = InputScaling.InitialBox)
    {
        var spec = PolicyNetwork.SpecFor(model, SolverSpec.DefaultNetwork with { Hidden = [new LayerSpec(8, Activation.Swish), new LayerSpec(8, Activation.Swish)] });
        using var generator = TorchEngine.Generator(4);
        var policy = new PolicyNetwork(model, new Network(spec, generator), scaling);
        Assert.NotNull(WarmStart.Correct(model, policy, linear, fresh: true));
        return policy;
    }

    private static double Savings(PolicyNetwork policy, double k, double z)
    {
        using var scope = NewDisposeScope();
        return policy.Values(tensor(new[] { k, z }, [1, 2], dtype: ScalarType.Float64)).item<double>();
    }

    [Fact]
    public void A_corrected_policy_starts_at_the_first_order_solution_in_value_and_slope()
    {
        // Given the growth model's steady state (K̄, z̄, s̄) and first-order slopes P = ds/d(K, z)
        var model = new StochasticGrowth(Growth);
        var linear = LinearSolution.Of(model);
        Assert.True(linear.Solved, linear.Message);
        double k = linear.SteadyState.StateRow[0], z = linear.SteadyState.StateRow[1], s = linear.SteadyState.PolicyRow[0];

        // When a fresh network becomes the correction to it
        using var policy = Corrected(model, linear);

        // Then at the steady state the policy is s̄, and its central differences there are the perturbation's slopes
        Assert.Equal(s, Savings(policy, k, z), 12);
        double h = 1e-5;
        double dk = (Savings(policy, k + h, z) - Savings(policy, k - h, z)) / (2 * h);
        double dz = (Savings(policy, k, z + h) - Savings(policy, k, z - h)) / (2 * h);
        Assert.Equal(linear.PolicySlopes[0, 0], dk, 8);
        Assert.Equal(linear.PolicySlopes[0, 1], dz, 8);
        // and off it, the sigmoid of the linear raw output: s = σ(logit s̄ + (ds/dx)/(s̄(1 − s̄))·(x − x̄))
        double raw = Math.Log(s / (1 - s)) + (linear.PolicySlopes[0, 0] * 0.3 + linear.PolicySlopes[0, 1] * -0.05) / (s * (1 - s));
        Assert.Equal(1 / (1 + Math.Exp(-raw)), Savings(policy, k + 0.3, z - 0.05), 12);
    }

    [Fact]
    public void Under_inputs_scaled_by_the_simulated_states_the_policy_still_adds_exactly_the_linear_part()
    {
        // Given a corrected policy whose inputs are scaled by running statistics, which then move (as every episode moves them)
        var model = new StochasticGrowth(Growth);
        var linear = LinearSolution.Of(model);
        using var policy = Corrected(model, linear, InputScaling.Simulated);
        using var scope = NewDisposeScope();
        var states = tensor(new[] { 2.0, 0.95, 6.0, 1.0, 9.5, 1.1 }, [3, 2], dtype: ScalarType.Float64);
        policy.Observe(states);
        var before = policy.Raw(states).data<double>().ToArray();
        policy.Observe(tensor(new[] { 4.0, 1.05, 5.0, 0.9 }, [2, 2], dtype: ScalarType.Float64));

        // Then its raw outputs (the network's are zero at the start) are the linear part's in the states, before and after
        var expected = LinearPart.Of(model, linear)!.Raw(states).data<double>().ToArray();
        var after = policy.Raw(states).data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], before[i], 12);
            Assert.Equal(expected[i], after[i], 12);
        }
    }

    [Fact]
    public void Far_from_the_steady_state_the_linear_part_is_held_within_reach_of_its_anchor()
    {
        var model = new StochasticGrowth(Growth);
        var linear = LinearSolution.Of(model);
        var part = LinearPart.Of(model, linear)!;
        double slope = part.Slopes[0, 0];
        Assert.True(Math.Abs(slope) > 0, "the test needs a slope in K");
        // A state so far out in K that the unclamped raw output would move by 100 times the reach
        double far = linear.SteadyState.StateRow[0] + 100 * LinearPart.Reach / slope;
        using var scope = NewDisposeScope();
        double raw = part.Raw(tensor(new[] { far, 1.0 }, [1, 2], dtype: ScalarType.Float64)).item<double>();
        Assert.Equal(part.Anchor[0] + LinearPart.Reach, raw, 12);
    }

    [Fact]
    public void A_policy_file_keeps_the_linear_part_and_gives_the_same_values()
    {
        var model = new StochasticGrowth(Growth);
        using var policy = Corrected(model, LinearSolution.Of(model));
        // a correction that is not zero, so the file must carry both parts
        using (no_grad()) foreach (var p in policy.Network.parameters()) p.add_(0.01);
        var file = Path.Combine(_dir, "policy.deqn");
        policy.Save(file, "stochastic-growth");
        using var loaded = PolicyNetwork.Load(model, file);
        Assert.NotNull(loaded.Linear);
        using var scope = NewDisposeScope();
        var states = tensor(new[] { 2.0, 0.95, 3.0, 1.0, 4.5, 1.1 }, [3, 2], dtype: ScalarType.Float64);
        Assert.Equal(policy.Values(states).data<double>().ToArray(), loaded.Values(states).data<double>().ToArray());
    }

    [Fact]
    public void A_linear_part_of_another_model_is_refused()
    {
        var growth = new StochasticGrowth(Growth);
        var text = LinearPart.Of(growth, LinearSolution.Of(growth))!.ToString();
        var e = Assert.Throws<ArgumentException>(() => LinearPart.Parse(new AnalyticOlg(new OlgCalibration(Generations: 4)), text));
        Assert.Contains("does not fit", e.Message);
    }
}
