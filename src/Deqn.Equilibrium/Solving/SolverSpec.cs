using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// How a model is solved: the network, the optimizer and the DEQN episodes (simulate trajectories under the current
/// policy, then take epochs of shuffled minibatch steps on the mean squared residuals of the visited states).
/// </summary>
public sealed record SolverSpec
{
    /// <summary>
    /// Two hidden layers of 50 swish units, Glorot uniform, float64 (Euler errors of 1e-5 are below float32's
    /// resolution of a loss).
    /// </summary>
    public NetworkBodySpec Network { get; init; } = DefaultNetwork;

    /// <summary>
    /// Adam with PyTorch's ε (1e-8, outside the square root; the lecture's ε inside the root stalls DEQN's small late
    /// gradients), lr 1e-3 decaying to 0 by a cosine over all <see cref="Episodes"/> (the schedule counts episodes), as
    /// every shipped model trains, so the polish starts from a network Adam's noise has left; no clipping.
    /// </summary>
    public OptimizationSpec Optimization
    {
        get => field ?? AdamCosine(DefaultLearningRate, Episodes);
        init;
    }

    public const double DefaultLearningRate = 1e-3;

    /// <summary>
    /// The network a solve trains unless told otherwise. Swish by measurement: on Brock–Mirman its policy error was 4×
    /// lower than tanh's and 3× lower than relu's (docs/solve-defaults.md).
    /// </summary>
    public static NetworkBodySpec DefaultNetwork { get; } = new()
    {
        Hidden = [new(50, Activation.Swish), new(50, Activation.Swish)],
        Precision = Precision.Float64,
    };

    /// <summary>
    /// The optimization a solve of <paramref name="episodes"/> episodes uses unless told otherwise; change a part with
    /// <c>with</c>. Adam as PyTorch has it: the lecture's ε = 1e-7 inside the root acts as a floor of 3e-4 under the
    /// gradient scale, and DEQN's late gradients are far smaller; measured on Brock–Mirman, the policy error stalled
    /// near 5e-5 with it and reached 1e-5 without it (docs/solve-defaults.md).
    /// </summary>
    public static OptimizationSpec DefaultOptimization(int episodes = 1000) => AdamCosine(DefaultLearningRate, episodes);

    /// <summary>Adam as DEQN trains by default (PyTorch's ε = 1e-8, outside the square root) with the given learning rate.</summary>
    public static OptimizerSpec Adam(double learningRate) =>
        new(OptimizerKind.Adam) { LearningRate = learningRate, Convention = Convention.PyTorch, EpsilonInsideSqrt = false };

    /// <summary>Adam at <paramref name="learningRate"/> decaying to 0 by a cosine over <paramref name="episodes"/> episodes: what the shipped models train with.</summary>
    public static OptimizationSpec AdamCosine(double learningRate, int episodes) =>
        new() { Optimizer = Adam(learningRate), Schedule = new ScheduleSpec(ScheduleKind.Cosine) { CosineEpochs = episodes } };

    /// <summary>
    /// These settings for <paramref name="episodes"/> episodes; a cosine schedule that spanned all episodes spans the new
    /// count (as <c>--episodes</c> does on the command line).
    /// </summary>
    public SolverSpec WithEpisodes(int episodes) => this with
    {
        Episodes = episodes,
        Optimization = Optimization.Schedule is { Kind: ScheduleKind.Cosine } cosine && cosine.CosineEpochs == Episodes
            ? Optimization with { Schedule = cosine with { CosineEpochs = episodes } }
            : Optimization,
    };

    /// <summary>The settings <paramref name="model"/> recommends (<see cref="IRecommendsSolver"/>), or the defaults when it recommends none.</summary>
    public static SolverSpec For(Model model) => model is IRecommendsSolver r ? r.Recommended : new SolverSpec();

    /// <summary>Maximum number of episodes.</summary>
    public int Episodes { get; init; } = 1000;

    /// <summary>Economies simulated side by side (by each rank).</summary>
    public int Trajectories { get; init; } = 64;

    /// <summary>
    /// Ranks of a data-parallel solve: each simulates <see cref="Trajectories"/> economies from its own random stream,
    /// and a step's gradient is the mean of the ranks' (so the learning rate means what it means with one). Under MPI
    /// the ranks are the processes (<see cref="SolveOptions.Group"/>); on one process they are simulated one after another,
    /// which computes the same steps — a cluster run can be replayed on a laptop.
    /// </summary>
    public int Ranks { get; init; } = 1;

    /// <summary>Periods simulated per episode; the visited states (trajectories × length) are the episode's training set.</summary>
    public int EpisodeLength { get; init; } = 10;

    public int EpochsPerEpisode { get; init; } = 1;

    /// <summary>Minibatch size; 0 takes all of the episode's states in one step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Start every episode from fresh draws of the initial distributions instead of where the last one ended.</summary>
    public bool RedrawEachEpisode { get; init; }

