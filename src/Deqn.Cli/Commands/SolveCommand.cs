using System.Globalization;
using Deqn.Cli.Options;
using Deqn.Training.Distributed;
using Deqn.Cli.Runs;
using Deqn.Equilibrium.Diagnostics;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Perturbation;
using Deqn.Equilibrium.Simulation;
using Deqn.Equilibrium.Models;
using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Data;
using Deqn.Training.Logging;
using Deqn.Training.Networks;
using Deqn.Training.Persistence;
using Spectre.Console;
using Deqn.Cli.Output;
using Deqn.Training.Loop;

namespace Deqn.Cli.Commands;

/// <summary>
/// <c>deqn solve &lt;model&gt;</c>: Deep Equilibrium Nets. Trains a network until the model's equilibrium conditions hold on
/// the states the economy visits, then checks the solution (Euler errors on a fresh path, closed form or reference).
/// </summary>
public sealed class SolveCommand : CliCommand
{
    public const string CheckpointFile = "checkpoints/last.ckpt";
    public const string PolicyFile = "policy.deqn";

    public override string Name => "solve";

    public override string Description =>
        "Solve a dynamic stochastic model with Deep Equilibrium Nets: each episode simulates trajectories under the current " +
        "policy, then trains on the visited states to make the equilibrium conditions hold (mean squared residuals, float64). " +
        "Afterwards the solution is checked: relative Euler errors on a fresh 10,000-period path with a finer quadrature, and " +
        "the policy against the closed form or a time-iteration reference. Writes a run folder with the merged config, " +
        "history.csv, TensorBoard events, checkpoints, the policy network, CSVs, plots and report.md. Schedules count episodes. " +
        "Each shipped model brings its measured settings (episodes, lr, schedule…; see 'deqn models'), which replace the defaults " +
        "shown below unless a config file or option sets them.";

    public override IReadOnlyList<string> Examples => new[]
    {
        "./deqn solve brock-mirman",
        "./deqn solve brock-mirman-stochastic --episodes 2000",
        "./deqn solve stochastic-growth --config configs/solve-stochastic-growth.yaml",
        "./deqn solve stochastic-growth --set delta=0.05 --set beta=0.98 --lr 3e-4",
        "./deqn solve stochastic-growth --resume runs/solve-stochastic-growth-20261127-101500",
    };

    /// <param name="catalog">The models it can solve; the shipped ones when null (a program of your own passes its catalog to <see cref="Entry.Run"/>).</param>
    public SolveCommand(ModelCatalog? catalog = null) => Catalog = catalog ?? BuiltinModels.Catalog();

    public ModelCatalog Catalog { get; }

    public override IReadOnlyList<OptionDef> Positionals { get; } = new OptionDef[]
    {
        new("model", "brock-mirman", "the model to solve (see 'deqn models')", "Model", ValueName: "name"),
    };

    private static readonly string[] SharedNames =
    {
        "layers", "activation", "init", "init-mean", "init-std", "init-min", "init-max", "init-scale", "init-mode", "init-distribution", "bias-init", "precision",
        "optimizer", "lr", "momentum", "beta1", "beta2", "rho", "epsilon", "weight-decay", "initial-accumulator", "defaults", "epsilon-outside-sqrt",
        "clip-value", "clip-norm", "schedule", "step-every", "gamma", "decay-epochs", "cosine-epochs", "min-lr", "warmup-epochs",
    };

