using Deqn.Training.Data;
using Deqn.Training.Losses;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Training.Tests.Optimization;

/// <summary><c>lm</c> as an optimizer kind of the engine: a supervised fit's mse steps by Levenberg–Marquardt.</summary>
public sealed class LevenbergMarquardtTests
{
    private static Dataset Data(int n, int outputs = 1, long seed = 1)
    {
        using var g = new Generator((ulong)seed);
        var x = torch.rand(n, 2, dtype: ScalarType.Float64, generator: g).mul(2).sub(1);
        var y = torch.cat(Enumerable.Range(0, outputs).Select(o => (x * (Math.PI * (o + 1))).sin().sum(1, keepdim: true)).ToArray(), 1);
        return new Dataset(x, y);
    }

    private static Network Net(long seed, int outputs = 1, int width = 6) =>
        new(NetworkSpec.Dense(2, new[] { width, width }, outputs, Activation.Tanh) with { Precision = Precision.Float64 }, new Generator((ulong)seed));

    private static LevenbergMarquardt Lm(Network net) => (LevenbergMarquardt)Optimizers.Create(new OptimizerSpec(OptimizerKind.Lm), net.parameters());

    private static Tensor[] Columns(Network net) => net.DenseLayers().SelectMany(l => new Tensor[] { l.Weight, l.Bias }).ToArray();

    private static Tensor Flat(IEnumerable<Tensor> parameters) => torch.cat(parameters.Select(p => p.detach().reshape(-1).clone()).ToArray());

    /// <summary>Each row's and output's gradient by its own backward pass: [n·O, P], row-major.</summary>
    private static Tensor JacobianRowByRow(Network net, Tensor x)
    {
        var columns = Columns(net);
        var rows = new List<Tensor>();
        for (long i = 0; i < x.shape[0]; i++)
        {
            using var grad = torch.enable_grad();
            var output = net.forward(x.narrow(0, i, 1));
            for (long o = 0; o < output.shape[1]; o++)
            {
                var g = torch.autograd.grad([output[0, o]], columns, retain_graph: true);
                rows.Add(torch.cat(g.Select(t => t.reshape(-1)).ToArray()));
            }
        }
        return torch.stack(rows);
    }

    [Fact]
    public void The_per_row_Jacobian_equals_each_rows_own_gradient()
    {
        // Given a two-output dense network and a few rows
        using var scope = NewDisposeScope();
        using var data = Data(7, outputs: 2);
        using var net = Net(3, outputs: 2);

        // When the Jacobian comes from one backward pass per output column
        var (output, jacobian) = net.ForwardWithJacobian(data.Features);

        // Then it equals the row-by-row gradients, and the output the plain forward pass
        var expected = JacobianRowByRow(net, data.Features);
        Assert.Equal(new long[] { 7, 2, expected.shape[1] }, jacobian.shape);
        Assert.True(jacobian.reshape(14, -1).sub(expected).abs().max().ToDouble() < 1e-12);
        Assert.True(output.sub(net.forward(data.Features)).abs().max().ToDouble() < 1e-15);
    }

    [Fact]
    public void One_step_of_a_fit_is_the_damped_Gauss_Newton_step_of_its_formula()
    {
        // Given a full-batch fit with lm, and the step its formula gives: δ = −(JᵀJ + μI)⁻¹Jᵀr, μ = λ·tr(JᵀJ)/P, with
        // λ = 1e-3 grown by Nielsen's ν = 2, 4, 8, … for each trial step that did not lower the loss
        using var scope = NewDisposeScope();
        using var data = Data(40);
        using var net = Net(5);
        var before = Flat(Columns(net));
        var j = JacobianRowByRow(net, data.Features);
        var r = net.forward(data.Features).detach().sub(data.Targets).reshape(-1);
        var gram = j.t().mm(j);
        double lossBefore = r.square().mean().ToDouble();

        // When the engine takes one lm step
        using var lm = Lm(net);
        var history = new Trainer(net, lm, new TrainingSpec { Epochs = 1, BatchSize = 0, Shuffle = false }).Fit(data);

        // Then the weights moved by exactly that step at the damping it was taken with, and the history holds the loss before it
        var (taken, rejected, _) = lm.Counts;
        Assert.Equal(1L, taken);
        double lambda = NielsenDamping.Initial;
        for (int k = 1; k <= rejected; k++) lambda *= Math.Pow(2, k);
        double mu = lambda * gram.diagonal().sum().ToDouble() / gram.shape[0];
        var delta = torch.linalg.solve(gram.add(torch.eye(gram.shape[0], dtype: ScalarType.Float64).mul(mu)), j.t().mv(r).neg());
        Assert.True(Flat(Columns(net)).sub(before).sub(delta).abs().max().ToDouble() < 1e-10);
        Assert.Equal(lossBefore, history.Epochs[0].Metrics["loss"], 12);
        Assert.Equal(1, lm.StepCount);
    }