    /// <summary>
    /// When episodes continue their paths: the share of the trajectories that restart from fresh draws of the initial
    /// distributions at each episode's start, so that training keeps covering the region a user asked about (where the
    /// verdict judges the policy) and not only the ergodic set, which may be a point (a deterministic economy) or a
    /// spurious place the policy drifted to. 0: pure continuing paths.
    /// </summary>
    public double Refresh { get; init; } = 0.25;

    /// <summary>
    /// Where the network starts: as the correction to the first-order perturbation solution (default), fitted to it, or
    /// at its random weights.
    /// </summary>
    /// <remarks>
    /// Correction by measurement (docs/solve-defaults.md, section 6): on every shipped model and the user models of
    /// bench/user-models as accurate or more (growth with CRRA 5: consumption 4.4e-5 at worst on the initial box
    /// against 1.2e-4 fitted), Adam's loss on the IRBC 14× lower after the episodes.
    /// </remarks>
    public WarmStartKind WarmStart { get; init; } = WarmStartKind.Correction;

    /// <summary>
    /// Weight of a penalty, in the episodes only, on the gap between the network's slopes at the steady state and the
    /// first-order solution's (<see cref="SlopeAnchor"/>): it keeps Adam from drifting to an explosive or spurious
    /// solution of the same equations; the polish drops it. 0: none; no effect without a first-order solution.
    /// </summary>
    public double SlopeAnchor { get; init; } = 0.01;

    /// <summary>Expectations over next period's normal shocks: Gauss–Hermite 5 per shock up to two shocks, monomial beyond (<see cref="QuadratureKind.Auto"/>).</summary>
    public QuadratureSpec Quadrature { get; init; } = new(QuadratureKind.Auto, 5);

    /// <summary>Gauss–Hermite with 5 nodes: the rule the shipped models' settings were measured with (one shock each).</summary>
    public static QuadratureSpec MeasuredQuadrature { get; } = new(QuadratureKind.GaussHermite, 5);

    /// <summary>Levenberg–Marquardt rounds after the last episode (<see cref="PolishSpec.Rounds"/>).</summary>
    public PolishSpec Polish { get; init; } = new();

    /// <summary>How the network's inputs are scaled: by the initial box (default) or by running statistics of the simulated states.</summary>
    public InputScaling InputScaling { get; init; } = InputScaling.InitialBox;

    /// <summary>Loss weights by equation name, over the model's own (<c>Model.EquationWeights</c>); empty: the model's.</summary>
    public IReadOnlyDictionary<string, double> EquationWeights
    {
        get;
        // Empty collections are one shared instance, so that specs without them compare equal (records compare references).
        init => field = value.Count == 0 ? NoWeights : value;
    } = NoWeights;

    private static readonly IReadOnlyDictionary<string, double> NoWeights = new Dictionary<string, double>();

    public double? MaxSeconds { get; init; }

    /// <summary>Stop when the episode's loss is at or below this.</summary>
    public double? TargetLoss { get; init; }

    /// <summary>Stop when the mean |residual| of every watched equation (<see cref="TargetEquations"/>) on the episode's states is at or below this.</summary>
    public double? TargetEulerError { get; init; }

    /// <summary>The equations (a vector equation's name covers its elements; "euler[3]" is one element) <see cref="TargetEulerError"/> watches; empty: all.</summary>
    public IReadOnlyList<string> TargetEquations
    {
        get;
        init => field = value.Count == 0 ? [] : value;
    } = [];

    /// <summary>Evaluate the residuals on the episode's states (per equation and penalty) and log every k episodes.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Histograms of states and policies every k episodes (0: none).</summary>
    public int HistogramEvery { get; init; } = 100;

    /// <summary>Atomic checkpoint every k episodes (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;

    public long Seed { get; init; }
    public string Device { get; init; } = "cpu";