    /// <summary>
    /// The options; every default that a solver spec determines is <c>new SolverSpec()</c>'s (docs/solve-defaults.md
    /// measured them: swish, float64, Adam with PyTorch's ε outside the root…).
    /// </summary>
    protected override IReadOnlyList<OptionDef> OwnOptions { get; } = SpecSettings.WithDefaults(new OptionDef[]
    {
        new("calibration", null, "the model's parameters as name=value;name=value (a config file may give a 'calibration:' section)", "Model", ValueName: "pairs"),
        new("set", null, "override one model parameter or setting: key=value (repeatable), e.g. --set delta=0.1", "Model", ValueName: "key=value", Repeatable: true),

        new("episodes", "1000", "maximum number of episodes", "Episodes", ValueName: "n"),
        new("trajectories", "64", "economies simulated side by side (by each rank)", "Episodes", ValueName: "n"),
        new("ranks", "1", "data-parallel ranks, each simulating --trajectories economies from its own random stream, a step averaging their gradients: under mpirun the processes (leave it out, or give their number); on one process simulated in turn, which computes the same steps", "Episodes", ValueName: "n"),
        new("episode-length", "10", "periods simulated per episode; the visited states are the episode's training set", "Episodes", ValueName: "n"),
        new("epochs-per-episode", "1", "passes over an episode's states", "Episodes", ValueName: "n"),
        new("batch-size", "64", "minibatch size (0: all of an episode's states in one step)", "Episodes", ValueName: "n"),
        new("redraw", "false", "start every episode from fresh draws of the initial distributions instead of where the last ended", "Episodes", Flag: true),
        new("refresh", "0.25", "with continuing paths: the share of the trajectories that restart from fresh draws of the initial distributions each episode, so training keeps covering the region the verdict checks (0: none)", "Episodes", ValueName: "share"),
        new("slope-anchor", "0.01", "weight of a penalty in the episodes (not the polish) on the gap between the network's slopes at the steady state and the first-order solution's, which keeps training off explosive and spurious solutions (0: none)", "Episodes", ValueName: "weight"),
        new("warm-start", "correction", "where the network starts: correction (the first-order perturbation solution around the steady state as a fixed part of the raw outputs; the network learns the rest, from zero), linear (the network fitted to the first-order solution) or none (random weights)", "Episodes", ValueName: "how"),
        new("quadrature", "auto", "expectations over next period's shocks: auto (the Gauss–Hermite product up to two shocks, monomial beyond), gauss-hermite (product rule, --nodes per shock), monomial (degree 5, 2d²+1 nodes, up to 4 shocks; degree 3, 2d nodes, beyond: the degree-5 rule has negative weights there), monomial3, monomial5 or pseudo-random", "Episodes", ValueName: "rule"),
        new("nodes", "5", "Gauss–Hermite nodes per shock, or pseudo-random draws", "Episodes", ValueName: "n"),
        new("input-scaling", "box", "how the network's inputs are scaled: box (states by their initial ranges) or simulated (running mean and spread of the simulated states; features always are)", "Episodes", ValueName: "how"),
        new("polish-rounds", "0", "after the episodes, rounds of Levenberg–Marquardt steps on a fresh sample of simulated states each (for errors Adam does not reach; 0: none)", "Polish", ValueName: "n"),
        new("polish-states", "1024", "economies in a polish round's sample", "Polish", ValueName: "n"),
        new("polish-steps", "10", "Levenberg–Marquardt steps per polish round", "Polish", ValueName: "n"),
        new("polish-rows", "2048", "least-squares rows (economies × equation elements) a polish round uses at most: its cost; any size works (the Jacobian is stored up to 2 GiB, matrix-free beyond)", "Polish", ValueName: "n"),
        new("polish-stop-converged", "false", "end the polish before its planned rounds once the loss on each round's fresh sample stops falling (the last two rounds each began above half the lowest earlier start)", "Polish", ValueName: "true|false"),
        new("max-seconds", null, "wall-time budget for training", "Episodes", ValueName: "s"),
        new("target-loss", null, "stop when an episode's loss is at or below this", "Episodes", ValueName: "x"),
        new("target-euler", null, "stop when the mean |residual| of every watched equation (--target-equations) on an episode's states is at or below this", "Episodes", ValueName: "x"),
        new("target-equations", null, "the equations --target-euler watches, comma-separated (a vector equation's name covers its elements, 'euler[3]' is one element); default: all", "Episodes", ValueName: "names"),
        new("equation-weights", null, "loss weights by equation as name=weight;name=weight (default: the model's, 1 for each equation)", "Episodes", ValueName: "pairs"),
        new("target-policy-error", null, "stop when the largest relative error of a policy against the closed form or reference solution, on the grid over the reference's ergodic set, is at or below this", "Episodes", ValueName: "x"),
        new("track-reference", "true", "log the policy's error against the closed form or reference solution at every logged episode (history.csv, TensorBoard)", "Episodes", Flag: true),
        new("log-every", "10", "evaluate per-equation residuals and log every k episodes", "Episodes", ValueName: "k"),
        new("histogram-every", "100", "TensorBoard histograms of states and policies every k episodes (0: none)", "Episodes", ValueName: "k"),
        new("checkpoint-every", "100", "atomic checkpoint every k episodes (and always at the end)", "Episodes", ValueName: "k"),
        new("resume", null, "continue an interrupted solve from its run folder (its config.yaml and checkpoint); ends as an uninterrupted run would", "Episodes", ValueName: "run folder"),

        new("eval-periods", "10000", "length of the fresh simulated path the Euler errors are measured on", "Diagnostics", ValueName: "n"),
        new("eval-burn-in", "500", "periods simulated and dropped before that path", "Diagnostics", ValueName: "n"),
        new("eval-quadrature", "auto", "quadrature for the evaluation (auto: Gauss–Hermite with --eval-nodes per shock up to two shocks, finer than training's; monomial beyond)", "Diagnostics", ValueName: "rule"),
        new("eval-nodes", "10", "nodes per shock for the evaluation quadrature", "Diagnostics", ValueName: "n"),
        new("eval-grid", "50", "points per state of the grid the policy is compared on", "Diagnostics", ValueName: "n"),
        new("eval-seed", "20261127", "seed of the evaluation path (independent of training)", "Diagnostics", ValueName: "n"),
        new("verdict-mean-residual", "0.001", "the verdict 'solved' needs every equation's mean |residual| at or below this, on the fresh path and on the initial region", "Diagnostics", ValueName: "x"),
        new("verdict-max-residual", "0.01", "… and every equation's largest |residual| at or below this", "Diagnostics", ValueName: "x"),
        new("verdict-slope-tolerance", "0.01", "… and the policy's slopes at the steady state within this share of the first-order solution's (see docs/when-deqn-fails.md)", "Diagnostics", ValueName: "x"),
    }.Concat(TrainingOptions.Subset(SharedNames)), SolverSettings.Of(new SolverSpec()));

