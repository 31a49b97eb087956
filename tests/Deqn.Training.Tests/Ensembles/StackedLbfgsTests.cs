using Deqn.Training.Callbacks;
using Deqn.Training.Data;
using Deqn.Training.Ensembles;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Ensembles;

public sealed class StackedLbfgsTests
{
    private static NetworkSpec Linear() => NetworkSpec.Dense(3, [], 1, Activation.Linear) with { Precision = Precision.Float64 };

    private static NetworkSpec Tanh(int width = 8) => NetworkSpec.Dense(3, [width], 1, Activation.Tanh) with { Precision = Precision.Float64 };

    private static Tensor Rand(Generator g, params long[] shape) => torch.rand(shape, dtype: ScalarType.Float64, generator: g);

    /// <summary>Mean squared error per member: output [K, n, 1], targets [K, n, 1] → [K].</summary>
    private static Tensor Mse(Tensor output, Tensor targets) => output.sub(targets).square().mean([1L, 2L]);

    private static Func<Tensor> MseClosure(NetworkStack stack, Tensor x, Tensor y) => () =>
    {
        var losses = Mse(stack.forward(x), y);
        losses.sum().backward();
        return losses;
    };

    private static double[] Flat(NetworkStack stack, int k)
    {
        using var scope = torch.NewDisposeScope();
        var parts = stack.parameters().Select(p => p.detach()[k].reshape(-1)).ToArray();
        return torch.cat(parts, 0).data<double>().ToArray();
    }

    private static double MaxRelativeDifference(double[] a, double[] b)
    {
        double scale = Math.Max(b.Max(Math.Abs), 1e-300);
        return a.Zip(b, (u, v) => Math.Abs(u - v)).Max() / scale;
    }

    // ----- (a) one member against an L-BFGS with Armijo backtracking written here in plain doubles -----

