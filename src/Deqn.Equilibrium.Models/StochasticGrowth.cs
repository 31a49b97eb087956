using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Shocks;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Models;

/// <summary>The stochastic growth model's calibration; (K, z) start uniformly in [k_low, k_high] × [z_low, z_high].</summary>
public sealed record StochasticGrowthCalibration(
    double Alpha = 0.36, double Beta = 0.99, double Delta = 0.1, double Rho = 0.9, double Sigma = 0.04,
    double CapitalLow = 0.9, double CapitalHigh = 12, double ProductivityLow = 0.7, double ProductivityHigh = 1.3)
{
    public static ParameterTable<StochasticGrowthCalibration> Table { get; } = new ParameterTable<StochasticGrowthCalibration>()
        .Add("alpha", "capital share α", c => c.Alpha, (c, v) => c with { Alpha = v })
        .Add("beta", "discount factor β", c => c.Beta, (c, v) => c with { Beta = v })
        .Add("delta", "depreciation δ (1: the closed form holds)", c => c.Delta, (c, v) => c with { Delta = v })
        .Add("rho", "persistence ρ of log TFP", c => c.Rho, (c, v) => c with { Rho = v })
        .Add("sigma", "standard deviation σ of the TFP innovation", c => c.Sigma, (c, v) => c with { Sigma = v })
        .Add("k_low", "initial capital: lower end of the uniform draw", c => c.CapitalLow, (c, v) => c with { CapitalLow = v })
        .Add("k_high", "initial capital: upper end of the uniform draw", c => c.CapitalHigh, (c, v) => c with { CapitalHigh = v })
        .Add("z_low", "initial TFP: lower end of the uniform draw", c => c.ProductivityLow, (c, v) => c with { ProductivityLow = v })
        .Add("z_high", "initial TFP: upper end of the uniform draw", c => c.ProductivityHigh, (c, v) => c with { ProductivityHigh = v });

    public GrowthCalibration Growth => new(Alpha, Beta, Delta, Rho, Sigma);

    public void Validate()
    {
        Growth.Validate();
        if (!(CapitalLow > 0)) throw new ArgumentException($"k_low must be > 0 (got {CapitalLow})");
        if (!(CapitalLow < CapitalHigh)) throw new ArgumentException($"k_low ({CapitalLow}) must be below k_high ({CapitalHigh})");
        if (!(ProductivityLow > 0)) throw new ArgumentException($"z_low must be > 0 (got {ProductivityLow})");
        if (!(ProductivityLow < ProductivityHigh)) throw new ArgumentException($"z_low ({ProductivityLow}) must be below z_high ({ProductivityHigh})");
    }
}

/// <summary>
/// Brock–Mirman with AR(1) log TFP: Y = z·K^α, ln z' = ρ ln z + ε, ε ~ N(0, σ²); log utility; states (K, z); the
/// network gives the savings rate s(K, z). With δ = 1 the solution is K' = αβ·z·K^α (s = αβ); with δ &lt; 1 the
/// reference is time iteration on the Euler equation.
/// </summary>
public sealed class StochasticGrowth : Model
{
    private readonly StochasticGrowthCalibration _c;
    private readonly State _k, _z;
    private readonly Policy _s;
    private readonly Shock _eps;
    private readonly Definition _output, _wealth, _consumption, _return;

    public StochasticGrowth(StochasticGrowthCalibration calibration)
    {
        calibration.Validate();
        _c = calibration;
        double a = calibration.Alpha, d = calibration.Delta;
        _k = State("K", InitialDistribution.Uniform(calibration.CapitalLow, calibration.CapitalHigh), description: "capital");
        _z = State("z", InitialDistribution.Uniform(calibration.ProductivityLow, calibration.ProductivityHigh), description: "total factor productivity");
        _s = Policy("s", PolicyOutput.Implied, new Bounds(0, 1), "savings rate: K' = s·W");
        _eps = Shock("eps", calibration.Sigma, "innovation to log TFP");
        // With full depreciation the (1 − δ) terms vanish; skipping them saves operations in every step.
        _output = Define("Y", t => t[_z] * t[_k].pow(a), description: "output z·K^α");
        _wealth = Define("W", t => d == 1 ? t[_output] : t[_output] + t[_k].mul(1 - d), description: "resources Y + (1 − δ)K");
        _consumption = Define("C", t => (1 - t[_s]) * t[_wealth], description: "consumption (1 − s)·W");
        _return = Define("R", t => d == 1 ? t[_output].div(t[_k]).mul(a) : t[_output].div(t[_k]).mul(a).add(1 - d), description: "gross return 1 − δ + αzK^(α−1) = 1 − δ + αY/K");
    }

    public StochasticGrowthCalibration Calibration => _c;

    public override string Title => $"stochastic growth (Brock–Mirman with AR(1) TFP, δ = {_c.Delta:G4})";

    public override IReadOnlyList<(string Name, double Value)> Parameters =>
        StochasticGrowthCalibration.Table.Describe(_c).Select(p => (p.Name, p.Value)).ToArray();

    protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks)
    {
        yield return (_k, t[_s] * t[_wealth]);
        yield return (_z, (t[_z].log().mul(_c.Rho) + shocks[_eps]).exp());
    }

    /// <summary>The relative Euler error 1 − 1/(β·C·E[(1 − δ + r')/C']).</summary>
    protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
    {
        var expectation = t.Expect(next => next[_return] / next[_consumption]);
        yield return ("euler", 1 - 1 / (_c.Beta * t[_consumption] * expectation));
    }

    public override bool HasClosedForm => _c.Delta == 1;

    protected override IEnumerable<(Policy Policy, Tensor Value)>? ClosedForm(Period t)
    {
        if (!HasClosedForm) return null;
        return [(_s, full_like(t[_k], _c.Alpha * _c.Beta))];
    }

    /// <summary>Time iteration on an 80 × 15 grid over the initial box, with Gauss–Hermite 10 for the expectation.</summary>
    public override IPolicyReference? Reference() => HasClosedForm ? null : new TimeIterationReference(_c, 80, 15, 10);

    private sealed class TimeIterationReference : IPolicyReference
    {
        private readonly SavingsPolicy _policy;

        public TimeIterationReference(StochasticGrowthCalibration c, int capitalPoints, int productivityPoints, int nodes)
        {
            var capital = Enumerable.Range(0, capitalPoints).Select(i => c.CapitalLow + (c.CapitalHigh - c.CapitalLow) * i / (capitalPoints - 1.0)).ToArray();
            var productivity = Enumerable.Range(0, productivityPoints).Select(j => c.ProductivityLow + (c.ProductivityHigh - c.ProductivityLow) * j / (productivityPoints - 1.0)).ToArray();
            var result = TimeIteration.Solve(c.Growth, capital, productivity, Quadratures.GaussHermite(nodes, c.Sigma), tolerance: 1e-10);
            if (!result.Converged) throw new InvalidOperationException($"time iteration did not converge ({result.Iterations} iterations, change {result.Change:G3})");
            _policy = result.Policy;
            Name = $"time iteration ({capitalPoints} × {productivityPoints} grid, Gauss–Hermite {nodes}, {result.Iterations} iterations)";
        }

        public string Name { get; }

        public double[,] PolicyAt(double[,] states)
        {
            var result = new double[states.GetLength(0), 1];
            for (int i = 0; i < states.GetLength(0); i++) result[i, 0] = _policy.At(states[i, 0], states[i, 1]);
            return result;
        }
    }
}