    public override int Execute(Settings s, Terminal terminal, CancellationToken cancel)
    {
        // Under mpirun every process runs this command; process 0 writes the run folder and talks, the others only train.
        if (OpenMpi.Launched is null) return Solve(s, terminal, cancel, SingleProcess.Instance);
        OpenMpi group;
        try { group = OpenMpi.World; }
        catch (InvalidOperationException e) { throw new SolverException(e.Message); }
        if (s.Source("ranks") == "default") s.Set("ranks", group.Size.ToString(CultureInfo.InvariantCulture), "mpirun");
        else if (s.Int("ranks", min: 1) != group.Size) throw s.Error("ranks", $"is {s.Int("ranks", min: 1)} but mpirun started {group.Size} processes; leave it out or make them equal");
        try
        {
            return Solve(s, group.Rank == 0 ? terminal : new Terminal(TextWriter.Null, terminal.Error, interactive: false), cancel, group);
        }
        catch (Exception e)
        {
            // A process that leaves alone would leave the others waiting in a collective: end the job, with the reason.
            terminal.Error.WriteLine($"deqn solve (process {group.Rank} of {group.Size}): {e.Message.Split('\n')[0].Trim()}");
            terminal.Error.Flush();
            group.Abort(e is UsageException or ArgumentException ? Entry.BadInput : Entry.Failure);
            throw;
        }
    }

