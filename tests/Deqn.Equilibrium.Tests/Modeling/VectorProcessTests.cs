using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Modeling;

/// <summary>
/// Vector shock processes declared at once: <c>AR1</c> with independent and common innovations and <c>VAR1</c> with a
/// persistence matrix and a covariance. Checked by the expectations the solver takes: the first and second moments of
/// next period's state, which a rule exact to degree 2 (Gauss–Hermite 3, monomial) must give exactly.
/// </summary>
public sealed class VectorProcessTests
{
    private const double Rho = 0.9, Sigma = 0.01, Common = 0.02;

    /// <summary>x′ by a declared process; its equations are E[x′_i] and E[x′_i·x′_j] for every pair, so a test reads the moments.</summary>
    private sealed class Toy : Model
    {
        private readonly State _x;
        private readonly Policy _p;
        private readonly int _n;

        public Toy(int n, double[,]? persistence = null, double[,]? covariance = null)
        {
            _n = n;
            _x = persistence is null
                ? AR1("x", n, InitialDistribution.Uniform(-0.1, 0.1), Rho, Sigma, Common, "log TFP by country")
                : VAR1("x", InitialDistribution.Uniform(-0.1, 0.1), persistence, covariance!);
            _p = Policy("p");
        }

        protected override IEnumerable<(State State, Tensor Next)> Transition(Period t, ShockValues shocks) => [];

        protected override IEnumerable<(string Name, Tensor Residual)> Equations(Period t)
        {
            for (int i = 0; i < _n; i++)
            {
                int a = i;
                yield return ($"mean{i}", t.Expect(next => next[_x].select(0, a)) + 0 * t[_p]);
                for (int j = i; j < _n; j++)
                {
                    int b = j;
                    yield return ($"m{i}{j}", t.Expect(next => next[_x].select(0, a) * next[_x].select(0, b)));
                }
            }
        }
    }

    private sealed class Zero : IPolicyFunction
    {
        public Tensor Values(Tensor states) => torch.zeros([states.shape[0], 1], dtype: states.dtype);
    }

    private static Dictionary<string, double> Moments(Model model, double[] x, QuadratureSpec rule)
    {
        using var scope = torch.NewDisposeScope();
        using var quadrature = new QuadratureTensors(rule.Build(model.ShockCholesky, 0), ScalarType.Float64);
        var states = torch.tensor(x, [1, x.Length], dtype: ScalarType.Float64);
        return Evaluation.Evaluate(model, states, new Zero(), quadrature).Equations.ToDictionary(q => q.Name, q => q.Residual.item<double>());
    }

    [Theory]
    [InlineData(QuadratureKind.GaussHermite, 3)]
    [InlineData(QuadratureKind.Monomial, 1)]
    [InlineData(QuadratureKind.Monomial3, 1)]
    public void AR1_with_a_common_innovation_has_the_moments_of_its_law(QuadratureKind kind, int nodes)
    {
        // Given three AR(1) processes x′_j = ρx_j + σε_j + σ_c·ε_0, declared at once: three correlated innovations
        var model = new Toy(3);
        Assert.Equal(["eps_x[1]", "eps_x[2]", "eps_x[3]"], model.Shocks.Select(s => s.Name));
        double[] x = [0.05, -0.02, 0.1];

        // When next period's moments are taken by a rule exact to degree 2
        var m = Moments(model, x, new QuadratureSpec(kind, nodes));

        // Then E[x′_i] = ρx_i and E[x′_i·x′_j] = ρ²x_i·x_j + σ_c² + σ²·[i = j]
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Rho * x[i], m[$"mean{i}"], 15);
            for (int j = i; j < 3; j++)
                Assert.Equal(Rho * Rho * x[i] * x[j] + Common * Common + (i == j ? Sigma * Sigma : 0), m[$"m{i}{j}"], 15);
        }
    }

    [Fact]
    public void VAR1_moves_by_its_persistence_matrix_with_its_covariance()
    {
        // Given x′ = A·x + u with a non-diagonal A and a correlated Σ
        double[,] a = { { 0.5, 0.2 }, { -0.1, 0.8 } }, sigma = { { 4e-4, 1e-4 }, { 1e-4, 9e-4 } };
        var model = new Toy(2, a, sigma);
        double[] x = [0.3, -0.4];
        var m = Moments(model, x, new QuadratureSpec(QuadratureKind.GaussHermite, 2));
        // Then E[x′] = A·x and E[x′x′ᵀ] = A·x·xᵀ·Aᵀ + Σ
        double[] ax = [0.5 * 0.3 + 0.2 * -0.4, -0.1 * 0.3 + 0.8 * -0.4];
        Assert.Equal(ax[0], m["mean0"], 15);
        Assert.Equal(ax[1], m["mean1"], 15);
        Assert.Equal(ax[0] * ax[1] + 1e-4, m["m01"], 15);
        Assert.Equal(ax[1] * ax[1] + 9e-4, m["m11"], 15);
    }

    [Fact]
    public void Matrices_of_the_wrong_size_are_one_line_errors_naming_the_process()
    {
        var e = Assert.Throws<ArgumentException>(() => new Toy(2, new double[2, 3], new double[2, 2]));
        Assert.Equal("x: the persistence matrix must be square (got 2 × 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Toy(2, new double[2, 2], new double[3, 3]));
        Assert.Equal("x: a VAR(1) of 2 elements needs a 2 × 2 covariance (got 3 × 3)", e.Message);
    }
}
