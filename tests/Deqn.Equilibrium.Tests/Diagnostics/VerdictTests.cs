using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Perturbation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Diagnostics;

public sealed class VerdictTests(ITestOutputHelper output)
{
    private static readonly DiagnosticsSpec Quick = new() { Periods = 2000, BurnIn = 200 };

    private Verdict Judge(Model model, IPolicyFunction policy, double[,]? training = null, VerdictSpec? spec = null, PolishGuard? polish = null)
    {
        var report = SolutionDiagnostics.Run(model, policy, Quick, reference: null);
        var verdict = Verdict.Judge(model, policy, report, LinearSolution.Of(model), training ?? new double[0, 0], Quick, spec, polish: polish);
        foreach (var rule in verdict.Rules) output.WriteLine($"{rule.Name}: {rule.Outcome} — {rule.Measured} (needs {rule.Threshold})");
        return verdict;
    }

    public static TheoryData<string> ClosedForms => new() { "brock-mirman", "brock-mirman-stochastic", "brock-mirman-labor", "olg-analytic" };

    [Theory]
    [MemberData(nameof(ClosedForms))]
    public void Every_closed_form_used_as_the_policy_is_solved(string name)
    {
        var model = Deqn.Equilibrium.Models.BuiltinModels.Catalog().Find(name).Create(new Dictionary<string, double>());
        var verdict = Judge(model, new ClosedFormPolicy(model));
        Assert.True(verdict.Status == VerdictStatus.Solved, string.Join("; ", verdict.Reasons));
    }

    [Theory]
    [InlineData("stochastic-growth")]
    public void Time_iteration_used_as_the_policy_is_solved(string name)
    {
        var model = Deqn.Equilibrium.Models.BuiltinModels.Catalog().Find(name).Create(new Dictionary<string, double>());
        var verdict = Judge(model, SolutionDiagnostics.AsPolicy(model.Reference()!));
        Assert.True(verdict.Status == VerdictStatus.Solved, string.Join("; ", verdict.Reasons));
    }

    // Deterministic Brock–Mirman (δ = 1): K* = (αβ)^(1/(1−α)) ≈ 0.2, s* = αβ everywhere; initial K ~ U[0.1, 1].
    private static readonly GrowthCalibration Bm = GrowthCalibration.BrockMirman;
    private static readonly double Star = Bm.Alpha * Bm.Beta;
    private static readonly double KStar = Math.Pow(Star, 1 / (1 - Bm.Alpha));

    private static VerdictRule RuleNamed(Verdict verdict, string name) => verdict.Rules.Single(r => r.Name == name);

    [Fact]
    public void A_policy_that_leaves_the_feasible_set_fails()
    {
        // Given a negative savings rate: capital turns negative, and output K^α is undefined
        var verdict = Judge(new StochasticGrowth(Bm), new SavingsRate(k => -0.5 + 0 * k));
        Assert.Equal(VerdictStatus.Failed, verdict.Status);
        Assert.Equal(RuleOutcome.Fail, RuleNamed(verdict, "feasible path").Outcome);
    }

    [Fact]
    public void A_policy_off_everywhere_fails_the_residuals_on_the_path()
    {
        var verdict = Judge(new StochasticGrowth(Bm), new SavingsRate(k => Star * 1.05 + 0 * k));
        Assert.Equal(VerdictStatus.Suspect, verdict.Status);
        Assert.Equal(RuleOutcome.Fail, RuleNamed(verdict, "residuals on the fresh path").Outcome);
    }

    [Fact]
    public void A_policy_right_only_where_the_path_settles_fails_on_the_initial_region_and_the_collapse_is_named()
    {
        // Given a savings rate exact at K* and wrong away from it: the deterministic path settles at K*, where it is right
        var verdict = Judge(new StochasticGrowth(Bm), new SavingsRate(k => Star + 0.3 * (k - KStar)));
        // Then the path's residuals pass, the initial region's do not, and the report says the path checked one state
        Assert.Equal(RuleOutcome.Pass, RuleNamed(verdict, "residuals on the fresh path").Outcome);
        Assert.Equal(RuleOutcome.Fail, RuleNamed(verdict, "residuals on the initial region").Outcome);
        Assert.Equal(VerdictStatus.Suspect, verdict.Status);
        Assert.Contains(verdict.Notes, n => n.Contains("collapses to a point"));
    }