    private int Solve(Settings s, Terminal terminal, CancellationToken cancel, IProcessGroup group)
    {
        bool lead = group.Rank == 0;
        RunFolder run;
        SolverCheckpoint? checkpoint = null;
        ModelEntry entry;
        Model model;
        if (s.String("resume") is { } resume)
        {
            (s, run) = Resumed(s, resume);
            checkpoint = SolverCheckpoint.Load(run.File(CheckpointFile));
            (entry, model) = BuildModel(s);
        }
        else
        {
            (entry, model) = Configure(s);
            // Only process 0 of a data-parallel solve has a run folder; the others know none (null).
            run = lead ? RunFolder.Create(s.String("out"), "solve", entry.Name, s) : null!;
        }
        var spec = BuildSolver(s);
        var diagnostics = BuildDiagnostics(s);
        // The merged config names every parameter of the model, so the run reproduces even if defaults change.
        s.Set("calibration", string.Join(';', model.Parameters.Select(p => $"{p.Name}={p.Value.ToString("R", CultureInfo.InvariantCulture)}")), s.Source("calibration") == "default" ? "resolved" : s.Source("calibration"));
        if (checkpoint is null && lead) run.WriteConfig("solve", s);

        var console = terminal.Console;
        bool quiet = s.Bool("quiet");
        console.MarkupLine($"[bold]deqn solve {Markup.Escape(entry.Name)}[/]: {Markup.Escape(model.Title)}");
        console.MarkupLine($"  {Markup.Escape(string.Join(", ", model.Parameters.Select(p => $"{p.Name} = {Format(p.Value)}")))}");
        console.MarkupLine($"  states {Markup.Escape(string.Join(", ", model.States.Select(Describe)))}; policies {Markup.Escape(string.Join(", ", model.Policies.Select(p => p.IsVector ? $"{p.Name}[{p.Size}]" : p.Name)))}; shocks {(!model.IsStochastic ? "none" : Markup.Escape(string.Join(", ", model.Shocks.Select(x => $"{x.Name} σ = {Format(x.Sigma)}").Concat(model.ChainStates.Select(c => $"{c.Name}: Markov chain, {c.Chain!.Count} states")))))}");
        console.MarkupLine($"  network {PolicyNetwork.InputWidth(model)} → {string.Join(" → ", spec.Network.Hidden.Select(h => $"{h.Width} {h.Activation.Name()}"))} → {model.PolicyWidth}, {spec.Network.Precision.ToString().ToLowerInvariant()}; {Markup.Escape(Deqn.Training.Optimization.Optimizers.Name(spec.Optimization.Optimizer.Kind))} lr {Format(spec.Optimization.Optimizer.Resolve().LearningRate)}; {spec.Episodes} episodes × {spec.Trajectories} trajectories × {spec.EpisodeLength} periods, {spec.EpochsPerEpisode} epoch(s), batch {spec.BatchSize}");
        console.MarkupLine($"  expectations: {Markup.Escape(Expectations(model, spec.Quadrature))}");
        if (spec.Polish.Rounds > 0)
            console.MarkupLine($"  then {spec.Polish.Rounds} polish rounds (episodes {spec.Episodes + 1}–{spec.Episodes + spec.Polish.Rounds}): {spec.Polish.Steps} Levenberg–Marquardt steps each on {spec.Polish.States} simulated states or {spec.Polish.MaxRows:N0} least-squares rows, whichever is fewer");
        if (checkpoint is not null) console.MarkupLine($"  resuming after episode {checkpoint.Episode} from {Markup.Escape(run.File(CheckpointFile))}");
        if (group.Size > 1) console.MarkupLine($"  data-parallel over {group.Size} MPI processes: {group.Size} × {spec.Trajectories} trajectories, gradients averaged every step");
        else if (spec.Ranks > 1) console.MarkupLine($"  {spec.Ranks} ranks simulated in this process: {spec.Ranks} × {spec.Trajectories} trajectories, gradients averaged every step");
        if (lead) console.MarkupLine($"  run folder: {Markup.Escape(run.Path)}");
        var linear = LinearSolution.Of(model);
        if (!quiet) PrintLinear(console, linear);

        var dtype = spec.Network.Precision == Precision.Float64 ? TorchSharp.torch.ScalarType.Float64 : TorchSharp.torch.ScalarType.Float32;
        double? targetPolicyError = s.PositiveOrNull("target-policy-error");
        IPolicyReference? reference = null;
        Func<IPolicyFunction, IReadOnlyDictionary<string, double>>? probe = null;
        if (s.Bool("track-reference") || targetPolicyError is not null)
        {
            // A numerical reference (time iteration…) is computed once: Reference() may take seconds.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            reference = SolutionDiagnostics.DefaultReference(model);
            if (reference is null && targetPolicyError is not null)
                throw s.Error("target-policy-error", $"{model.Title} has no closed form or reference solution to measure the policy against");
            if (reference is not null && !quiet)
                console.MarkupLine($"  checked against: {Markup.Escape(reference.Name)}" + (model.HasClosedForm ? "" : $" (computed in {clock.Elapsed.TotalSeconds:0.0} s)"));
            if (reference is not null)
                probe = SolutionDiagnostics.ReferenceProbe(model, reference, SolutionDiagnostics.Comparison(model, reference, diagnostics with { SampleSize = Math.Min(diagnostics.SampleSize, 2000) }, dtype, Math.Min(diagnostics.GridPoints, 30)).States, dtype);
        }

        SolveResult result;
        if (!lead)
        {
            using var trained = Solver.Run(model, spec, new SolveOptions { Resume = checkpoint, ModelName = entry.Name, Cancel = cancel, Probe = probe, Group = group, Linear = linear,
                Target = targetPolicyError is double target ? ("policy_max_rel_error", target) : null }).Policy;
            return 0;
        }
        var csv = new CsvHistoryLogger(run.File(CsvHistoryLogger.FileName), "episode");
        using (var logger = new CompositeLogger(
            csv,
            TensorBoardLogger.ForRun(run.Path),
            quiet ? NullLogger.Instance : terminal.Progress(["loss", "euler_mean", "euler_max", "policy_max_rel_error", "lr"], unit: "episode")))
        {
            logger.LogHyperparameters(s.All().Where(a => a.Value is not null).ToDictionary(a => a.Def.Name, a => a.Value!));
            try
            {
                result = Solver.Run(model, spec, new SolveOptions
            {
                Logger = logger,
                CheckpointPath = run.File(CheckpointFile),
                Resume = checkpoint,
                // history.csv is rewritten from the checkpoint; TensorBoard keeps its earlier event file.
                HistoryReplay = csv,
                ModelName = entry.Name,
                Cancel = cancel,
                Probe = probe,
                Linear = linear,
                Target = targetPolicyError is double t ? ("policy_max_rel_error", t) : null,
                Group = group,
            });
            }
            catch (SolverException e)
            {
                // The run folder says it failed, so an earlier report is never mistaken for this run's.
                string checkpointFile = run.File(CheckpointFile);
                var kept = File.Exists(checkpointFile) ? new[] { $"the last good checkpoint is {checkpointFile}" } : [];
                SolveReport.WriteFailure(run.Path, entry, model, spec, e.Message.Split('\n')[0].Trim(), kept, linear);
                throw;
            }
        }
        using var policy = result.Policy;
        if (result.WarmStart is { } warm && !quiet) console.MarkupLine($"  started from {Markup.Escape(warm)}");
        if (result.PolishHalted is { } halt && !quiet)
            console.MarkupLine($"  [yellow]the polish was undone[/]: its {halt.Round} round(s) moved the slopes at the steady state {Markup.Escape(Verdict.Percent(halt.Gap))} away from the first-order solution's " +
                (halt.EquationsPull ? "and lowered the residuals on fresh states (the equations favour other slopes: see the verdict)" : "but raised the residuals on fresh states (over-fitting its samples)") +
                "; the weights are those before the polish");
        if (result.Strays > 0 && !quiet)
            console.MarkupLine($"  {result.Strays:N0} continuing trajectories left the initial range widened by its width on each side and restarted from fresh draws");
        if (result.CollapsedAt is { } collapsed && !quiet)
            console.MarkupLine($"  paths collapsed to a point by episode {collapsed}: since then 3/4 of the trajectories restart from fresh draws each episode, and the polish samples fresh draws");
        if (group is OpenMpi mpi)
            console.MarkupLine($"  process 0 spent {mpi.InCollectives.TotalSeconds:0.00} s of {result.Seconds:0.00} s of training in MPI collectives ({100 * mpi.InCollectives.TotalSeconds / result.Seconds:0.#} %: averaging gradients, gathering states, waiting for the other processes)");
        SavePolicy(run, entry.Name, policy);
        if (result.Stop == StopReason.Interrupted)
        {
            console.MarkupLine($"[yellow]Interrupted[/] after episode {result.Episodes}; the checkpoint is saved. Continue with: ./deqn solve {Markup.Escape(entry.Name)} --resume {Markup.Escape(run.Path)}");
            return 130;
        }
        var notes = new List<string>();
        if (result.Stop == StopReason.Converged && result.PolishRounds.Run < result.PolishRounds.Planned && !quiet)
            console.MarkupLine($"  {Markup.Escape(result.StopMessage)}: {result.PolishRounds.Run} of the {result.PolishRounds.Planned} planned rounds ran");
        else if (result.PolishRounds.Run < result.PolishRounds.Planned)
        {
            string why = result.Stop == StopReason.TimeBudget ? $"the time budget (--max-seconds {Format(spec.MaxSeconds ?? 0)})" : "the stop";
            string note = $"{why} ended training after episode {result.Episodes}: {result.PolishRounds.Run} of the {result.PolishRounds.Planned} polish rounds ran" +
                (result.PolishRounds.Run == 0 ? ", so the solution is Adam's alone" : "");
            notes.Add(note);
            console.MarkupLine($"[yellow]{Markup.Escape(note)}[/]");
        }
        WriteTrainingStates(run, model, result.TrainingStates);
        console.MarkupLine($"Checking the solution on a fresh {diagnostics.Periods:N0}-period path and on the initial region…");
        // The diagnostics build their inputs on the CPU: a network trained elsewhere is moved there first.
        var checkedPolicy = policy;
        if (policy.Network.parameters().First().device.type != TorchSharp.DeviceType.CPU)
        {
            // The same inputs and outputs as trained: its scaling (and the statistics behind it) and its linear part.
            checkedPolicy = new PolicyNetwork(model, policy.Network.MoveTo(TorchSharp.torch.CPU), policy.Scaling) { Linear = policy.Linear };
            if (policy.Statistics is { } statistics) checkedPolicy.Restore(statistics);
        }
        var report = SolutionDiagnostics.Run(model, checkedPolicy, diagnostics, policy.Network.DType, reference);
        var assessment = Assess(s, model, checkedPolicy, report, linear, result.TrainingStates, diagnostics, policy.Network.DType, result.Guard) with { Notes = notes };
        SolveReport.Write(run.Path, entry, model, spec, result, report, diagnostics, s, assessment);
        SolveReport.Print(console, model, result, report, run.Path, assessment);
        return assessment.Verdict.Status == VerdictStatus.Failed ? Entry.Failure : 0;
    }

