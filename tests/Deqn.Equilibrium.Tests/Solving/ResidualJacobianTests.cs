using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models.Growth;
using Deqn.Equilibrium.Models.Olg;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Simulation;
using Deqn.Equilibrium.Solving;
using Deqn.Equilibrium.Tests.Modeling;
using Deqn.Training.Engine;
using Deqn.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class ResidualJacobianTests
{
    private static PolicyNetwork Network(Model model, long seed)
    {
        using var generator = TorchEngine.Generator(seed);
        var spec = PolicyNetwork.SpecFor(model, new NetworkBodySpec { Hidden = [new LayerSpec(6, Activation.Swish), new LayerSpec(5, Activation.Tanh)], Precision = Precision.Float64 });
        return new PolicyNetwork(model, new Network(spec, generator), InputScaling.Simulated);
    }

    public static TheoryData<string> Models => new() { "stochastic-growth", "olg", "vector-and-markov" };

    private static (Model Model, PolicyNetwork Policy, Tensor States) Setup(string name, long seed)
    {
        switch (name)
        {
            case "stochastic-growth":
            {
                var model = new StochasticGrowth(new GrowthCalibration());
                var policy = Network(model, seed);
                var states = Simulator.DrawInitial(model, 7, new StandardNormalStream(seed), ScalarType.Float64, CPU);
                policy.Observe(states);
                return (model, policy, states);
            }
            case "olg":
            {
                var model = new AnalyticOlg(new OlgCalibration(Generations: 4));
                var policy = Network(model, seed);
                var states = Simulator.DrawInitial(model, 5, new StandardNormalStream(seed), ScalarType.Float64, CPU);
                policy.Observe(states);
                return (model, policy, states);
            }
            default:
            {
                var (model, _, values) = VectorAndMarkovTests.Setup(seed, 6);
                var policy = Network(model, seed);
                var states = torch.tensor(values, dtype: ScalarType.Float64);
                policy.Observe(states);
                return (model, policy, states);
            }
        }
    }

    private static QuadratureTensors Quadrature(Model model) => new QuadratureTensors(new QuadratureSpec().Build(model.ShockCholesky, 0), model.ChainStates, ScalarType.Float64);

    /// <summary>Least-squares rows an economy gives (its equations' elements), read from the first one's.</summary>
    private static int RowsPerEconomy(Model model, Tensor states, PolicyNetwork policy, QuadratureTensors quadrature)
    {
        using var noGrad = no_grad();
        return Evaluation.Evaluate(model, states.narrow(0, 0, 1), policy, quadrature, null).LeastSquaresRows().Count;
    }

    private static Tensor Rows(Model model, Tensor states, PolicyNetwork policy, QuadratureTensors quadrature, IReadOnlyDictionary<string, double>? weights) =>
        torch.cat(Evaluation.Evaluate(model, states, policy, quadrature, weights).LeastSquaresRows().ToArray(), 0);

    [Theory]
    [MemberData(nameof(Models))]
    public void Jacobian_equals_central_differences_of_the_rows(string name)
    {
        // Given a model with expectations over normal nodes, vector equations and features, or a Markov chain
        using var scope = NewDisposeScope();
        var (model, policy, states) = Setup(name, 3);
        using var _ = policy;
        using var quadrature = Quadrature(model);
        var weights = name == "olg" ? null : new Dictionary<string, double> { [name == "stochastic-growth" ? "euler" : "vec"] = 2.5 };
        // When the Jacobian of its least-squares rows is formed per economy
        var (rows, jacobian, _) = ResidualJacobian.At(model, states, policy, quadrature, weights);
        using (no_grad())
        {
            Assert.Equal(Rows(model, states, policy, quadrature, weights).data<double>().ToArray(), rows.data<double>().ToArray());
            // Then every column equals the central difference of the rows in that parameter
            var parameters = ResidualJacobian.Parameters(policy);
            Assert.Equal(parameters.Sum(p => p.numel()), jacobian.shape[1]);
            int column = 0;
            const double h = 1e-6;
            foreach (var p in parameters)
            {
                var flat = p.view(-1);
                for (int j = 0; j < flat.shape[0]; j++, column++)
                {
                    double v = flat[j].ToDouble();
                    flat[j] = v + h;
                    var plus = Rows(model, states, policy, quadrature, weights);
                    flat[j] = v - h;
                    var minus = Rows(model, states, policy, quadrature, weights);
                    flat[j] = v;
                    var numeric = ((plus - minus) / (2 * h)).data<double>().ToArray();
                    var analytic = jacobian.select(1, column).data<double>().ToArray();
                    for (int i = 0; i < numeric.Length; i++)
                        Assert.True(Math.Abs(numeric[i] - analytic[i]) <= 1e-7 + 1e-6 * Math.Abs(numeric[i]),
                            $"{name}: row {i}, parameter {column}: analytic {analytic[i]:R}, central difference {numeric[i]:R}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_squared_rows_sum_to_the_loss_without_penalties(string name)
    {
        using var scope = NewDisposeScope();
        var (model, policy, states) = Setup(name, 5);
        using var _ = policy;
        using var quadrature = Quadrature(model);
        using var noGrad = no_grad();
        var residuals = Evaluation.Evaluate(model, states, policy, quadrature, new Dictionary<string, double>());
        double penalties = residuals.Penalties.Values.Sum(p => p.ToDouble());
        double rows = residuals.LeastSquaresRows().Sum(r => r.square().sum().ToDouble());
        Assert.Equal(residuals.Loss().ToDouble() - penalties, rows, 12);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Matrix_free_products_equal_the_stored_jacobians(string name)
    {
        // Given a sample in two weighted blocks, as two ranks' samples are
        using var scope = NewDisposeScope();
        var (model, policy, states) = Setup(name, 11);
        using var _ = policy;
        using var quadrature = Quadrature(model);
        long n = states.shape[0], half = n / 2;
        var blocks = new[] { new ResidualLinearization.Block(states.narrow(0, 0, half), 0.25), new ResidualLinearization.Block(states.narrow(0, half, n - half), 0.75) };
        int perEconomy = RowsPerEconomy(model, states, policy, quadrature);
        // When it is linearized with its Jacobian stored and matrix-free (J v by central differences)
        using var stored = ResidualLinearization.At(model, blocks, policy, quadrature, null, perEconomy);
        using var free = ResidualLinearization.At(model, blocks, policy, quadrature, null, perEconomy, forceMatrixFree: true);
        Assert.NotNull(stored.Explicit);
        Assert.Null(free.Explicit);
        // Then the residuals, J v, Jᵀu and diag(JᵀJ) agree, and the squares sum to the blocks' weighted losses
        Assert.Equal(stored.Residuals.data<double>().ToArray(), free.Residuals.data<double>().ToArray(), new Close(1e-13));
        using var generator = torch.Generator.Default;
        var v = torch.randn(stored.Columns, dtype: ScalarType.Float64);
        var u = torch.randn(stored.Residuals.shape[0], dtype: ScalarType.Float64);
        var before = ResidualJacobian.Parameters(policy).Select(p => p.detach().clone()).ToArray();
        AssertClose(stored.Times(v), free.Times(v), 1e-8);
        Assert.Equal(stored.TransposeTimes(u).data<double>().ToArray(), free.TransposeTimes(u).data<double>().ToArray(), new Close(1e-11));
        Assert.Equal(stored.ColumnSquares().data<double>().ToArray(), free.ColumnSquares().data<double>().ToArray(), new Close(1e-11));
        // (the central difference leaves the parameters bit for bit as they were)
        Assert.All(ResidualJacobian.Parameters(policy).Zip(before), p => Assert.True(p.First.eq(p.Second).all().item<bool>()));
        // and so they do where a Gauss–Newton step asks for them, with autograd off
        using (no_grad())
        {
            AssertClose(stored.Times(v), free.Times(v), 1e-8);
            Assert.Equal(stored.TransposeTimes(u).data<double>().ToArray(), free.TransposeTimes(u).data<double>().ToArray(), new Close(1e-11));
            Assert.Equal(stored.ColumnSquares().data<double>().ToArray(), free.ColumnSquares().data<double>().ToArray(), new Close(1e-11));
        }
        using (no_grad())
        {
            double Loss(Tensor s) => Evaluation.Evaluate(model, s, policy, quadrature, null).LeastSquaresRows().Sum(r => r.square().sum().ToDouble());
            Assert.Equal(0.25 * Loss(blocks[0].States) + 0.75 * Loss(blocks[1].States), stored.Residuals.square().sum().ToDouble(), 12);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_large_samples_diagonal_is_its_strided_subsamples(string name)
    {
        // Given a sample in two blocks, all economies but two and the last two, linearized matrix-free with diag(JᵀJ)
        // estimated from 3 economies
        using var scope = NewDisposeScope();
        var (model, policy, states) = Setup(name, 11);
        using var _ = policy;
        using var quadrature = Quadrature(model);
        long n = states.shape[0], first = n - 2;
        var blocks = new[] { new ResidualLinearization.Block(states.narrow(0, 0, first), 0.25), new ResidualLinearization.Block(states.narrow(0, first, 2), 0.75) };
        int perEconomy = RowsPerEconomy(model, states, policy, quadrature);
        using var free = ResidualLinearization.At(model, blocks, policy, quadrature, null, perEconomy, forceMatrixFree: true, diagonalEconomies: 3);
        // Then the estimate is the stored diagonal of each block's share of the 3 (at least one), every ⌊size/share⌋-th
        // economy from its first, each block keeping its weight
        Tensor Strided(long from, long size)
        {
            long keep = Math.Max(1, 3 * size / n);
            return states.index_select(0, torch.arange(keep, dtype: ScalarType.Int64).mul_(size / keep).add_(from));
        }
        var subsample = new[] { new ResidualLinearization.Block(Strided(0, first), 0.25), new ResidualLinearization.Block(Strided(first, 2), 0.75) };
        Assert.True(subsample.Sum(b => b.States.shape[0]) < n);
        using var stored = ResidualLinearization.At(model, subsample, policy, quadrature, null, perEconomy);
        Assert.Equal(stored.ColumnSquares().data<double>().ToArray(), free.ColumnSquares().data<double>().ToArray(), new Close(1e-11));
    }

    /// <summary>Each entry within <paramref name="tol"/> of the largest entry's magnitude (a central difference's error scale).</summary>
    private static void AssertClose(Tensor expected, Tensor actual, double tol)
    {
        double scale = Math.Max(1e-300, expected.abs().max().ToDouble());
        double worst = expected.sub(actual).abs().max().ToDouble();
        Assert.True(worst <= tol * scale, $"largest difference {worst:E2}, {worst / scale:E2} of the largest entry {scale:E2}");
    }

    private sealed class Close(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol * Math.Max(1, Math.Abs(a));
        public int GetHashCode(double x) => 0;
    }
}
