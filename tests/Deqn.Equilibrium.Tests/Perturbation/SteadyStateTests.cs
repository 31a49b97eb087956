using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Perturbation;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Perturbation;

public sealed class SteadyStateTests
{
    private static double Value(IReadOnlyList<(string Name, double Value)> values, string name) => values.Single(v => v.Name == name).Value;

    [Fact]
    public void Brock_Mirman_settles_where_the_closed_form_puts_capital()
    {
        // Given deterministic Brock–Mirman (δ = 1), whose steady state is K* = (αβ)^(1/(1−α)) with s = αβ
        var c = GrowthCalibration.BrockMirman;
        // When its steady state is found from its own equations
        var steady = SteadyState.Of(new StochasticGrowth(c));
        // Then capital, the savings rate and output are the closed form's
        Assert.True(steady.Found, steady.Message);
        double k = Math.Pow(c.Alpha * c.Beta, 1 / (1 - c.Alpha));
        Assert.Equal(k, Value(steady.States, "K"), 1e-12);
        Assert.Equal(c.Alpha * c.Beta, Value(steady.Policies, "s"), 1e-12);
        Assert.Equal(Math.Pow(k, c.Alpha), Value(steady.Definitions, "Y"), 1e-12);
        Assert.False(steady.LeastSquares);
    }

    [Theory]
    [InlineData(0.1, 0.99)]
    [InlineData(0.05, 0.96)]
    [InlineData(0.5, 0.9)]
    public void Stochastic_growth_settles_at_the_textbook_steady_state_with_TFP_at_one(double delta, double beta)
    {
        // Given the growth model with δ < 1 (s a share of resources) and TFP an AR(1) in logs
        var c = new GrowthCalibration(Delta: delta, Beta: beta);
        var steady = SteadyState.Of(new StochasticGrowth(c));
        // Then K* = (αβ/(1 − β(1 − δ)))^(1/(1−α)), z = 1 and s = K*/W*
        Assert.True(steady.Found, steady.Message);
        double k = c.SteadyStateCapital;
        Assert.Equal(k, Value(steady.States, "K"), 1e-10 * k);
        Assert.Equal(1, Value(steady.States, "z"), 1e-12);
        Assert.Equal(k / c.Wealth(k, 1), Value(steady.Policies, "s"), 1e-11);
    }

    [Fact]
    public void Endogenous_hours_settle_at_the_closed_forms_hours()
    {
        // Given Brock–Mirman with hours (δ = 1): s = αβ and L* = [(1−α)/(ψ(1−αβ))]^(1/(1+θ))
        var c = new LaborCalibration(Delta: 1);
        var steady = SteadyState.Of(new BrockMirmanLabor(c));
        Assert.True(steady.Found, steady.Message);
        Assert.Equal(c.Alpha * c.Beta, Value(steady.Policies, "s"), 1e-10);
        Assert.Equal(c.UnconstrainedHours, Value(steady.Policies, "L"), 1e-10);
    }

    [Fact]
    public void The_OLG_economy_with_its_chain_averaged_settles_at_the_closed_forms_holdings()
    {
        // Given the analytic OLG economy, whose four-state shock is averaged (η = 1, δ = 0.7) in the steady state
        var c = new OlgCalibration(Generations: 6);
        var steady = SteadyState.Of(new AnalyticOlg(c));
        // Then the savings rates are the closed form's and the holdings where the mean economy settles
        Assert.True(steady.Found, steady.Message);
        var holdings = c.SteadyStateHoldings();
        var rates = c.SavingsRates();
        for (int h = 0; h < holdings.Length; h++)
        {
            Assert.Equal(holdings[h], Value(steady.States, $"k[{h + 1}]"), 1e-9 * holdings[h]);
            Assert.Equal(rates[h], Value(steady.Policies, $"s[{h + 1}]"), 1e-10);
        }
        Assert.Equal(["shock: values averaged under its stationary distribution"], steady.Chains);
    }

    [Fact]
    public void A_chain_held_in_one_state_gives_that_states_economy()
    {
        // Given the OLG economy held in its "η high, δ low" state (η = 1.05, δ = 0.5)
        var c = new OlgCalibration(Generations: 4);
        var steady = SteadyState.Of(new AnalyticOlg(c), new SteadyStateSpec { Chains = new ChainTreatment { Held = new Dictionary<string, int> { ["shock"] = 2 } } });
        // Then its holdings are that economy's: capital solves the closed-form recursion with η_high and δ_low
        Assert.True(steady.Found, steady.Message);
        var expected = (c with { EtaLow = c.EtaHigh, DeltaHigh = c.DeltaLow }).SteadyStateHoldings();
        for (int h = 0; h < expected.Length; h++) Assert.Equal(expected[h], Value(steady.States, $"k[{h + 1}]"), 1e-9 * expected[h]);
        Assert.Equal(2, Value(steady.Definitions, "eta") == c.EtaHigh ? 2 : -1);
    }