    /// <summary>How training takes expectations, with the node count: "monomial degree 5 (19 nodes): 19 next states per state".</summary>
    internal static string Expectations(Model model, QuadratureSpec quadrature)
    {
        var rule = model.Shocks.Count > 0 ? quadrature.Build(model.ShockCholesky, seed: 0) : null;
        var parts = (rule is null ? [] : new[] { rule.Rule }).Concat(model.ChainStates.Select(c => $"Markov chain {c.Name} ({c.Chain!.Count} states)")).ToArray();
        long next = (rule?.Count ?? 1) * model.ChainStates.Aggregate(1L, (p, c) => p * c.Chain!.Count);
        string how = parts.Length == 0 ? "none (deterministic)" : string.Join(" × ", parts);
        string redrawn = quadrature.Kind == QuadratureKind.PseudoRandom && rule is not null ? ", redrawn every step" : "";
        return $"{how}: {next:N0} next state{(next == 1 ? "" : "s")} per state{redrawn}";
    }

    /// <summary>The verdict with the thresholds the settings give; a check that cannot run makes it "failed" with the reason.</summary>
    internal static SolveAssessment Assess(Settings s, Model model, IPolicyFunction policy, SolutionReport report, LinearSolution linear, double[,] training,
        DiagnosticsSpec diagnostics, TorchSharp.torch.ScalarType dtype, PolishGuard? polish)
    {
        var thresholds = new VerdictSpec
        {
            MeanResidual = s.Positive("verdict-mean-residual"),
            MaxResidual = s.Positive("verdict-max-residual"),
            SlopeTolerance = s.Positive("verdict-slope-tolerance"),
        };
        Verdict verdict;
        try { verdict = Verdict.Judge(model, policy, report, linear, training, diagnostics, thresholds, dtype, polish); }
        catch (Exception e) when (e is InvalidOperationException or SimulationException or System.Runtime.InteropServices.ExternalException)
        {
            verdict = Verdict.Failure($"the checks could not run: {e.Message.Split('\n')[0].Trim()}");
        }
        return new SolveAssessment(verdict, linear, thresholds);
    }

