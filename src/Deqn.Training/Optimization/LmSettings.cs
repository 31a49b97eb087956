using TorchSharp.Modules;

namespace Deqn.Training.Optimization;

/// <summary>
/// The optimizer object of <c>lm</c>: it only carries the settings. Levenberg–Marquardt needs every residual's Jacobian,
/// which the stacked regression trainer forms (<see cref="Ensembles.StackedLevenbergMarquardt"/>); a plain gradient
/// step cannot, so <see cref="Optimizer.Step"/> refuses.
/// </summary>
internal sealed class LmSettings(IReadOnlyList<Parameter> parameters, ResolvedOptimizer settings) : Optimizer(parameters, settings)
{
    private protected override double StepCore(Func<double> closure) =>
        throw new NotSupportedException("lm (Levenberg–Marquardt) trains stacked regression networks only (deqn approx); use lbfgs or adam here");

    private protected override void WriteState(BinaryWriter w) { }
    private protected override void ReadState(BinaryReader r) { }
    private protected override void DisposeState() { }
}
