using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using Deqn.Training.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

/// <summary>
/// A solved policy saved to a file and loaded back (<see cref="PolicyNetwork.Load"/>) gives, through
/// <see cref="PolicyTable"/>, the policies and definitions the solve's own diagnostics put in path.csv.
/// </summary>
public sealed class SavedPolicyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deqn-saved-policy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SolverSpec Short(InputScaling scaling) => new()
    {
        Network = SolverSpec.DefaultNetwork with { Hidden = [new LayerSpec(8, Activation.Tanh), new LayerSpec(8, Activation.Tanh)] },
        Episodes = 20, Trajectories = 16, EpisodeLength = 4, BatchSize = 32, LogEvery = 10, Seed = 3, InputScaling = scaling,
    };

    private static readonly DiagnosticsSpec Path200 = new() { Periods = 200, BurnIn = 20, GridPoints = 5, SampleSize = 200 };

    /// <summary>The largest relative difference between every column of <paramref name="table"/> and path's column of the same name.</summary>
    private static void AssertSameAsPath(PolicyTable table, SolutionReport report, IEnumerable<string> expectedColumns)
    {
        Assert.Equal(expectedColumns, table.Columns);
        foreach (var column in table.Columns)
        {
            int j = report.PathColumns.ToList().IndexOf(column);
            Assert.True(j > 0, $"path has no column {column}");
            var values = table[column];
            for (int i = 0; i < table.Rows; i++)
            {
                double path = report.Path[i, j];
                Assert.True(Math.Abs(values[i] - path) <= 1e-12 * Math.Max(1, Math.Abs(path)), $"{column}, row {i + 1}: {values[i]:R} against path's {path:R}");
            }
        }
    }

    private static double[,] PathStates(Model model, SolutionReport report)
    {
        var states = new double[report.Path.GetLength(0), model.StateWidth];
        for (int i = 0; i < states.GetLength(0); i++)
            for (int j = 0; j < model.StateWidth; j++) states[i, j] = report.Path[i, 1 + j];
        return states;
    }

    [Fact]
    public void A_saved_policy_with_a_sigmoid_and_a_softplus_gives_the_paths_policies_and_definitions()
    {
        // Given Brock–Mirman with hours and a ceiling (s through a sigmoid, L through a softplus, μ a definition) solved briefly
        var model = new BrockMirmanLabor(new LaborCalibration(), hoursCeiling: true);
        using var solved = Solver.Run(model, Short(InputScaling.InitialBox)).Policy;
        var report = SolutionDiagnostics.Run(model, solved, Path200);
        // When the policy is saved, loaded back, and evaluated at the path's states
        var file = Path.Combine(_dir, "policy.deqn");
        solved.Save(file, "brock-mirman-labor-ceiling");
        using var loaded = PolicyNetwork.Load(model, file);
        var table = PolicyTable.At(model, loaded, PathStates(model, report));

        // Then every policy and definition is the path's, to 1e-12
        Assert.Equal(InputScaling.InitialBox, loaded.Scaling);
        AssertSameAsPath(table, report, ["s", "L", "Y", "C", "w", "R", "mu"]);
        Assert.Empty(table.LeftOut);
    }

    [Fact]
    public void A_saved_vector_policy_with_a_markov_chain_and_simulated_scaling_gives_the_paths_values()
    {
        // Given the four-generation OLG economy (vector states and policies, a four-state chain, features) solved briefly
        // with every input scaled by the simulated states
        var model = new AnalyticOlg(new OlgCalibration(Generations: 4));
        using var solved = Solver.Run(model, Short(InputScaling.Simulated)).Policy;
        var report = SolutionDiagnostics.Run(model, solved, Path200);
        var file = Path.Combine(_dir, "policy.deqn");
        solved.Save(file, "olg-analytic");
        // When it is loaded back and evaluated at the path's states
        using var loaded = PolicyNetwork.Load(model, file);
        var table = PolicyTable.At(model, loaded, PathStates(model, report));

        // Then its scaling is the trained one, and policies, definitions and features are the path's
        Assert.Equal(InputScaling.Simulated, loaded.Scaling);
        var (center, half) = solved.CurrentScaling();
        var (loadedCenter, loadedHalf) = loaded.CurrentScaling();
        for (int j = 0; j < center.Length; j++)
        {
            Assert.Equal(center[j], loadedCenter[j], 1e-14 * Math.Abs(center[j]));
            Assert.Equal(half[j], loadedHalf[j], 1e-14 * half[j]);
        }
        AssertSameAsPath(table, report, ["s[1]", "s[2]", "s[3]", "eta", "delta", "K", "r", "w", "income[1]", "income[2]", "income[3]", "income[4]",
            "c[1]", "c[2]", "c[3]", "c[4]", "c_per_k[1]", "c_per_k[2]", "c_per_k[3]"]);
        // and without definitions, only the policies
        Assert.Equal(["s[1]", "s[2]", "s[3]"], PolicyTable.At(model, loaded, PathStates(model, report), definitions: false).Columns);
        // and states given as a tensor give the same table
        using var scope = NewDisposeScope();
        var fromTensor = PolicyTable.At(model, loaded, Tensors.FromArray(PathStates(model, report), ScalarType.Float64));
        Assert.Equal(table.Values, fromTensor.Values);
    }

    [Theory]
    [InlineData(InputScaling.InitialBox)]
    [InlineData(InputScaling.Simulated)]
    public void A_file_written_before_the_scaling_was_recorded_is_loaded_with_the_scaling_its_normalizer_shows(InputScaling scaling)
    {
        // Given a policy saved without the input-scaling key (as files were before it existed)
        var model = new StochasticGrowth(new GrowthCalibration());
        using var solved = Solver.Run(model, Short(scaling) with { Episodes = 3 }).Policy;
        var trained = solved.ToTrainedModel("stochastic-growth");
        var file = Path.Combine(_dir, "old.deqn");
        new TrainedModel(solved.Network, trained.Metadata with
        {
            Provenance = trained.Metadata.Provenance.Where(p => p.Key != PolicyNetwork.ScalingKey).ToDictionary(p => p.Key, p => p.Value),
        }).Save(file);
        // When it is loaded
        using var loaded = PolicyNetwork.Load(model, file);
        // Then it scales as the solver did, and gives the same policy
        Assert.Equal(scaling, loaded.Scaling);
        using var scope = NewDisposeScope();
        var k = torch.tensor(new double[] { 2, 0.9, 4, 1, 6, 1.1, 40, 1 }, [4, 2], dtype: ScalarType.Float64);   // the last far outside: held at ±8 only by statistics
        var expected = Tensors.ToArray(solved.Values(k));
        var actual = Tensors.ToArray(loaded.Values(k));
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i, 0], actual[i, 0], 1e-14);
    }

    [Fact]
    public void A_policy_of_another_model_is_refused_in_one_line_naming_the_file_and_the_inputs()
    {
        // Given a growth model's policy
        var growth = new StochasticGrowth(new GrowthCalibration());
        using var solved = Solver.Run(growth, Short(InputScaling.InitialBox) with { Episodes = 1 }).Policy;
        var file = Path.Combine(_dir, "growth.deqn");
        solved.Save(file, "stochastic-growth");
        // When it is loaded for the OLG economy
        var e = Assert.Throws<ModelFileException>(() => PolicyNetwork.Load(new AnalyticOlg(new OlgCalibration(Generations: 3)), file));
        // Then the error names the file and both sets of inputs
        Assert.StartsWith($"{file}: the policy's inputs are K, z;", e.Message);
        Assert.Contains("k[1], k[2], K, income[1]", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>A model whose definitions include one that reads next period (and one built on it).</summary>
    private sealed class Forward : Model
    {
        public Forward()
        {
            var x = State("x", InitialDistribution.Uniform(1, 2));
            var p = Policy("p", PolicyOutput.Exp);
            var doubled = Define("doubled", t => t[x] * 2);
            var ahead = Define("ahead", t => t.Expect(next => next[x]));
            Define("ratio", t => t[ahead] / t[doubled]);
            Define("spend", t => t[p] * t[x], new Bounds(upper: 3));
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period now, ShockValues shocks)
        {
            yield return (States[0], now[Policies[0]]);
        }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period now)
        {
            yield return ("zero", now[Policies[0]] - 1);
        }
    }

    /// <summary>The policy p = x (a policy function gives values after the output transforms).</summary>
    private sealed class StateItself : IPolicyFunction
    {
        public Tensor Values(Tensor states) => states.clone();
    }

    [Fact]
    public void Definitions_that_read_next_period_are_left_out_and_the_others_are_clipped_into_their_bounds()
    {
        // Given a model with a definition that takes an expectation, one built on it, and a bounded one
        var model = new Forward();
        // When its table is computed at two states
        var table = PolicyTable.At(model, new StateItself(), new double[,] { { 1.5 }, { 2 } });
        // Then the policy is the function's, the expectation and what reads it are left out, and spend = p·x is clipped at 3
        Assert.Equal(["p", "doubled", "spend"], table.Columns);
        Assert.Equal(["ahead", "ratio"], table.LeftOut);
        Assert.All(table["p"].Zip([1.5, 2]), p => Assert.Equal(p.Second, p.First, 1e-15));
        Assert.Equal([3, 4], table["doubled"]);
        Assert.All(table["spend"].Zip([2.25, 3]), p => Assert.Equal(p.Second, p.First, 1e-15));
    }

    [Fact]
    public void A_markov_state_that_is_not_one_of_its_chains_states_is_named()
    {
        var model = new AnalyticOlg(new OlgCalibration(Generations: 3));
        var e = Assert.Throws<ArgumentException>(() => PolicyTable.At(model, new ClosedFormPolicy(model), new double[,] { { 0.1, 0.05, 2 }, { 0.1, 0.05, 1.5 } }));
        Assert.Equal("state shock, row 2: 1.5 is not a state of its Markov chain (0 … 3)", e.Message);
        var width = Assert.Throws<ArgumentException>(() => PolicyTable.At(model, new ClosedFormPolicy(model), new double[,] { { 0.1, 2 } }));
        Assert.Contains("has 3 state columns (k[1], k[2], shock), the states have 2", width.Message);
    }
}