    /// <summary>The steady state and the first-order solution in a few lines (long vectors shortened).</summary>
    internal static void PrintLinear(IAnsiConsole console, LinearSolution linear)
    {
        var steady = linear.SteadyState;
        static string Values(IReadOnlyList<(string Name, double Value)> values) =>
            string.Join(", ", values.Take(8).Select(v => $"{v.Name} = {Format(v.Value)}")) + (values.Count > 8 ? $", … ({values.Count} in all)" : "");
        if (steady.Found) console.MarkupLine($"  steady state: {Markup.Escape(Values(steady.States))}; {Markup.Escape(Values(steady.Policies))} ({Markup.Escape(steady.Message)})");
        else console.MarkupLine($"  steady state: [yellow]{Markup.Escape(steady.Message)}[/]");
        if (steady.Found) console.MarkupLine($"  first order: {(linear.Solved ? "" : "[yellow]")}{Markup.Escape(linear.Message)}{(linear.Solved ? "" : "[/]")}");
    }

    /// <summary>
    /// training-states.csv: up to 5,000 of the training sample (EpisodeWorkload.TrainingSample, thinned evenly), so that
    /// <c>evaluate</c> can judge the path against them, and a user can see where training happened.
    /// </summary>
    internal static void WriteTrainingStates(RunFolder run, Model model, double[,] states)
    {
        int n = states.GetLength(0);
        if (n == 0 || states.GetLength(1) != model.StateWidth) return;
        int kept = Math.Min(n, 5000);
        var columns = model.StateColumns.Select(c => c.Name).ToArray();
        Deqn.Reports.TidyCsv.Write(run.File(TrainingStatesFile), columns, Enumerable.Range(0, kept).Select(i =>
        {
            int row = (int)((long)i * n / kept);
            return (IReadOnlyList<object?>)Enumerable.Range(0, columns.Length).Select(j => (object?)states[row, j]).ToArray();
        }));
    }

