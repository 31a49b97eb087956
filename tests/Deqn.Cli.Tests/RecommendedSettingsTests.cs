using Deqn.Cli.Commands;
using Deqn.Cli.Options;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Optimization;
using static Deqn.Cli.Tests.CliHarness;

namespace Deqn.Cli.Tests;

/// <summary><c>deqn solve &lt;model&gt;</c> and <c>Solver.Run(model)</c> start from the same typed settings.</summary>
public sealed class RecommendedSettingsTests
{
    private sealed record NoCalibration : Calibration;

    /// <summary>A model that recommends nothing: the command line's defaults must then be the library's.</summary>
    private sealed class Plain : Model<NoCalibration>
    {
        private readonly State _k;
        private readonly Policy _s;

        public Plain() : base(new NoCalibration())
        {
            _k = State("K", InitialDistribution.Uniform(0.1, 1));
            _s = Policy("s");
        }

        protected override IEnumerable<(State State, TorchSharp.torch.Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (_k, t[_s]); }
        protected override IEnumerable<(string Name, TorchSharp.torch.Tensor Residual)> Equations(Period t) { yield return ("e", t[_s]); }
    }

    private static ModelCatalog Catalog() => CustomModel.CustomModels.Catalog().Add("plain", "recommends nothing", new NoCalibration(), _ => new Plain());

    private static (SolverSpec Cli, SolverSpec Library) Resolve(string model, params (string Key, string Value)[] given)
    {
        var solve = new SolveCommand(Catalog());
        var s = new Settings(solve.AllOptions);
        s.Set("model", model, "command line");
        foreach (var (key, value) in given) s.Set(key, value, "command line");
        var (_, built) = solve.Configure(s);
        return (SolveCommand.BuildSolver(s), SolverSpec.For(built));
    }

    [Theory]
    [InlineData("brock-mirman")]
    [InlineData("brock-mirman-stochastic")]
    [InlineData("stochastic-growth")]
    [InlineData("crra-growth")]
    [InlineData("plain")]
    public void The_command_line_trains_with_the_settings_the_library_uses(string model)
    {
        // When the command line resolves its settings for the model with nothing given
        var (cli, library) = Resolve(model);
        // Then they are the model's recommended spec, field by field
        Assert.Equal(SolverSettings.Of(library), SolverSettings.Of(cli));
        Assert.Equal(library.Optimization, cli.Optimization);
        Assert.Equal(library.Quadrature, cli.Quadrature);
        Assert.Equal(library.Network, cli.Network);
    }

    [Theory]
    [InlineData("brock-mirman")]
    [InlineData("brock-mirman-stochastic")]
    [InlineData("stochastic-growth")]
    [InlineData("stochastic-growth-output-share")]
    [InlineData("brock-mirman-labor")]
    [InlineData("brock-mirman-labor-ceiling")]
    [InlineData("olg-analytic")]
    public void Each_shipped_solve_config_spells_out_its_models_recommended_settings(string model)
    {
        // When configs/solve-<model>.yaml is read as --config would read it
        var path = Path.Combine(Deqn.Testing.RepositoryFiles.Root, "configs", $"solve-{model}.yaml");
        var solve = new SolveCommand(Catalog());
        var s = new Settings(solve.AllOptions);
        foreach (var (key, value) in ConfigFile.Load(path)) s.Set(key, value, path);
        var (_, built) = solve.Configure(s);
        // Then every setting it gives equals the model's recommendation (so the config and `deqn solve <model>` agree)
        var recommended = SolverSettings.Of(SolverSpec.For(built));
        var configured = SolverSettings.Of(SolveCommand.BuildSolver(s));
        foreach (var (key, _) in ConfigFile.Load(path).Where(kv => recommended.ContainsKey(Settings.Canonical(kv.Key))))
            Assert.True(recommended[Settings.Canonical(key)] == configured[Settings.Canonical(key)],
                $"{path}: {key} is {configured[Settings.Canonical(key)]}, the model recommends {recommended[Settings.Canonical(key)]}");
        Assert.Equal(recommended["episodes"], configured["episodes"]);
        Assert.Equal(recommended["polish-rounds"], configured["polish-rounds"]);
    }

    [Fact]
    public void A_value_given_on_the_command_line_wins_and_a_cosine_schedule_follows_the_episodes()
    {
        // Given brock-mirman, which recommends 1,000 episodes, lr 3e-3 and a cosine schedule over all episodes
        var (cli, library) = Resolve("brock-mirman", ("episodes", "2000"));
        // Then the run has 2,000 episodes with the cosine over those 2,000, and the rest as recommended
        Assert.Equal(1_000, library.Episodes);
        Assert.Equal(2000, cli.Episodes);
        Assert.Equal(2000, cli.Optimization.Schedule.CosineEpochs);
        Assert.Equal(library.Optimization.Optimizer, cli.Optimization.Optimizer);
        Assert.True(cli.RedrawEachEpisode);
    }

    [Fact]
    public void Models_prints_what_each_model_recommends()
    {
        var r = Run("models");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("solved by default with: episode-length 1, redraw true, quadrature gauss-hermite, lr 0.003, polish-rounds 4, polish-states 512, log-every 100", r.Stdout);
        Assert.Contains("solved by default with: episodes 500, redraw true, quadrature gauss-hermite, polish-rounds 6, log-every 50", r.Stdout);
        Assert.Contains("solved by default with: quadrature gauss-hermite, polish-rounds 6, log-every 50", r.Stdout);
    }
}