    [Fact]
    public void A_fit_with_lm_reaches_a_loss_adam_does_not_in_the_same_epochs()
    {
        // Given the same network and data, trained full batch for 60 epochs by lm and by Adam
        using var data = Data(200);
        double Fit(OptimizerKind kind)
        {
            using var net = Net(7, width: 12);
            using var opt = Optimizers.Create(new OptimizerSpec(kind), net.parameters());
            var history = new Trainer(net, opt, new TrainingSpec { Epochs = 60, BatchSize = 0 }).Fit(data);
            using var noGrad = torch.no_grad();
            return Deqn.Training.Losses.Losses.Compute(LossKind.Mse, net.forward(data.Features), data.Targets).ToDouble();
        }

        // When both fit
        double lm = Fit(OptimizerKind.Lm), adam = Fit(OptimizerKind.Adam);

        // Then lm's mse is far below Adam's (second-order steps on a small least-squares problem)
        Assert.True(lm < 1e-4, $"lm mse {lm}");
        Assert.True(lm < adam / 100, $"lm {lm}, adam {adam}");
    }

    [Fact]
    public void A_resumed_lm_fit_takes_the_same_steps_as_an_uninterrupted_one()
    {
        using var data = Data(50);
        var spec = new TrainingSpec { Epochs = 8, BatchSize = 0 };

        // Given an uninterrupted fit of 8 epochs
        using var whole = Net(11);
        using var lmWhole = Lm(whole);
        new Trainer(whole, lmWhole, spec).Fit(data);

        // When another fit stops after 4, saves its optimizer, and a fresh optimizer continues from that state
        using var parts = Net(11);
        var state = new MemoryStream();
        using (var first = Lm(parts))
        {
            new Trainer(parts, first, spec with { Epochs = 4 }).Fit(data);
            first.SaveState(state);
        }
        using var second = Lm(parts);
        state.Position = 0;
        second.LoadState(state);
        new Trainer(parts, second, spec with { Epochs = 8 }).Run(
            new Deqn.Training.Supervised.SupervisedWorkload(parts, data, null, spec with { Epochs = 8 }),
            resume: new TrainingResume(4, 4, 0, []));

        // Then the weights and the damping are bit-identical
        Assert.Equal(0.0, Flat(Columns(whole)).sub(Flat(Columns(parts))).abs().max().ToDouble());
        Assert.Equal(lmWhole.Damping, second.Damping);
        Assert.Equal(lmWhole.Counts, second.Counts);
    }

    [Fact]
    public void Lm_refuses_what_is_not_a_least_squares_fit_in_one_line()
    {
        using var data = Data(10);

        // A loss that is not mse
        using var net = Net(1);
        using var lm = Lm(net);
        var mae = Assert.Throws<ArgumentException>(() => new Trainer(net, lm, new TrainingSpec { Epochs = 1, Loss = LossKind.Mae }).Fit(data));
        Assert.Contains("mae", mae.Message);

        // A network whose rows interact (dropout)
        using var dropped = new Network(NetworkSpec.Dense(2, new[] { 4 }, 1, Activation.Tanh, dropout: 0.2) with { Precision = Precision.Float64 }, new Generator(1));
        using var lm2 = Lm(dropped);
        var dropout = Assert.Throws<ArgumentException>(() => new Trainer(dropped, lm2, new TrainingSpec { Epochs = 1 }).Fit(data));
        Assert.Contains("dropout", dropout.Message);

        // A plain gradient step
        var plain = Assert.Throws<NotSupportedException>(() => lm.Step(() => 0.0));
        Assert.Contains("least-squares", plain.Message);
        Assert.DoesNotContain('\n', mae.Message + dropout.Message + plain.Message);
    }
}