    public const string TrainingStatesFile = "training-states.csv";

    /// <summary>
    /// Resolves a new solve's settings: --set pairs go to the model or the settings, the model is built, and the settings
    /// it recommends fill in whatever the file and command line left at the generic defaults.
    /// </summary>
    internal (ModelEntry Entry, Model Model) Configure(Settings s)
    {
        ApplySets(s);
        var (entry, model) = BuildModel(s);
        ApplyRecommended(s, entry, model);
        return (entry, model);
    }

    /// <summary>
    /// Applies each --set key=value: a parameter of the model goes into the calibration (so rho, gamma… mean the model's,
    /// not the optimizer's), another known setting replaces that setting, anything else is reported as an unknown parameter.
    /// </summary>
    private void ApplySets(Settings s)
    {
        if (s.String("set") is not { } sets) return;
        var entry = s.Parse("model", Catalog.Find);
        var modelParameters = entry.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var parameters = new List<string>();
        if (s.String("calibration") is { } c) parameters.Add(c);
        foreach (var pair in sets.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw new UsageException($"--set {pair}: expected key=value");
            var key = pair[..eq].Trim();
            var value = pair[(eq + 1)..].Trim();
            if (Settings.Canonical(key) is "set" or "calibration" or "config" or "resume") throw new UsageException($"--set {pair}: '{key}' cannot be set this way");
            if (!modelParameters.Contains(key) && s.IsKnown(key)) s.Set(key, value, $"--set {key}");
            else parameters.Add($"{key}={value}");
        }
        s.Set("calibration", string.Join(';', parameters), parameters.Count > (s.String("calibration") is null ? 0 : 1) ? "--set" : s.Source("calibration"));
        s.Set("set", null, "applied");
    }

    /// <summary>
    /// The settings the model recommends (<see cref="SolverSpec.For"/>, what <c>Solver.Run(model)</c> uses) replace the
    /// generic defaults wherever they differ, never a value given in a file or on the command line.
    /// </summary>
    private static void ApplyRecommended(Settings s, ModelEntry entry, Model model)
    {
        foreach (var (key, value) in SolverSettings.Differences(SolverSpec.For(model)))
            if (s.Source(key) == "default") s.Set(key, value, $"model {entry.Name}");
    }

    internal (ModelEntry Entry, Model Model) BuildModel(Settings s)
    {
        var entry = s.Parse("model", Catalog.Find);
        var overrides = s.Parse("calibration", v => ModelCatalog.ParseOverrides(v), allowEmpty: true);
        try { return (entry, entry.Create(overrides)); }
        catch (ArgumentException e) { throw new UsageException($"{Where(s, "calibration")}: {e.Message}"); }
    }

    private static string Where(Settings s, string key) => s.Source(key) switch
    {
        "default" or "resolved" => $"model {s.String("model")}",
        "command line" => "--calibration",
        var source when source.StartsWith("--set", StringComparison.Ordinal) => "--set",
        var source => $"{source}: calibration",
    };

