using static TorchSharp.torch;

namespace Deqn.Training.Loop;

/// <summary>
/// What is trained, as opposed to how (<see cref="Trainer"/>): where each epoch's batches come from, the loss of a
/// batch, and what is measured at an evaluation point. A supervised fit, a stack of K networks and a DEQN episode
/// (simulate, then train on the visited states) are three workloads of the one engine.
/// </summary>
/// <remarks>
/// The engine owns every tensor's lifetime: <see cref="Batches"/>, <see cref="Evaluate"/> and
/// <see cref="EndEpoch"/> run inside the epoch's dispose scope, <see cref="Loss"/> inside the step's, so a workload
/// never writes <c>using</c> for the tensors it makes there; what must outlive an epoch it moves out explicitly.
/// </remarks>
/// <typeparam name="TBatch">What one step trains on (row indices, a slice of simulated states, …).</typeparam>
public interface IWorkload<TBatch>
{
    /// <summary>Networks trained side by side (a stack); the loss has one entry per member.</summary>
    int Members => 1;

    /// <summary>
    /// False when an epoch must run whole (a DEQN episode: an interrupted one would leave the simulated states and the
    /// random stream out of step); the engine then checks for cancellation between epochs only.
    /// </summary>
    bool InterruptibleWithinEpoch => true;

    /// <summary>Optimizer steps in one epoch, where the workload knows them in advance (for progress with evaluations every k steps).</summary>
    int? StepsPerEpoch => null;

    /// <summary>Once, before the first epoch (set training mode, dropout generators, …).</summary>
    void Begin(TrainingContext context) { }

    /// <summary>The batches of one epoch, each with its weight in the epoch's mean loss (its rows, or 1).</summary>
    IReadOnlyList<(TBatch Batch, double Weight)> Batches(TrainingContext context);

    /// <summary>
    /// The loss to minimize on one batch: a scalar for one network, [Members] for a stack (each member's own loss;
    /// the engine differentiates their sum, so each member's gradient is its own).
    /// </summary>
    Tensor Loss(TBatch batch);

    /// <summary>
    /// A workload that must step its own way (a stack: members' own learning-rate factors, frozen members, or an
    /// L-BFGS with one line search per member) takes the step here, inside the engine's step scope, and returns each
    /// member's loss at the weights before the step; null lets the engine's optimizer take it.
    /// </summary>
    double[]? TakeStep(TBatch batch, TrainingContext context) => null;

    /// <summary>
    /// True when <see cref="TakeStep"/> steps every batch itself (a stack's per-member Levenberg–Marquardt): the engine's
    /// optimizer then only carries settings, and need not be able to step this workload.
    /// </summary>
    bool TakesOwnSteps => false;

    /// <summary>After the last batch of an epoch, still inside its dispose scope.</summary>
    void EndEpoch(TrainingContext context) { }

    /// <summary>
    /// Adds what is measured at an evaluation point to each active member's metrics (validation loss, residual
    /// statistics…). <paramref name="metrics"/> already holds the epoch's mean training loss under "loss" (NaN when no
    /// step ran since the last evaluation) and "lr".
    /// </summary>
    void Evaluate(TrainingContext context, IReadOnlyList<Dictionary<string, double>?> metrics) { }

    /// <summary>Why the loss of <paramref name="batch"/> is not finite for <paramref name="member"/>, for the stop message.</summary>
    string DescribeNonFiniteLoss(TBatch batch, int member) => "";

    /// <summary>Once, after the last epoch (evaluation mode, generators released…).</summary>
    void End(TrainingContext context) { }
}

/// <summary>
/// Where a run continues from: the engine's counters and history as a checkpoint saved them (the last finished epoch;
/// training continues with the next).
/// </summary>
public sealed record TrainingResume(int Epoch, long Steps, double Seconds, IReadOnlyList<EpochRecord> History, double LearningRateFactor = 1.0);
