using Deqn.Training.Networks;
using Deqn.Training.Optimization;

namespace Deqn.Training.Ensembles;

/// <summary>Decides whether K networks of one spec train faster stacked (<see cref="EnsembleTrainer"/>) or one after another.</summary>
public static class EnsemblePlanner
{
    /// <summary>Fixed cost of one optimizer step per dense layer (libtorch op overhead: forward, backward, update), µs.</summary>
    internal const double OverheadPerLayerMicroseconds = 150;

    /// <summary>Arithmetic of one network's step per row and parameter (forward, backward, activation), µs.</summary>
    internal const double ComputePerRowParameterMicroseconds = 0.30e-3;

    /// <summary>
    /// The same inside a stack: higher, because K members' activations ([K, B, width]) leave the cache that one
    /// network's fit in.
    /// </summary>
    internal const double StackedComputePerRowParameterMicroseconds = 0.45e-3;

    /// <summary>A stacked step draws each member's dropout mask separately: cost per member and dropout layer, µs.</summary>
    internal const double DropoutDrawMicroseconds = 5;

    /// <summary>Stacking must promise at least this fraction of the sequential time saved.</summary>
    internal const double RequiredSaving = 0.2;

    /// <summary>
    /// True when training <paramref name="members"/> networks stacked is expected to save at least a fifth of the time of
    /// training them one after another.
    /// </summary>
    /// <remarks>
    /// <para>Model, per network and step: one network alone costs overhead + c·rows·parameters; in a stack of K it costs
    /// overhead/K + c′·rows·parameters (+ one dropout draw per dropout layer), where the overhead is a few µs per tensor op
    /// whatever the batch (≈150 µs per dense layer), c ≈ 0.30 ns and c′ ≈ 0.45 ns (K members' activations no longer fit in
    /// the cache), and rows is the minibatch (all rows when full batch). Stack when that promises at least 20 % saved.
    /// Batch normalization cannot be stacked (false).</para>
    /// <para>Measured for this rule (TorchSharp 0.107, one thread, a 3→64→64→1 tanh net = 4,481 parameters, Adam, float32,
    /// 500 rows per member, µs per network-step, K sequential Trainer runs vs one EnsembleTrainer; a 2-core machine shared
    /// with other jobs, so single numbers are noisy by ±30 %):</para>
    /// <code>
    /// batch  K   sequential  stacked  speed-up
    ///  32    1      598        635     0.94
    ///  32    4      603        167     3.6
    ///  32   16      485         89     5.4
    ///  32   64      515         98     5.3
    /// 500    1     1181       1513     0.78
    /// 500    4     1065       1018     1.05
    /// 500   16     1086       1228     0.88
    /// 500   64     1454       1584     0.92
    /// </code>
    /// <para>A second, more loaded run gave speed-ups 2.9 / 5.4 / 6.7 at batch 32 (K = 4 / 16 / 64), 2.5 at batch 128 and
    /// 256 (K = 16) and 0.79–1.05 at full batch 500. For this net the rule stacks minibatches of 32 for any K ≥ 2 and of
    /// 256 for K ≥ 4, and never stacks full batches of 500 (predicted stacked/sequential time 0.92 at K = 16).</para>
    /// </remarks>
    public static bool ShouldStack(int members, int rows, int batchSize, NetworkSpec spec)
        => ShouldStack(members, rows, batchSize, spec, OptimizerKind.Adam);

    /// <summary>Members from which stacked L-BFGS pays off (measured: K = 4 already saves time on small training sets).</summary>
    internal const int LbfgsMinMembers = 4;

    /// <summary>Stacked L-BFGS pays off while rows × parameters per member stays below this (≈ 220 rows of a 3→64→64→1 net).</summary>
    internal const long LbfgsMaxRowParameters = 1_000_000;

    /// <summary>As <see cref="ShouldStack(int, int, int, NetworkSpec)"/>, for the given optimizer.</summary>
    /// <remarks>
    /// <para>L-BFGS always trains full batch (the batch size is ignored): stack when there are at least 4 members and
    /// rows × parameters ≤ 1e6. Measured (TorchSharp 0.107, one thread, 3→64→64→1 tanh float32, history 10, 20 iterations
    /// per epoch, tolerances 0; single = K sequential Trainer runs with the strong-Wolfe LbfgsOptimizer, stacked =
    /// EnsembleTrainer with <see cref="StackedLbfgs"/>; µs per network-iteration; a 2-core machine with a load of 5–8, so
    /// numbers scatter by a factor of 2 between runs, the second run is the quieter one):</para>
    /// <code>
    ///   N   K   single  stacked  speed-up   (first run's speed-up)
    ///  10   1    3714    6546     0.57        1.10
    ///  10   4    3714    1011     3.7         1.3
    ///  10  16    3714     535     6.9         1.9
    ///  10  64    3714     367    10.1         8.0
    /// 100   1    2152    1942     1.1         0.33
    /// 100   4    2152     777     2.8         1.1
    /// 100  16    2152     682     3.2         1.2
    /// 100  64    2152     765     2.8         1.4
    /// 500   1    1280    1571     0.81        0.57
    /// 500   4    1280    1429     0.90        1.2
    /// 500  16    1280    2027     0.63        1.3
    /// 500  64    1280    3267     0.39        1.1
    /// </code>
    /// <para>History 100 instead of 10 (K = 16, first run): stacked 7366 / 11633 µs at N = 100 / 500 vs single 13954 / 20572.
    /// Stacking also changes the line search (Armijo instead of strong Wolfe), which changes the trajectory, not the quality:
    /// three 3→64→64→1 networks on 100 points of Σ sin(πx), 25 epochs, reached training MSE 4.1e-5, 2.4e-5, 2.9e-5 stacked and
    /// 3.6e-5, 2.6e-5, 3.3e-5 one at a time.</para>
    /// </remarks>
    public static bool ShouldStack(int members, int rows, int batchSize, NetworkSpec spec, OptimizerKind optimizer)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        if (rows == 0) return false;
        // Levenberg–Marquardt exists only stacked (a stack of one is fine).
        if (optimizer == OptimizerKind.Lm) return spec.Hidden.All(l => l.BatchNorm is null);
        if (members < 2) return false;
        if (spec.Hidden.Any(l => l.BatchNorm is not null)) return false;
        if (optimizer == OptimizerKind.Lbfgs)
            return members >= LbfgsMinMembers && (long)rows * Parameters(spec) <= LbfgsMaxRowParameters;

        int batchRows = batchSize == 0 || batchSize >= rows ? rows : batchSize;
        long rowParameters = batchRows * Parameters(spec);
        double overhead = OverheadPerLayerMicroseconds * (spec.Hidden.Count + 1);
        int dropoutLayers = spec.Hidden.Count(l => l.Dropout > 0);
        // Per network and step.
        double sequential = overhead + ComputePerRowParameterMicroseconds * rowParameters;
        double stacked = overhead / members + StackedComputePerRowParameterMicroseconds * rowParameters + DropoutDrawMicroseconds * dropoutLayers;
        return stacked <= (1 - RequiredSaving) * sequential;
    }

    private static long Parameters(NetworkSpec spec)
    {
        long total = 0;
        int width = spec.Inputs;
        foreach (var layer in spec.Hidden)
        {
            total += (long)(width + 1) * layer.Width;
            width = layer.Width;
        }
        return total + (long)(width + 1) * spec.Outputs;
    }
}