    internal static SolverSpec BuildSolver(Settings s)
    {
        int episodes = s.Int("episodes", min: 1);
        var spec = new SolverSpec
        {
            Network = TrainingOptions.Network(s),
            Optimization = TrainingOptions.Optimization(s, episodes),
            Episodes = episodes,
            Trajectories = s.Int("trajectories", min: 1),
            Ranks = s.Int("ranks", min: 1),
            EpisodeLength = s.Int("episode-length", min: 1),
            EpochsPerEpisode = s.Int("epochs-per-episode", min: 1),
            BatchSize = s.Int("batch-size", min: 0),
            RedrawEachEpisode = s.Bool("redraw"),
            Refresh = s.Double("refresh") is var refresh and >= 0 and <= 1 ? refresh : throw s.Error("refresh", $"must be a share in [0, 1] (got {s.Raw("refresh")})"),
            SlopeAnchor = s.Double("slope-anchor") is var anchorWeight and >= 0 && double.IsFinite(anchorWeight) ? anchorWeight : throw s.Error("slope-anchor", $"must be finite and ≥ 0 (got {s.Raw("slope-anchor")})"),
            WarmStart = s.Parse("warm-start", v => v.Trim().ToLowerInvariant() switch
            {
                "linear" or "first-order" => WarmStartKind.Linear,
                "correction" => WarmStartKind.Correction,
                "none" or "random" => WarmStartKind.None,
                _ => throw new ArgumentException($"'{v}' is not linear, correction or none"),
            }),
            Quadrature = s.Parse("quadrature", v => QuadratureSpec.Parse(v, s.Int("nodes", min: 1))),
            InputScaling = s.Parse("input-scaling", v => v.Trim().ToLowerInvariant() switch
            {
                "box" or "initial-box" => InputScaling.InitialBox,
                "simulated" or "running" => InputScaling.Simulated,
                _ => throw new ArgumentException($"'{v}' is not box or simulated"),
            }),
            Polish = new PolishSpec { Rounds = s.Int("polish-rounds", min: 0), States = s.Int("polish-states", min: 1), Steps = s.Int("polish-steps", min: 1), MaxRows = s.Int("polish-rows", min: 1), StopWhenConverged = s.Bool("polish-stop-converged") },
            MaxSeconds = s.PositiveOrNull("max-seconds"),
            TargetLoss = s.PositiveOrNull("target-loss"),
            TargetEulerError = s.PositiveOrNull("target-euler"),
            TargetEquations = s.String("target-equations") is { } watched ? watched.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
            EquationWeights = s.Parse("equation-weights", v => ModelCatalog.ParseOverrides(v), allowEmpty: true),
            LogEvery = s.Int("log-every", min: 1),
            HistogramEvery = s.Int("histogram-every", min: 0),
            CheckpointEvery = s.Int("checkpoint-every", min: 0),
            Seed = s.Long("seed"),
            Device = s.Required("device", "cpu or cuda"),
        };
        if (spec.Optimization.Optimizer.Kind == Deqn.Training.Optimization.OptimizerKind.Lbfgs)
            throw s.Error("optimizer", "lbfgs needs a fixed data set; DEQN's states change every episode (use adam, rmsprop, sgd…)");
        if (spec.Network.Hidden.Any(h => h.Dropout > 0 || h.BatchNorm is not null)) throw new UsageException("dropout and batch norm are not supported by deqn solve");
        return spec;
    }

    internal static DiagnosticsSpec BuildDiagnostics(Settings s) => new()
    {
        Periods = s.Int("eval-periods", min: 10),
        BurnIn = s.Int("eval-burn-in", min: 0),
        Quadrature = s.Parse("eval-quadrature", v => QuadratureSpec.Parse(v, s.Int("eval-nodes", min: 1))),
        GridPoints = s.Int("eval-grid", min: 2),
        Seed = s.Long("eval-seed"),
    };

    /// <summary>The settings of the run being resumed: a solve run with a checkpoint, of the model named now (if one is).</summary>
    private static (Settings, RunFolder) Resumed(Settings now, string folder)
    {
        var config = Path.Combine(folder, "config.yaml");
        if (now.Source("model") == "command line" && File.Exists(config)
            && ConfigFile.Load(config).LastOrDefault(kv => Settings.Canonical(kv.Key) == "model").Value is { } saved
            && !string.Equals(saved, now.String("model"), StringComparison.OrdinalIgnoreCase))
            throw now.Error("resume", $"{folder} is a solve of model '{saved}', not '{now.String("model")}'");
        var (s, run) = RunFolder.Resume(now, folder, "solve", ["threads", "quiet", "max-seconds", "model"]);
        if (!File.Exists(run.File(CheckpointFile))) throw now.Error("resume", $"{folder} has no checkpoint ({CheckpointFile}); is it a solve run?");
        return (s, run);
    }

    private static string Describe(State x) => x.Chain is { } chain ? $"{x.Name} (Markov chain, {chain.Count} states)"
        : x.IsVector ? $"{x.Name}[{x.Size}] ~ {(x.Initials.Distinct().Count() == 1 ? x.Initial.ToString() : "per element")}" : $"{x.Name} ~ {x.Initial}";

    /// <summary>
    /// The trained network as a Deqn model file (<see cref="PolicyNetwork.ToTrainedModel"/>: inputs every state element
    /// scaled by its initial range or the simulated states' spread, then each Markov chain's state one-hot; outputs raw
    /// policy values, one per element), with the program that solved it, so that predict can say which program knows the model.
    /// </summary>
    private static void SavePolicy(RunFolder run, string name, PolicyNetwork policy)
    {
        var trained = policy.ToTrainedModel(name, new Dictionary<string, string> { [ProgramKey] = ProgramName });
        trained.Save(run.File(PolicyFile));
        trained.ExportSafetensors(run.File("policy.safetensors"));
    }

    /// <summary>Provenance key of a saved policy: the program that solved it (deqn, or a program with models of its own).</summary>
    internal const string ProgramKey = "program";

    internal static string ProgramName => System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "deqn";

    internal static string Format(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