    [Fact]
    public void An_explosive_policy_fails_stability()
    {
        // Given K′ − K* = 1.2·(K − K*) near the steady state (an unstable law of motion), with the right level at K*
        var verdict = Judge(new StochasticGrowth(Bm), new SavingsRate(k => (KStar + 1.2 * (k - KStar)) / k.pow(Bm.Alpha)));
        var rule = RuleNamed(verdict, "stability at the steady state");
        Assert.Equal(RuleOutcome.Fail, rule.Outcome);
        Assert.Contains("1.2", rule.Measured);
    }

    [Fact]
    public void A_stable_policy_with_the_wrong_slope_fails_the_slope_check()
    {
        // Given s = αβ at K* with a slope that changes s by 40 % of itself across the initial range (stable: H ≈ α + …)
        var verdict = Judge(new StochasticGrowth(Bm), new SavingsRate(k => Star * (1 + 0.4 * (k - KStar) / 0.45)));
        Assert.Equal(RuleOutcome.Pass, RuleNamed(verdict, "stability at the steady state").Outcome);
        Assert.Equal(RuleOutcome.Fail, RuleNamed(verdict, "slopes against the first-order solution").Outcome);
    }

    [Fact]
    public void A_path_outside_the_training_states_fails_the_range_check()
    {
        // Given the closed form judged against training states that only covered K ∈ [0.5, 1] (the path sits near 0.2)
        var model = new StochasticGrowth(Bm);
        var training = new double[1000, 1];
        for (int i = 0; i < 1000; i++) training[i, 0] = 0.5 + 0.5 * i / 999.0;
        var verdict = Judge(model, new ClosedFormPolicy(model), training);
        Assert.Equal(RuleOutcome.Fail, RuleNamed(verdict, "path inside the training region").Outcome);
        // And against states that covered it, it passes
        for (int i = 0; i < 1000; i++) training[i, 0] = 0.1 + 0.9 * i / 999.0;
        Assert.Equal(VerdictStatus.Solved, Judge(model, new ClosedFormPolicy(model), training).Status);
    }

    [Fact]
    public void The_training_box_of_one_state_is_its_half_percent_range()
    {
        var training = new double[10_000, 1];
        for (int i = 0; i < 10_000; i++) training[i, 0] = i / 9_999.0;
        var (low, high, tail) = Verdict.TrainingBox(training, [0], 0.99);
        Assert.Equal(0.005, tail, 12);
        Assert.Equal(0.005, low[0], 3);
        Assert.Equal(0.995, high[0], 3);
    }