    [Theory]
    [InlineData(0.2, 0.05)]
    [InlineData(5.0, 0.95)]
    [InlineData(0.01, 0.5)]
    public void Newton_finds_it_from_guesses_far_from_the_answer(double capital, double savings)
    {
        // Given the growth model with a guess of its own, far from the steady state (K* ≈ 3.1, s* ≈ 0.26)
        var model = new GuessingGrowth(new GrowthCalibration(), capital, savings);
        var steady = SteadyState.Of(model);
        Assert.True(steady.Found, steady.Message);
        Assert.Equal(model.Calibration.SteadyStateCapital, Value(steady.States, "K"), 1e-9);
    }

    [Fact]
    public void A_model_that_says_it_has_none_gets_none_not_a_failure()
    {
        var steady = SteadyState.Of(new TrendGrowth(hasSteadyState: false));
        Assert.Equal(SteadyStateStatus.None, steady.Status);
    }

    [Fact]
    public void A_failure_names_the_equations_that_do_not_close()
    {
        // Given a model whose capital grows by 2 % every period whatever the policy (no fixed point), which does not say so
        var steady = SteadyState.Of(new TrendGrowth(hasSteadyState: true));
        // Then it fails in one line naming the transition that cannot close
        Assert.Equal(SteadyStateStatus.Failed, steady.Status);
        Assert.Contains("transition of K", steady.Message);
        Assert.DoesNotContain('\n', steady.Message);
    }

    [Fact]
    public void More_equations_than_policies_are_solved_in_least_squares_and_said_so()
    {
        // Given a consistent system with one policy and two equations that both hold at the steady state
        var steady = SteadyState.Of(new Overdetermined());
        Assert.True(steady.Found, steady.Message);
        Assert.True(steady.LeastSquares);
        Assert.Contains("least squares", steady.Message);
        Assert.Equal(0.5, Value(steady.Policies, "s"), 1e-9);
    }

    private sealed class GuessingGrowth : Model<GrowthCalibration>
    {
        private readonly State K;
        private readonly Policy S;
        private readonly double capital, savings;

        public GuessingGrowth(GrowthCalibration c, double capital, double savings) : base(c)
        {
            K = State("K", InitialDistribution.Uniform(0.9, 12));
            S = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
            (this.capital, this.savings) = (capital, savings);
        }

        protected override void GuessSteadyState(SteadyStateGuess guess) => guess.Set(K, capital).Set(S, savings);

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
        {
            yield return (K, t[S] * (t[K].pow(Calibration.Alpha) + t[K] * (1 - Calibration.Delta)));
        }

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            double a = Calibration.Alpha, d = Calibration.Delta;
            var c0 = (1 - t[S]) * (t[K].pow(a) + t[K] * (1 - d));
            var e = t.Expect(n => (n[K].pow(a - 1) * a + (1 - d)) / ((1 - n[S]) * (n[K].pow(a) + n[K] * (1 - d))));
            yield return ("euler", 1 - 1 / (Calibration.Beta * c0 * e));
        }
    }

    private sealed class TrendGrowth : Model
    {
        private readonly State _k = null!;
        private readonly Policy _s = null!;
        private readonly bool _has;

        public TrendGrowth(bool hasSteadyState)
        {
            _has = hasSteadyState;
            _k = State("K", InitialDistribution.Uniform(1, 2));
            _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
        }

        public override bool HasSteadyState => _has;

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (_k, t[_k] * 1.02); }
        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t) { yield return ("savings", t[_s] - 0.3); }
    }

    private sealed class Overdetermined : Model
    {
        private readonly State _k;
        private readonly Policy _s;

        public Overdetermined()
        {
            _k = State("K", InitialDistribution.Uniform(0.5, 1.5));
            _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1));
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) { yield return (_k, t[_k] * 0.5 + t[_s]); }
        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            yield return ("first", t[_s] - 0.5);
            yield return ("second", t[_k] - 2 * t[_s]);
        }
    }
}
