using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Perturbation;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Perturbation;

public sealed class FirstOrderTests
{
    [Theory]
    [InlineData(0.36, 0.99, 0.9)]
    [InlineData(0.3, 0.95, 0.5)]
    public void Brock_Mirman_gives_the_exact_log_linear_law_of_motion(double alpha, double beta, double rho)
    {
        // Given stochastic Brock–Mirman with δ = 1, whose law of motion ln K′ = ln αβ + ln z + α ln K is log-linear
        var c = GrowthCalibration.BrockMirmanStochastic with { Alpha = alpha, Beta = beta, Rho = rho };
        var solution = LinearSolution.Of(new StochasticGrowth(c));
        Assert.True(solution.Solved, solution.Message);
        var k = solution.SteadyState.StateRow[0];
        // Then the savings rate does not move (s = αβ everywhere), the K′ elasticity to K is α and to z is 1, z′ = z^ρ
        Assert.Equal(0, solution.PolicySlopes[0, 0], 1e-10);
        Assert.Equal(0, solution.PolicySlopes[0, 1], 1e-10);
        Assert.Equal(alpha, solution.LawOfMotion[0, 0], 1e-10);
        Assert.Equal(1, solution.LawOfMotion[0, 1] / k, 1e-10);
        Assert.Equal(rho, solution.LawOfMotion[1, 1], 1e-12);
        Assert.Equal(0, solution.LawOfMotion[1, 0], 1e-12);
        // The innovation moves ln z one for one (z′ = e^(ρ ln z + ε)) and capital not at all within the period
        Assert.Equal(1, solution.ShockLoading[1, 0], 1e-12);
        Assert.Equal(0, solution.ShockLoading[0, 0], 1e-12);
        // Two stable roots, α and ρ, for two states
        Assert.Equal(2, solution.StableRoots);
        Assert.Equal(Math.Max(alpha, rho), solution.SpectralRadius, 1e-9);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void The_growth_model_with_depreciation_matches_the_slope_of_time_iteration_at_the_steady_state(double delta)
    {
        // Given the deterministic growth model with δ < 1 and its time-iteration reference (σ = 0: capital alone)
        var c = new GrowthCalibration(Delta: delta, Sigma: 0, ProductivityLow: 1, ProductivityHigh: 1);
        c = c with { CapitalLow = 0.5 * c.SteadyStateCapital, CapitalHigh = 1.5 * c.SteadyStateCapital };
        var model = new StochasticGrowth(c);
        var solution = LinearSolution.Of(model);
        Assert.True(solution.Solved, solution.Message);
        // When the reference's savings rate is differentiated at K* by central differences
        var reference = model.Reference()!;
        double k = c.SteadyStateCapital, h = 1e-3 * k;
        var s = reference.PolicyAt(new[,] { { k - h }, { k }, { k + h } });
        double slope = (s[2, 0] - s[0, 0]) / (2 * h);
        // Then the perturbation's slope agrees to the reference's accuracy, and its level is the steady state's rate
        Assert.Equal(k / c.Wealth(k, 1), s[1, 0], 1e-6);
        Assert.True(Math.Abs(solution.PolicySlopes[0, 0] / slope - 1) < 1e-3, $"perturbation {solution.PolicySlopes[0, 0]:G6}, time iteration {slope:G6}");
    }

    [Fact]
    public void The_analytic_OLG_economy_has_flat_savings_rates()
    {
        // Given the analytic OLG economy (its closed form: constant savings rates by age, whatever the holdings)
        var c = new OlgCalibration(Generations: 6);
        var solution = LinearSolution.Of(new AnalyticOlg(c));
        Assert.True(solution.Solved, solution.Message);
        // Then every slope of every savings rate is 0, and the five holdings are five stable states
        foreach (var v in solution.PolicySlopes) Assert.Equal(0, v, 1e-9);
        Assert.Equal(5, solution.StableRoots);
        Assert.True(solution.SpectralRadius < 1);
    }

    [Fact]
    public void An_explosive_root_is_reported_as_Blanchard_Kahn_failing_with_no_stable_solution()
    {
        // Given a state that grows by half of its deviation every period whatever the policy does
        var solution = LinearSolution.Of(new Toy(transition: (k, s) => 1 + 1.5 * (k - 1) + 0 * s, equation: (s, sNext, k) => s - k));
        Assert.Equal(PerturbationStatus.BlanchardKahn, solution.Status);
        Assert.Contains("0 stable root(s) for 1 state(s)", solution.Message);
        Assert.Contains("explodes", solution.Message);
    }

    [Fact]
    public void Too_many_stable_roots_are_reported_as_indeterminate()
    {
        // Given a policy whose equation lets any stable path of it through: s′ = s/2 (s a jump with a stable root)
        var solution = LinearSolution.Of(new Toy(transition: (k, s) => 1 + 0.5 * (k - 1), equation: (s, sNext, k) => sNext - 0.5 * s));
        Assert.Equal(PerturbationStatus.BlanchardKahn, solution.Status);
        Assert.Contains("indeterminate", solution.Message);
    }

    [Fact]
    public void A_saddle_path_is_picked_out_of_an_unstable_system()
    {
        // Given k′ = k + s with an equation s′ = 1.5·s + 0.25·(k − 1)... solved: the stable root selects s = −a·(k − 1)
        var solution = LinearSolution.Of(new Toy(transition: (k, s) => k + s, equation: (s, sNext, k) => sNext - 2 * s - (k - 1) * 0.5));
        Assert.True(solution.Solved, solution.Message);
        double p = solution.PolicySlopes[0, 0], h = solution.LawOfMotion[0, 0];
        // Then the law of motion is stable and the policy solves the linear equation P·H = 2P + 0.5 with H = 1 + P
        Assert.True(Math.Abs(h) < 1, $"H = {h}");
        Assert.Equal(2 * p + 0.5, p * h, 1e-10);
    }

    [Fact]
    public void A_complementarity_at_its_kink_is_not_linearizable_and_says_which_equation()
    {
        // Given a multiplier and a slack that are both zero at the steady state
        var solution = LinearSolution.Of(new Toy(transition: (k, s) => 0.5 + 0.5 * k, equation: (s, sNext, k) => Complementarity.FischerBurmeister(k - 1, s), output: PolicyOutput.Linear));
        Assert.Equal(PerturbationStatus.NotLinearizable, solution.Status);
        Assert.Contains("kink", solution.Message);
        Assert.Contains("rule", solution.Message);
    }

    [Fact]
    public void More_equations_than_policies_are_not_square()
    {
        var solution = LinearSolution.Of(new Toy(transition: (k, s) => 0.5 + 0.5 * k, equation: (s, sNext, k) => s - 0.5, second: true));
        Assert.Equal(PerturbationStatus.NotSquare, solution.Status);
    }

    private sealed class Toy : Model
    {
        private readonly State _k;
        private readonly Policy _s;
        private readonly Func<Tensor, Tensor, Tensor> _transition;
        private readonly Func<Tensor, Tensor, Tensor, Tensor> _equation;
        private readonly bool _second;

        public Toy(Func<Tensor, Tensor, Tensor> transition, Func<Tensor, Tensor, Tensor, Tensor> equation, PolicyOutput output = PolicyOutput.Linear, bool second = false)
        {
            _k = State("k", InitialDistribution.Uniform(0.5, 1.5));
            _s = Policy("s", output);
            (_transition, _equation, _second) = (transition, equation, second);
        }

        protected override void GuessSteadyState(SteadyStateGuess guess) => guess.Set(_k, 1).Set(_s, 0);

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (_k, _transition(t[_k], t[_s])); }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            var next = t.Expect(n => n[_s]);
            yield return ("rule", _equation(t[_s], next, t[_k]));
            if (_second) yield return ("extra", t[_s] - 0.5);
        }
    }
}

public sealed class FirstOrderReproducibilityTests
{
    [Fact]
    public void The_steady_state_and_the_first_order_solution_are_the_same_bits_every_time()
    {
        // Given a model solved twenty times in one process (a warm start built on them must be reproducible for resume)
        var model = new Deqn.Equilibrium.Models.Growth.StochasticGrowth(new Deqn.Equilibrium.Models.Growth.GrowthCalibration());
        var first = LinearSolution.Of(model);
        for (int i = 0; i < 20; i++)
        {
            var again = LinearSolution.Of(model);
            Assert.Equal(first.SteadyState.StateRow, again.SteadyState.StateRow);
            Assert.Equal(first.SteadyState.PolicyRow, again.SteadyState.PolicyRow);
            Assert.Equal(first.PolicySlopes, again.PolicySlopes);
        }
    }
}
