using Deqn.Training.Loop;

namespace Deqn.Training.Callbacks;

/// <summary>Hooks into the training loop; each has a no-op default, so a callback overrides only what it needs.</summary>
public interface ICallback
{
    void OnTrainBegin(TrainingContext context) { }
    void OnEpochBegin(TrainingContext context) { }
    void OnBatchEnd(TrainingContext context) { }
    void OnEpochEnd(TrainingContext context) { }
    void OnTrainEnd(TrainingContext context) { }
}
