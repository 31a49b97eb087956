using System.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Solving;
using Deqn.Equilibrium.Shocks;
using Deqn.Training.Engine;
using Deqn.Training.Optimization;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Tests.Solving;

public sealed class ProfileTmp(ITestOutputHelper output)
{
    [Fact]
    public void Profile()
    {
        TorchEngine.SetThreads(1);
        var model = new StochasticGrowth(new StochasticGrowthCalibration(Delta: 1, CapitalLow: 0.1, CapitalHigh: 0.4));
        var spec = new SolverSpec();
        using var gen = TorchEngine.Generator(1);
        var net = new Deqn.Training.Networks.Network(PolicyNetwork.SpecFor(model, spec.Hidden, spec.WeightInitializer, spec.BiasInitializer, spec.Precision), gen);
        using var policy = new PolicyNetwork(model, net);
        using var q = new QuadratureTensors(Quadratures.GaussHermite(5, 0.04), ScalarType.Float64);
        var x = torch.rand(64, 2, dtype: ScalarType.Float64) * 0.3 + 0.1;
        x = x + torch.tensor(new double[] { 0, 0.7 }, dtype: ScalarType.Float64);
        using var opt = Optimizers.Create(spec.Optimizer, net.parameters());
        void Time(string name, Action a)
        {
            for (int i = 0; i < 200; i++) a();
            var w = Stopwatch.StartNew();
            for (int i = 0; i < 2000; i++) a();
            output.WriteLine($"{name}: {w.Elapsed.TotalMilliseconds / 2000 * 1000:F0} µs");
        }
        Time("net forward", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); net.forward(x); });
        Time("policy values", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); policy.Values(x); });
        Time("residual no grad", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); Evaluation.Evaluate(model, x, policy, q).Loss().item<double>(); });
        Time("residual+backward", () => { using var s = torch.NewDisposeScope(); var l = Evaluation.Evaluate(model, x, policy, q).Loss(); l.backward(); l.item<double>(); });
        var nodes = q.Nodes!.select(1, 0).unsqueeze(0);
        Tensor Manual()
        {
            var k = x.select(1, 0); var z = x.select(1, 1);
            var s0 = policy.Values(x).select(1, 0);
            var w0 = z * k.pow(0.36) ;
            var c0 = (1 - s0) * w0;
            var k1 = (s0 * w0).unsqueeze(1).expand(64, 5).reshape(-1);
            var z1 = (z.log().mul(0.9).unsqueeze(1) + nodes).exp().reshape(-1);
            var x1 = torch.stack(new[] { k1, z1 }, 1);
            var s1 = policy.Values(x1).select(1, 0);
            var w1 = z1 * k1.pow(0.36);
            var c1 = (1 - s1) * w1;
            var r1 = z1 * k1.pow(-0.64).mul(0.36);
            var e = (r1 / c1).view(64, 5).matmul(q.Weights);
            var res = 1 - 1 / (0.99 * c0 * e);
            return res.square().mean();
        }
        Time("manual no grad", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); Manual().item<double>(); });
        Time("pow only", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); x.pow(0.36); });
        Time("policy 320", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); policy.Values(x.repeat(5, 1)); });
        var big = torch.rand(320, 50, dtype: ScalarType.Float64);
        var wt = torch.rand(50, 50, dtype: ScalarType.Float64);
        var big32 = big.to_type(ScalarType.Float32);
        Time("tanh 320x50 f64", () => { using var s = torch.NewDisposeScope(); big.tanh(); });
        Time("tanh 320x50 f32", () => { using var s = torch.NewDisposeScope(); big32.tanh(); });
        Time("relu 320x50 f64", () => { using var s = torch.NewDisposeScope(); big.relu(); });
        Time("matmul 320x50x50 f64", () => { using var s = torch.NewDisposeScope(); big.matmul(wt); });
        Time("add scalar", () => { using var s = torch.NewDisposeScope(); big.add(1.0); });
        { var l = Evaluation.Evaluate(model, x, policy, q).Loss(); l.backward(); }
        var ps = net.parameters().ToArray();
        var adamSteps = 0;
        Time("adam update only", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); foreach (var p in ps) { var gr = p.grad!; p.add_(gr, -1e-9); adamSteps++; } });
        var x8 = x.narrow(0, 0, 8);
        var tiny = torch.rand(8, dtype: ScalarType.Float64);
        Time("100 tiny adds in scope", () => { using var s = torch.NewDisposeScope(); for (int i = 0; i < 100; i++) tiny.add(1.0); });
        Time("100 tiny adds no scope", () => { for (int i = 0; i < 100; i++) tiny.add(1.0).Dispose(); });
        Time("100 tiny add_ ", () => { for (int i = 0; i < 100; i++) tiny.add_(0.0); });
        Time("fwd with grad batch 8", () => { using var s = torch.NewDisposeScope(); Evaluation.Evaluate(model, x8, policy, q).Loss(); });
        Time("fwd+bwd batch 8", () => { using var s = torch.NewDisposeScope(); var l = Evaluation.Evaluate(model, x8, policy, q).Loss(); l.backward(); });
        Time("adam real step only", () => opt.Step(() => 0.0));
        Time("full step batch 8", () => opt.Step(() => { var l = Evaluation.Evaluate(model, x8, policy, q).Loss(); l.backward(); return l.ToDouble(); }));
        Time("fwd only batch 8", () => { using var s = torch.NewDisposeScope(); using var g = torch.no_grad(); Evaluation.Evaluate(model, x8, policy, q).Loss().ToDouble(); });
        Time("full step", () => opt.Step(() => { var l = Evaluation.Evaluate(model, x, policy, q).Loss(); l.backward(); return l.item<double>(); }));
        Time("step trivial closure", () => opt.Step(() => { var l = net.forward(x).sum(); l.backward(); return l.item<double>(); }));
    }
}
