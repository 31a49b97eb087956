namespace Deqn.Bench;

/// <summary>
/// HOOK — K networks together (K = 1, 4, 16, 64; cost per network-step). Pending: this is where the bench calls
/// Deqn.Training.Ensembles (EnsembleTrainer over a NetworkStack) once the library has it. Until then every block
/// answers "pending" and the driver prints that in the report; trainers-seq/K (K Trainers one after another) and
/// torchsharp-stacked/K (the bare stacked baseline) already run, so the ensemble's numbers land next to both.
/// </summary>
internal sealed class EnsembleContender(Problem problem, int k) : IContender
{
    /// <summary>Whether the referenced Deqn.Training has the ensemble trainer (looked up by name, so this file compiles either way).</summary>
    public static bool LibraryHasEnsembles =>
        typeof(Deqn.Training.Loop.Trainer).Assembly.GetType("Deqn.Training.Ensembles.EnsembleTrainer") is not null;

    public int Networks => k;

    public BlockResult Run(int batch, int epochs)
    {
        _ = problem;
        _ = batch;
        _ = epochs;
        return new BlockResult(0, 0, 0, LibraryHasEnsembles
            ? "Deqn.Training.Ensembles exists but the bench does not call it yet (EnsembleContender.Run)"
            : "Deqn.Training.Ensembles is not in this build of the library yet");
    }

    public void Dispose() { }
}