    [Fact]
    public void Perfectly_correlated_states_keep_the_half_percent_range()
    {
        var training = new double[10_000, 10];
        for (int i = 0; i < 10_000; i++)
            for (int j = 0; j < 10; j++) training[i, j] = (j + 1) * ((i * 7919) % 10_000) / 9_999.0;
        Assert.Equal(0.005, Verdict.TrainingBox(training, Enumerable.Range(0, 10).ToArray(), 0.99).Tail, 12);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(50)]
    public void A_path_from_the_training_distribution_is_inside_in_any_dimension(int d)
    {
        // Given independent normal states (per-state 0.5–99.5 % ranges would hold only 0.99^d of them: 61 % at d = 50)
        var random = new Random(d);
        double[,] Draw(int n)
        {
            var x = new double[n, d];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++)
                    x[i, j] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return x;
        }
        var training = Draw(20_000);
        var columns = Enumerable.Range(0, d).ToArray();
        var (low, high, tail) = Verdict.TrainingBox(training, columns, 0.99);
        double Inside(double[,] x, double widening)
        {
            int inside = 0, n = x.GetLength(0);
            for (int i = 0; i < n; i++)
                if (columns.All(j => x[i, j] >= low[j] - widening * (high[j] - low[j]) && x[i, j] <= high[j] + widening * (high[j] - low[j]))) inside++;
            return (double)inside / n;
        }
        // Then the box holds 99 % of them jointly, with tails thinner than the union bound's 0.5 %/d would need
        Assert.InRange(Inside(training, 0), 0.99, 0.992);
        Assert.InRange(tail, 0.005 / d * 0.9, 0.005 / d * 1.6);
        // And a fresh sample from the same distribution is inside the box widened by 10 % as the rule reads it
        Assert.True(Inside(Draw(10_000), 0.1) >= 0.99);
    }

    [Fact]
    public void A_polish_round_that_the_equations_prefer_but_the_guard_undid_makes_the_closed_form_suspect()
    {
        // Given the closed form, and a polish whose round 3 moved the slopes 1.4 % and lowered the fresh-state loss
        var model = new StochasticGrowth(Bm);
        var verdict = Judge(model, new ClosedFormPolicy(model), polish: new PolishGuard(3, new PolishHalt(3, 0.014, 2e-9, 5e-10)));
        var rule = RuleNamed(verdict, "polish kept the first-order slopes");
        Assert.Equal(RuleOutcome.Fail, rule.Outcome);
        Assert.Equal(VerdictStatus.Suspect, verdict.Status);
        Assert.Contains("1.4 %", rule.Measured);
        // And a round that raised the fresh-state loss over-fitted its sample: no evidence against the solution
        Assert.Equal(VerdictStatus.Solved, Judge(model, new ClosedFormPolicy(model), polish: new PolishGuard(3, new PolishHalt(3, 0.05, 2e-9, 4e-9))).Status);
        // And rounds within the guard pass; no polish is not applicable
        Assert.Equal(RuleOutcome.Pass, RuleNamed(Judge(model, new ClosedFormPolicy(model), polish: new PolishGuard(10, null)), "polish kept the first-order slopes").Outcome);
        Assert.Equal(RuleOutcome.NotApplicable, RuleNamed(Judge(model, new ClosedFormPolicy(model)), "polish kept the first-order slopes").Outcome);
    }

    [Fact]
    public void Clipping_into_bounds_on_most_periods_fails()
    {
        // Given a consumption floor above what the closed form consumes (C* ≈ 0.35): every period reads the floor
        var verdict = Judge(new FlooredGrowth(0.5), new SavingsRate(k => Star + 0 * k));
        var rule = RuleNamed(verdict, "bounds clipping");
        Assert.Equal(RuleOutcome.Fail, rule.Outcome);
        Assert.Contains("C", rule.Measured);
    }

    [Fact]
    public void A_slack_multiplier_is_left_out_of_the_slope_check_and_the_closed_form_is_solved()
    {
        // Given Brock–Mirman with a multiplier μ on s ≥ 0 that never binds (s = αβ > 0, μ = 0 everywhere): μ is zero
        // with zero slopes at first order, so it has no scale to measure a slope gap against
        var model = new SlackMultiplier();
        var verdict = Judge(model, new SavingsAndMultiplier());
        var rule = RuleNamed(verdict, "slopes against the first-order solution");
        Assert.Equal(RuleOutcome.Pass, rule.Outcome);
        Assert.Contains("mu zero at first order", rule.Measured);
        Assert.Equal(VerdictStatus.Solved, verdict.Status);
    }

    private sealed class SavingsAndMultiplier : IPolicyFunction
    {
        public Tensor Values(Tensor states) => stack([full_like(states.select(1, 0), Star), zeros_like(states.select(1, 0))], 1);
    }

    /// <summary>Deterministic Brock–Mirman with a never-binding s ≥ 0 and its multiplier μ (softplus), paired by Fischer–Burmeister.</summary>
    private sealed class SlackMultiplier : Model
    {
        private readonly State _k;
        private readonly Policy _s, _mu;
        private readonly Definition _c;

        public SlackMultiplier()
        {
            _k = State("K", InitialDistribution.Uniform(0.1, 1));
            _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
            _mu = Policy("mu", PolicyOutput.Softplus);
            _c = Define("C", t => (1 - t[_s]) * t[_k].pow(Bm.Alpha));
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (_k, t[_s] * t[_k].pow(Bm.Alpha)); }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            var e = t.Expect(n => n[_k].pow(Bm.Alpha - 1) * Bm.Alpha / n[_c]);
            yield return ("euler", 1 - 1 / (Bm.Beta * t[_c] * e) - t[_mu]);
            yield return ("nonnegative", Complementarity.FischerBurmeister(t[_s], t[_mu]));
        }
    }

    /// <summary>A savings rate as a function of capital (the first state column).</summary>
    private sealed class SavingsRate(Func<Tensor, Tensor> s) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => s(states.select(1, 0)).unsqueeze(1);
    }

    /// <summary>Deterministic Brock–Mirman with a floor on consumption, written with a bounded definition.</summary>
    private sealed class FlooredGrowth : Model
    {
        private readonly State _k;
        private readonly Policy _s;
        private readonly Definition _c;

        public FlooredGrowth(double floor)
        {
            _k = State("K", InitialDistribution.Uniform(0.1, 1));
            _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
            _c = Define("C", t => (1 - t[_s]) * t[_k].pow(Bm.Alpha), new Bounds(lower: floor));
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (_k, t[_s] * t[_k].pow(Bm.Alpha)); }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            var e = t.Expect(n => n[_k].pow(Bm.Alpha - 1) * Bm.Alpha / n[_c]);
            yield return ("euler", 1 - 1 / (Bm.Beta * t[_c] * e));
        }
    }
}