    /// <summary>f(w) = mean((X w − y)²) over rows of [x, 1], w = (w1, w2, w3, b), and its gradient.</summary>
    private static (double F, double[] G) LeastSquares(double[,] x, double[] y, double[] w)
    {
        int n = y.Length, p = w.Length;
        double f = 0;
        var g = new double[p];
        for (int i = 0; i < n; i++)
        {
            double r = w[p - 1] - y[i];
            for (int j = 0; j < p - 1; j++) r += x[i, j] * w[j];
            f += r * r / n;
            for (int j = 0; j < p - 1; j++) g[j] += 2 * r * x[i, j] / n;
            g[p - 1] += 2 * r / n;
        }
        return (f, g);
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();

    /// <summary>The reference: γ-scaled two-loop, Armijo backtracking by halving, first step min(1, 1/‖g‖₁).</summary>
    private static List<double[]> ReferenceIterates(double[,] x, double[] y, double[] w0, int iterations)
    {
        var w = (double[])w0.Clone();
        var (f, g) = LeastSquares(x, y, w);
        var ss = new List<double[]>();
        var ys = new List<double[]>();
        double gamma = 1;
        double[]? prevG = null, prevS = null;
        var iterates = new List<double[]>();
        for (int it = 0; it < iterations; it++)
        {
            if (prevG is not null)
            {
                var yv = g.Zip(prevG, (a, b) => a - b).ToArray();
                double sy = Dot(yv, prevS!);
                if (sy > 1e-10) { ss.Add(prevS!); ys.Add(yv); gamma = sy / Dot(yv, yv); }
            }
            var q = g.Select(v => -v).ToArray();
            var alpha = new double[ss.Count];
            for (int i = ss.Count - 1; i >= 0; i--)
            {
                alpha[i] = Dot(ss[i], q) / Dot(ys[i], ss[i]);
                for (int j = 0; j < q.Length; j++) q[j] -= alpha[i] * ys[i][j];
            }
            var d = q.Select(v => v * gamma).ToArray();
            for (int i = 0; i < ss.Count; i++)
            {
                double beta = Dot(ys[i], d) / Dot(ys[i], ss[i]);
                for (int j = 0; j < d.Length; j++) d[j] += (alpha[i] - beta) * ss[i][j];
            }
            double gtd = Dot(g, d);
            Assert.True(gtd < 0, "the reference direction must descend");
            double t = it == 0 ? Math.Min(1, 1 / g.Sum(Math.Abs)) : 1;
            while (true)
            {
                var trial = w.Zip(d, (a, b) => a + t * b).ToArray();
                if (LeastSquares(x, y, trial).F <= f + 1e-4 * t * gtd) break;
                t /= 2;
            }
            prevS = d.Select(v => t * v).ToArray();
            prevG = g;
            w = w.Zip(prevS, (a, b) => a + b).ToArray();
            (f, g) = LeastSquares(x, y, w);
            iterates.Add((double[])w.Clone());
        }
        return iterates;
    }

    [Fact]
    public void StackedLbfgs_with_one_member_follows_a_hand_written_two_loop_with_armijo_backtracking()
    {
        // Given a linear model on badly scaled features (so the quasi-Newton scaling and backtracking both matter)
        using var g = new Generator(5);
        var xt = Rand(g, 1, 30, 3).mul(torch.tensor(new[] { 1.0, 10.0, 0.1 }, dtype: ScalarType.Float64));
        var yt = Rand(g, 1, 30, 1).mul_(3).add_(xt.select(2, 0).unsqueeze(-1).square());
        using var stack = NetworkStack.FromSeeds(Linear(), [3]);
        var x = new double[30, 3];
        var xs = xt[0].data<double>().ToArray();
        for (int i = 0; i < 30; i++) for (int j = 0; j < 3; j++) x[i, j] = xs[3 * i + j];
        var y = yt.reshape(-1).data<double>().ToArray();
        var want = ReferenceIterates(x, y, Flat(stack, 0), 3);
        using var lbfgs = new StackedLbfgs(stack, maxIterations: 1);

        // When three steps of one iteration each run
        // Then each iterate matches the reference (1e-10 relative: only summation order differs)
        for (int it = 0; it < 3; it++)
        {
            lbfgs.Step(MseClosure(stack, xt, yt)).Dispose();
            double rel = MaxRelativeDifference(Flat(stack, 0), want[it]);
            Assert.True(rel <= 1e-10, $"iteration {it + 1}: weights differ from the reference by {rel:G3} relative (> 1e-10)");
        }
        Assert.False(lbfgs.Converged[0]);
    }

    // ----- (b) members are independent -----

    private static (Tensor X, Tensor Y) MemberData(long seed, int n = 40)
    {
        using var g = new Generator((ulong)seed);
        var x = Rand(g, n, 3);
        var y = x.mul(Math.PI).sin().sum(1, keepdim: true).add_(Rand(g, n, 1).mul_(0.1));
        return (x, y);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StackedLbfgs_trains_a_member_exactly_as_alone_whatever_its_neighbours_do(bool troubledNeighbours)
    {
        // Given member B between A and C, which either train normally, or where A's loss is NaN (a target is NaN) and
        // C already sits at its minimum (its targets are its own initial predictions)
        var spec = Tanh();
        long[] seeds = [1, 2, 3];
        using var stack = NetworkStack.FromSeeds(spec, seeds);
        var (xa, ya) = MemberData(10);
        var (xb, yb) = MemberData(20);
        var (xc, yc) = MemberData(30);
        if (troubledNeighbours)
        {
            ya[5, 0] = double.NaN;
            using var c = stack.Extract(2);
            using (torch.no_grad()) yc = c.forward(xc).detach();
        }
        var x = torch.stack([xa, xb, xc]);
        var y = torch.stack([ya, yb, yc]);
        using var alone = NetworkStack.FromSeeds(spec, [seeds[1]]);
        var startA = Flat(stack, 0);
        var startC = Flat(stack, 2);

        // When both run 4 steps of 15 iterations
        using var stacked = new StackedLbfgs(stack, maxIterations: 15);
        using var single = new StackedLbfgs(alone, maxIterations: 15);
        for (int i = 0; i < 4; i++)
        {
            stacked.Step(MseClosure(stack, x, y)).Dispose();
            single.Step(MseClosure(alone, xb.unsqueeze(0), yb.unsqueeze(0))).Dispose();
        }

        // Then B's weights agree (1e-9 relative), and it did train
        double rel = MaxRelativeDifference(Flat(stack, 1), Flat(alone, 0));
        Assert.True(rel <= 1e-9, $"member B stacked differs from B alone by {rel:G3} relative (> 1e-9)");
        using (var start = NetworkStack.FromSeeds(spec, [seeds[1]]))
            Assert.True(MaxRelativeDifference(Flat(stack, 1), Flat(start, 0)) > 1e-3, "B should have moved");
        Assert.Equal(single.Converged[0], stacked.Converged[1]);
        if (troubledNeighbours)
        {
            // and the NaN member and the converged one were left where they started
            Assert.True(stacked.Converged[0], "the NaN member should have stopped");
            Assert.True(stacked.Converged[2], "the member at its minimum should have stopped");
            Assert.Equal(startA, Flat(stack, 0));
            Assert.Equal(startC, Flat(stack, 2));
        }
    }

    // ----- (c) convergence on convex problems -----

    [Fact]
    public void StackedLbfgs_reaches_the_minimum_of_each_member_of_a_stack_of_convex_problems()
    {
        // Given five linear models: three least-squares problems with feature scales spread up to 100 (Hessian condition numbers up to about 1e4), and two
        // ridge-regularized logistic regressions (labels ±1)
        const int K = 5, n = 50;
        const double ridge = 1e-3;
        using var g = new Generator(8);
        var scales = torch.tensor(new double[,] { { 1, 1, 1 }, { 1, 10, 0.1 }, { 10, 1, 0.3 }, { 1, 1, 1 }, { 3, 0.3, 1 } }, dtype: ScalarType.Float64);
        var x = Rand(g, K, n, 3).sub_(0.5).mul_(scales.unsqueeze(1));
        var w = torch.randn(K, 3, 1, dtype: ScalarType.Float64, generator: g);
        var y = x.bmm(w).add_(torch.randn(K, n, 1, dtype: ScalarType.Float64, generator: g).mul_(0.3));
        var labels = y.sign();
        using var stack = NetworkStack.FromSeeds(Linear(), [1, 2, 3, 4, 5]);
        var (weight, bias) = stack.Layers().Select(l => (l.Weight, l.Bias)).Single();
        Tensor Losses()
        {
            var output = stack.forward(x);
            var squares = Mse(output.narrow(0, 0, 3), y.narrow(0, 0, 3));
            var logistic = nn.functional.softplus(output.narrow(0, 3, 2).mul(labels.narrow(0, 3, 2)).neg()).mean([1L, 2L])
                .add(weight.narrow(0, 3, 2).square().sum([1L, 2L]).add(bias.narrow(0, 3, 2).square().sum([1L, 2L])).mul(ridge));
            return torch.cat([squares, logistic]);
        }
        using var lbfgs = new StackedLbfgs(stack, maxIterations: 100, toleranceGrad: 1e-10, toleranceChange: 0);

        // When
        for (int i = 0; i < 5; i++)
            lbfgs.Step(() => { var l = Losses(); l.sum().backward(); return l; }).Dispose();

        // Then the least-squares members sit at the least-squares solution (1e-6 relative)
        var design = torch.cat([x, torch.ones(K, n, 1, dtype: ScalarType.Float64)], 2);
        for (int k = 0; k < 3; k++)
        {
            var solution = torch.linalg.lstsq(design[k], y[k]).Solution.reshape(-1).data<double>().ToArray();
            double rel = MaxRelativeDifference(Flat(stack, k), solution);
            Assert.True(rel <= 1e-6, $"member {k}: {rel:G3} relative from the least-squares solution (> 1e-6)");
        }
        // and the logistic members where the (strongly convex) objective's gradient vanishes: max |g| <= 1e-8
        stack.zero_grad();
        Losses().sum().backward();
        for (int k = 3; k < 5; k++)
        {
            double gmax = Math.Max(weight.grad![k].abs().max().ToDouble(), bias.grad![k].abs().max().ToDouble());
            Assert.True(gmax <= 1e-8, $"member {k}: gradient {gmax:G3} at the end (> 1e-8)");
        }
        Assert.All(lbfgs.Converged, Assert.True);
    }

    // ----- (d) EnsembleTrainer with L-BFGS -----

    [Fact]
    public void StackedLbfgs_in_the_ensemble_trainer_fits_a_smooth_function_with_per_member_early_stopping()
    {
        // Given three members on noisy draws of y = Σ sin(π x) over [0, 1]³ (variance about 0.3), each with its own
        // validation set, full-batch L-BFGS, and early stopping on the validation loss with patience 3
        var spec = NetworkSpec.Dense(3, [16, 16], 1, Activation.Tanh) with { Precision = Precision.Float64 };
        var data = new[] { 1L, 2, 3 }.Select(s => MemberData(s, 60)).ToArray();
        var val = new[] { 11L, 12, 13 }.Select(s => MemberData(s, 30)).ToArray();
        using var stack = NetworkStack.FromSeeds(spec, [4, 5, 6]);
        using var optimizer = Optimizers.Create(new OptimizerSpec(OptimizerKind.Lbfgs) { HistorySize = 10, MaxIterations = 10 }, stack.parameters());
        var trainer = new EnsembleTrainer(stack, optimizer, new TrainingSpec { Epochs = 30 })
        {
            EarlyStopping = new EarlyStopping("val_loss", patience: 3),
        };

        // When
        var history = trainer.Fit(
            torch.stack(data.Select(d => d.X).ToArray()), torch.stack(data.Select(d => d.Y).ToArray()),
            torch.stack(val.Select(d => d.X).ToArray()), torch.stack(val.Select(d => d.Y).ToArray()));

        // Then every member fits well below the noise-free signal's variance: validation MSE below 0.02, R² above 0.93 (noise alone
        // contributes about 0.0008), and early stopping ended members on their own
        for (int k = 0; k < 3; k++)
        {
            var m = history.Members[k];
            double best = m.Series("val_loss").Min();
            Assert.True(best < 0.02, $"member {k}: best validation loss {best:G3} (>= 0.02); {m.StopReason} after {m.Epochs.Count} epochs: {string.Join(" ", m.Series("val_loss").Select(v => v.ToString("G3")))}");
            Assert.True(m.Series("loss").Last() < m.Series("loss").First() / 20, $"member {k}: training loss fell only from {m.Series("loss").First():G3} to {m.Series("loss").Last():G3}");
        }
        Assert.Contains(history.Members, m => m.StopReason == StopReason.EarlyStopping);
        Assert.True(history.Members.Select(m => m.Epochs.Count).Distinct().Count() > 1,
            $"members should stop at different epochs (got {string.Join(", ", history.Members.Select(m => m.Epochs.Count))})");
    }

    // ----- (e) no leak -----

    [Fact]
    public void StackedLbfgs_over_200_iterations_leaks_no_tensors()
    {
        // Given a warmed-up optimizer on three members, one with a NaN loss (it exercises the failure path)
        var (x, y) = MemberData(1, 30);
        using var stack = NetworkStack.FromSeeds(Tanh(), [1, 2, 3]);
        var xs = torch.stack([x, x, x]);
        var ys = torch.stack([y, y.mul(2), y.clone()]);
        ys[2, 0, 0] = double.NaN;
        using var lbfgs = new StackedLbfgs(stack, maxIterations: 20, toleranceGrad: 0, toleranceChange: 0);
        lbfgs.Step(MseClosure(stack, xs, ys)).Dispose();
        long iterations = lbfgs.Iterations;
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        // When 10 steps of 20 iterations run
        for (int i = 0; i < 10; i++) lbfgs.Step(MseClosure(stack, xs, ys)).Dispose();

        // Then
        Assert.Equal(200, lbfgs.Iterations - iterations);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"live tensors grew from {before} to {after} over 200 iterations");
    }

    [Fact]
    public void StackedLbfgs_resumed_from_saved_state_continues_as_if_never_stopped()
    {
        // Given two identical stacks; the first runs two steps, the second one step, is saved and restored into a new optimizer
        var (x, y) = MemberData(3, 30);
        var xs = torch.stack([x, x]);
        var ys = torch.stack([y, y.mul(-1)]);
        using var a = NetworkStack.FromSeeds(Tanh(), [1, 2]);
        using var b = NetworkStack.FromSeeds(Tanh(), [1, 2]);
        using var first = new StackedLbfgs(a, maxIterations: 5);
        first.Step(MseClosure(a, xs, ys)).Dispose();
        first.Step(MseClosure(a, xs, ys)).Dispose();
        using var saved = new MemoryStream();
        using (var before = new StackedLbfgs(b, maxIterations: 5))
        {
            before.Step(MseClosure(b, xs, ys)).Dispose();
            before.SaveState(saved);
        }

        // When
        saved.Position = 0;
        using var resumed = new StackedLbfgs(b, maxIterations: 5);
        resumed.LoadState(saved);
        resumed.Step(MseClosure(b, xs, ys)).Dispose();

        // Then (bit for bit)
        for (int k = 0; k < 2; k++) Assert.Equal(Flat(a, k), Flat(b, k));
    }
}