    public void Validate()
    {
        if (Network.Hidden.Count == 0) throw new ArgumentException("the network needs at least one hidden layer");
        if (Episodes < 1) throw new ArgumentException($"episodes must be at least 1 (got {Episodes})");
        if (Trajectories < 1) throw new ArgumentException($"trajectories must be at least 1 (got {Trajectories})");
        if (Ranks < 1) throw new ArgumentException($"ranks must be at least 1 (got {Ranks})");
        if (EpisodeLength < 1) throw new ArgumentException($"episode length must be at least 1 (got {EpisodeLength})");
        if (EpochsPerEpisode < 1) throw new ArgumentException($"epochs per episode must be at least 1 (got {EpochsPerEpisode})");
        if (BatchSize < 0) throw new ArgumentException($"batch size must be ≥ 0 (got {BatchSize})");
        if (!(SlopeAnchor >= 0) || !double.IsFinite(SlopeAnchor)) throw new ArgumentException($"the slope anchor's weight must be finite and ≥ 0 (got {SlopeAnchor})");
        if (!(Refresh is >= 0 and <= 1)) throw new ArgumentException($"refresh must be a share in [0, 1] (got {Refresh})");
        if (LogEvery < 1) throw new ArgumentException($"log-every must be at least 1 (got {LogEvery})");
        foreach (var (name, weight) in EquationWeights)
            if (!(weight >= 0) || !double.IsFinite(weight)) throw new ArgumentException($"the loss weight of equation '{name}' must be finite and ≥ 0 (got {weight})");
        if (HistogramEvery < 0 || CheckpointEvery < 0) throw new ArgumentException("histogram-every and checkpoint-every must be ≥ 0");
        Polish.Validate();
        if (Polish.Rounds > 0 && !Network.Hidden.All(h => h.BatchNorm is null && h.Dropout == 0))
            throw new ArgumentException("the polish (Levenberg–Marquardt rounds) needs a network without batch norm or dropout");
        if (Optimization.Optimizer.Kind == OptimizerKind.Lbfgs) throw new ArgumentException("L-BFGS needs a fixed data set; DEQN's states change every episode (use adam, sgd, rmsprop…)");
        Optimization.Validate();
    }
}

/// <summary>
/// A second-order finish after the episodes, for errors of 1e-6 that Adam does not reach: each round simulates a fresh
/// sample of states under the current policy (as an episode does: from new draws of the initial distributions when
/// episodes redraw, else continuing the trajectories), then takes Levenberg–Marquardt steps on the mean squared
/// residuals of that fixed sample. Input scaling by simulated states is frozen while polishing.
/// </summary>
public sealed record PolishSpec
{
    /// <summary>Rounds after the last episode; 0: none.</summary>
    /// <remarks>
    /// 20 by measurement on models without tuned settings: on stochastic growth with CRRA 5, 6 rounds left consumption
    /// 5.7e-4 off on average on the ergodic set and 20 rounds 3.4e-5 (docs/solve-defaults.md); the shipped models set their own.
    /// </remarks>
    public int Rounds { get; init; } = 20;

    /// <summary>Economies in a round's sample; each equation element gives one least-squares row per economy.</summary>
    public int States { get; init; } = 1024;

    /// <summary>Levenberg–Marquardt steps per round.</summary>
    public int Steps { get; init; } = 10;

    /// <summary>
    /// The polish is undone, the weights from before it restored, when it left the network's slopes at the steady state
    /// further than this from the first-order solution's (the verdict's slope gap, whose tolerance it shares): a
    /// Gauss–Newton step can cross to a spurious root of the same equations. Whether the equations on fresh states were
    /// better after it goes to the verdict. 0: no guard.
    /// </summary>
    public double SlopeLimit { get; init; } = 0.01;

    /// <summary>
    /// Stop before the planned rounds once the loss on each round's fresh sample has stopped falling (the last two rounds
    /// each began above half the lowest start before them). Off by default: on the IRBC the loss flattened after round 6
    /// while the policy kept improving (investment 6.4e-4 of replacement off on average after 6 rounds, 1.4e-4 after 20;
    /// docs/solve-defaults.md, section 6), and the shipped models' errors swing from round to round while it is flat.
    /// </summary>
    public bool StopWhenConverged { get; init; }

    /// <summary>
    /// At most this many least-squares rows (economies × equation elements) per round: a model with many equations
    /// polishes on fewer economies. A budget, not a limit of the method: any size works (<see cref="Deqn.Training.Optimization.GaussNewton"/>
    /// stores the Jacobian up to 2 GiB and goes matrix-free beyond), but a step's cost grows with rows × weights.
    /// </summary>
    /// <remarks>
    /// 2,048 by measurement: the analytic OLG with 20 generations (107 economies a round) reached max policy error 8.4e-4
    /// from no warm start in 291 s; 20,000 rows (1,024 economies) cost 90 s a round instead of 10 (docs/solve-defaults.md, section 8).
    /// </remarks>
    public int MaxRows { get; init; } = 2048;

    public void Validate()
    {
        if (Rounds < 0) throw new ArgumentException($"polish rounds must be ≥ 0 (got {Rounds})");
        if (States < 1) throw new ArgumentException($"polish states must be at least 1 (got {States})");
        if (Steps < 1) throw new ArgumentException($"polish steps must be at least 1 (got {Steps})");
        if (MaxRows < 1) throw new ArgumentException($"polish rows must be at least 1 (got {MaxRows})");
    }
}

/// <summary>
/// A model that carries the solver settings measured to work for it; <see cref="Solver.Run(Model, SolveOptions?)"/> and
/// <c>deqn solve</c> both start from them.
/// </summary>
public interface IRecommendsSolver
{
    SolverSpec Recommended { get; }
}
