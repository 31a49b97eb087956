using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Simulation;

/// <summary>A simulated economy left the feasible set (a non-finite state): the policy is not a solution.</summary>
public sealed class SimulationException(string message) : Exception(message);

/// <summary>
/// Simulates a model under a policy: draws initial states and shocks from a seeded stream and steps economies forward,
/// many side by side. Training (each episode's trajectories) and diagnostics (the evaluation path) both simulate with it.
/// </summary>
/// <remarks>
/// The stream is read in a fixed order — initial states row by row, then each period's innovations row by row — so a
/// simulation is reproducible from its seed, and a solver that checkpoints the stream's state continues it exactly.
/// </remarks>
public static class Simulator
{
    /// <summary>Draws every state element from its initial distribution: [rows, StateWidth], one uniform draw per entry, row by row.</summary>
    public static Tensor DrawInitial(Model model, int rows, StandardNormalStream random, ScalarType dtype, Device device)
    {
        var columns = model.StateColumns;
        int width = columns.Count;
        var values = new double[rows * width];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < width; j++)
                values[i * width + j] = columns[j].Initial.Draw(random.Uniform());
        return OnDevice(torch.tensor(values, [rows, width], dtype: ScalarType.Float64), dtype, device);
    }

    /// <summary>
    /// One period's shocks: [rows, normal shocks + chains], row by row — the innovations L·z (one normal draw per
    /// shock), then one uniform draw per Markov chain; null when the model has neither (nothing drawn).
    /// </summary>
    public static Tensor? DrawShocks(Model model, int rows, StandardNormalStream random, ScalarType dtype, Device device)
    {
        int d = model.Shocks.Count, c = model.ChainStates.Count, width = d + c;
        if (width == 0) return null;
        var l = model.ShockCholesky;
        bool independent = model.ShocksIndependent;
        var values = new double[rows * width];
        var z = new double[d];
        for (int i = 0; i < rows; i++)
        {
            if (independent)
                for (int j = 0; j < d; j++) values[i * width + j] = l[j, j] * random.Next();
            else
            {
                for (int j = 0; j < d; j++) z[j] = random.Next();
                for (int j = 0; j < d; j++)
                {
                    double x = 0;
                    for (int k = 0; k <= j; k++) x += l[j, k] * z[k];
                    values[i * width + j] = x;
                }
            }
            for (int j = 0; j < c; j++) values[i * width + d + j] = random.Uniform();
        }
        return OnDevice(torch.tensor(values, [rows, width], dtype: ScalarType.Float64), dtype, device);
    }

    // Draws are made in float64 on the CPU; converting only when asked for another type or device saves a tensor a draw.
    private static Tensor OnDevice(Tensor drawn, ScalarType dtype, Device device)
    {
        if (dtype == ScalarType.Float64 && device.type == DeviceType.CPU) return drawn;
        using (drawn) return drawn.to(dtype, device);
    }

    /// <summary>One period forward: draws this period's innovations and applies the model's transition under <paramref name="policy"/>.</summary>
    public static Tensor Step(Model model, Tensor states, IPolicyFunction policy, StandardNormalStream random) =>
        Evaluation.Step(model, states, policy, DrawShocks(model, (int)states.shape[0], random, states.dtype, states.device));

    /// <summary>
    /// <paramref name="trajectories"/> economies side by side from the middle of the initial distributions, each
    /// <paramref name="burnIn"/> periods dropped and <paramref name="periods"/> kept: [periods · trajectories, states], period by period.
    /// A non-finite state is a <see cref="SimulationException"/> naming the period.
    /// </summary>
    public static Tensor Paths(Model model, IPolicyFunction policy, int trajectories, int periods, int burnIn, long seed, ScalarType dtype)
    {
        var (path, failure) = PathsUntilInfeasible(model, policy, trajectories, periods, burnIn, seed, dtype);
        if (failure is not null)
        {
            path.Dispose();
            throw new SimulationException(failure);
        }
        return path;
    }

    /// <summary>
    /// As <see cref="Paths"/>, but a state that is not finite ends the paths instead of throwing: the periods kept
    /// before it, and a line saying where it happened (null when every period was finite).
    /// </summary>
    public static (Tensor Path, string? Failure) PathsUntilInfeasible(Model model, IPolicyFunction policy, int trajectories, int periods, int burnIn, long seed, ScalarType dtype)
    {
        using var noGrad = torch.no_grad();
        var random = new StandardNormalStream(seed);
        int d = model.StateWidth, rows = trajectories * d;
        var values = new double[periods * rows];
        using var scope = torch.NewDisposeScope();
        var start = Enumerable.Range(0, trajectories).SelectMany(_ => model.StateColumns.Select(s => s.Initial.Typical)).ToArray();
        var x = torch.tensor(start, [trajectories, d], dtype: ScalarType.Float64).to_type(dtype);
        for (int t = 0; t < burnIn + periods; t++)
        {
            var row = x.to_type(ScalarType.Float64).data<double>().ToArray();
            if (row.Any(v => !double.IsFinite(v)))
            {
                int kept = Math.Max(0, t - burnIn);
                var columns = model.StateColumns;
                var bad = Enumerable.Range(0, d).Where(j => Enumerable.Range(0, trajectories).Any(i => !double.IsFinite(row[i * d + j]))).Select(j => columns[j].Name);
                string when = t < burnIn ? $"in burn-in period {t} of {burnIn}" : $"in period {t - burnIn}";
                return (torch.tensor(values.AsSpan(0, kept * rows).ToArray(), [kept * trajectories, d], dtype: ScalarType.Float64).to_type(dtype).DetachFromDisposeScope(),
                    $"the simulated path left the feasible set {when} (non-finite {string.Join(", ", bad)}): the policy is not a solution");
            }
            if (t >= burnIn) Array.Copy(row, 0, values, (t - burnIn) * rows, rows);
            using var step = torch.NewDisposeScope();
            x = Step(model, x, policy, random).MoveToOuterDisposeScope();
        }
        return (torch.tensor(values, [periods * trajectories, d], dtype: ScalarType.Float64).to_type(dtype).DetachFromDisposeScope(), null);
    }
}
