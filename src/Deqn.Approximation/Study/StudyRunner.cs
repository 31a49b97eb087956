using System.Text.Json;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Persistence;

namespace Deqn.Approximation.Study;

/// <summary>What a study run produced: every experiment's result (reused and new) and whether it finished.</summary>
public sealed record StudyResults(IReadOnlyList<ExperimentResult> Results, int Planned, int Reused, int Ran, bool Completed, TimeSpan Elapsed);

/// <summary>
/// A unit of work: experiments of one configuration and N trained together as one stacked model, or one experiment on
/// its own. <see cref="Cost"/> (members × N) is what plans and shards are ordered and balanced by.
/// </summary>
public sealed record WorkUnit(IReadOnlyList<ExperimentKey> Keys, bool Stacked)
{
    public long Cost => (long)Keys.Count * Keys[0].N;
}

/// <summary>
/// How a study is split into <see cref="Count"/> shards: the whole study's units of work, in plan order, and the shard
/// each one goes to. A unit is never split, so every experiment trains in the same unit as in an unsharded run planned
/// the same way.
/// </summary>
public sealed record ShardPlan(IReadOnlyList<WorkUnit> Units, IReadOnlyList<int> ShardOfUnit, int Count)
{
    /// <summary>The units of one shard, in plan order (the most expensive first).</summary>
    public IReadOnlyList<WorkUnit> UnitsOf(int shard) => Units.Where((_, i) => ShardOfUnit[i] == shard).ToList();

    /// <summary>The experiments of one shard.</summary>
    public IReadOnlySet<ExperimentKey> KeysOf(int shard) => UnitsOf(shard).SelectMany(u => u.Keys).ToHashSet();

    /// <summary>
    /// Longest-processing-time assignment: units in order of decreasing cost (ties: plan order) each go to the shard
    /// with the least cost so far (ties: the lowest shard). Deterministic, and within 4/3 of the best balance.
    /// </summary>
    public static int[] Assign(IReadOnlyList<long> costs, int shards)
    {
        if (shards < 1) throw new ArgumentException($"a study is split into at least 1 shard (got {shards})");
        var load = new long[shards];
        var shardOf = new int[costs.Count];
        foreach (int u in Enumerable.Range(0, costs.Count).OrderByDescending(i => costs[i]))
        {
            int best = 0;
            for (int s = 1; s < shards; s++)
                if (load[s] < load[best]) best = s;
            shardOf[u] = best;
            load[best] += costs[u];
        }
        return shardOf;
    }
}

/// <summary>
/// Runs a study, or one shard of it: plans the experiments, reuses those a previous run of the same folder finished,
/// trains the rest on <see cref="StudySpec.Parallelism"/> threads (stacking same-shape experiments where that pays), and
/// writes each experiment's result, model and history as soon as it finishes, so an interrupted study can be resumed.
/// </summary>
public sealed class StudyRunner
{
    private readonly StudySpec _spec;
    private readonly string? _folder;
    private readonly object _gate = new();

    public StudyRunner(StudySpec spec, string? runFolder)
    {
        spec.Validate();
        _spec = spec;
        _folder = runFolder;
    }

    /// <summary>
    /// Run only this share of the study (null: all of it). The units of work are planned on the whole study as
    /// <see cref="PlanShards"/> does, independently of <see cref="StudySpec.Parallelism"/>, so shards run with different
    /// --parallel still partition the study.
    /// </summary>
    public StudyShard? Shard { get; init; }

    /// <summary>Called once with the number of experiments left to run.</summary>
    public Action<int>? OnPlanned { get; init; }

    /// <summary>Called (serialized) after each experiment is saved.</summary>
    public Action<ExperimentResult>? OnExperimentDone { get; init; }

    public IEnumerable<ExperimentKey> AllKeys()
    {
        for (int c = 0; c < _spec.Configurations.Count; c++)
            for (int f = 0; f < _spec.Functions.Count; f++)
                foreach (var n in _spec.SampleSizes)
                    foreach (var seed in _spec.Seeds)
                        yield return new ExperimentKey(c, f, n, seed);
    }

    /// <summary>The experiments this runner is responsible for: the whole study's, or its shard's, in <see cref="AllKeys"/> order.</summary>
    public IReadOnlyList<ExperimentKey> Keys()
    {
        if (Shard is not { } shard) return AllKeys().ToList();
        var mine = PlanShards(shard.Count).KeysOf(shard.Index);
        return AllKeys().Where(mine.Contains).ToList();
    }

    /// <summary>
    /// The whole study's units of work as a fresh, unsharded run with <c>--parallel</c> = <paramref name="shards"/> plans
    /// them (the same stacks, cut into the same chunks), assigned to <paramref name="shards"/> shards by
    /// <see cref="ShardPlan.Assign"/> on their cost. It depends only on the study and the number of shards, never on the
    /// parallelism a shard runs with.
    /// </summary>
    public ShardPlan PlanShards(int shards)
    {
        var units = Plan(AllKeys().ToList(), shards);
        return new ShardPlan(units, ShardPlan.Assign(units.Select(u => u.Cost).ToArray(), shards), shards);
    }

    public string ExperimentFolder(ExperimentKey key) => Path.Combine(_folder!, "experiments", key.Id);

    /// <summary>Results already saved in the run folder for this runner's experiments (<see cref="Keys"/>).</summary>
    public Dictionary<ExperimentKey, ExperimentResult> LoadFinished()
    {
        var done = new Dictionary<ExperimentKey, ExperimentResult>();
        if (_folder is null) return done;
        foreach (var key in Keys())
        {
            var file = Path.Combine(ExperimentFolder(key), "result.json");
            if (!File.Exists(file)) continue;
            var r = JsonSerializer.Deserialize<ExperimentResult>(File.ReadAllText(file), TrainedModel.Json);
            if (r is not null && r.Key == key) done[key] = r;
        }
        return done;
    }

    public StudyResults Run(CancellationToken cancel = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var tests = _spec.Functions.Select(f => Experiments.TestSetFor(_spec, f)).ToArray();
        WriteTestSets(tests);
        var keys = Keys();
        var finished = LoadFinished();
        int reused = finished.Count;
        var missing = keys.Where(k => !finished.ContainsKey(k)).ToList();
        List<WorkUnit> units;
        if (Shard is { } shard)
        {
            // The shard's units of the whole study's plan, less what an earlier run of this folder finished: a unit keeps
            // its remaining members together (and stays stacked), as close as a resumed run can come to the unit it was.
            units = PlanShards(shard.Count).UnitsOf(shard.Index)
                .Select(u => u with { Keys = u.Keys.Where(k => !finished.ContainsKey(k)).ToList() })
                .Where(u => u.Keys.Count > 0).ToList();
        }
        else
        {
            units = Plan(missing, _spec.Parallelism);
        }
        OnPlanned?.Invoke(missing.Count);

        var queue = new Queue<WorkUnit>(units);
        Exception? failure = null;
        int ran = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        void Worker()
        {
            while (true)
            {
                WorkUnit unit;
                lock (_gate)
                {
                    if (queue.Count == 0 || stop.IsCancellationRequested) return;
                    unit = queue.Dequeue();
                }
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        RunUnit(unit);
                        break;
                    }
                    // libtorch has failed, rarely and only on a heavily loaded machine with experiments on two threads, with an
                    // internal assertion that a rerun of the same experiments does not hit; a unit is therefore tried twice.
                    catch (System.Runtime.InteropServices.ExternalException) when (attempt == 1 && !stop.IsCancellationRequested)
                    {
                    }
                    catch (Exception e)
                    {
                        lock (_gate) failure ??= e;
                        stop.Cancel();
                        return;
                    }
                }
            }
        }

        void RunUnit(WorkUnit work)
        {
            var unit = work.Keys;
            var outcomes = !work.Stacked
                ? new[] { Experiments.RunSingle(_spec, unit[0], tests[unit[0].Function], _folder is null ? null : ExperimentFolder(unit[0]), stop.Token) }
                : Experiments.RunStacked(_spec, unit, unit.Select(k => tests[k.Function]).ToArray(), _folder is null ? null : unit.Select(ExperimentFolder).ToArray(), stop.Token);
            foreach (var o in outcomes)
            {
                using var model = o.Model;
                // An interrupted experiment is not a result: a resumed run trains it again.
                if (o.History.StopReason == StopReason.Interrupted) continue;
                Save(o);
                lock (_gate)
                {
                    finished[o.Result.Key] = o.Result;
                    ran++;
                    OnExperimentDone?.Invoke(o.Result);
                }
            }
        }

        int threads = Math.Min(_spec.Parallelism, Math.Max(1, units.Count));
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(Worker, 16 * 1024 * 1024)).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();

        var ordered = keys.Where(finished.ContainsKey).Select(k => finished[k]).ToList();
        return new StudyResults(ordered, keys.Count, reused, ran, ordered.Count == keys.Count, clock.Elapsed);
    }

    /// <summary>
    /// Groups the experiments into units of work: a stacked unit per configuration and N where stacking pays (split into
    /// up to two units per thread of <paramref name="parallelism"/>, at least four experiments each, so that threads
    /// finish together and a stack stops when its few members have converged), single experiments otherwise; the most
    /// expensive first.
    /// </summary>
    private List<WorkUnit> Plan(List<ExperimentKey> missing, int parallelism)
    {
        var units = new List<WorkUnit>();
        // Whether a group is stacked is decided on the whole study, not on what is missing, so that a resumed run trains
        // each experiment the same way as an uninterrupted one.
        var groupSizes = AllKeys().GroupBy(k => (k.Configuration, k.N, Dim: _spec.DomainOf(_spec.Functions[k.Function]).Dimension)).ToDictionary(g => g.Key, g => g.Count());
        foreach (var group in missing.GroupBy(k => (k.Configuration, k.N, Dim: _spec.DomainOf(_spec.Functions[k.Function]).Dimension)))
        {
            var keys = group.ToList();
            var config = _spec.Configurations[group.Key.Configuration];
            if (Experiments.CanStack(_spec, config, group.Key.N, groupSizes[group.Key], group.Key.Dim))
            {
                int chunks = Math.Max(1, Math.Min(2 * parallelism, keys.Count / 4));
                int size = (keys.Count + chunks - 1) / chunks;
                for (int i = 0; i < keys.Count; i += size)
                    units.Add(new WorkUnit(keys.Skip(i).Take(size).ToList(), Stacked: true));
            }
            else
            {
                units.AddRange(keys.Select(k => new WorkUnit(new[] { k }, Stacked: false)));
            }
        }
        return units.OrderByDescending(u => u.Cost).ToList();
    }

    /// <summary>data/test-f&lt;i&gt;.csv: each function's shared test points and true values, for other tools to score on the same points.</summary>
    private void WriteTestSets(IReadOnlyList<TestSet> tests)
    {
        if (_folder is null) return;
        for (int i = 0; i < tests.Count; i++)
        {
            var path = Path.Combine(_folder, "data", $"test-f{i + 1}.csv");
            if (File.Exists(path)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var names = Experiments.VariableNames(tests[i].Points.GetLength(1));
            AtomicFile.WriteAllText(path, PointsCsv(names, tests[i].Points, tests[i].Values, null));
        }
    }

    private static string PointsCsv(string[] names, double[,] x, IReadOnlyList<double> y, string[]? part)
    {
        var sb = new System.Text.StringBuilder(string.Join(',', names)).Append(",f");
        if (part is not null) sb.Append(",part");
        sb.Append('\n');
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        for (int i = 0; i < x.GetLength(0); i++)
        {
            for (int j = 0; j < x.GetLength(1); j++) sb.Append(x[i, j].ToString("R", inv)).Append(',');
            sb.Append(y[i].ToString("R", inv));
            if (part is not null) sb.Append(',').Append(part[i]);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private void Save(ExperimentOutcome o)
    {
        if (_folder is null) return;
        var dir = ExperimentFolder(o.Result.Key);
        Directory.CreateDirectory(dir);
        // points.csv: the experiment's N points and which were used for training or validation.
        var key = o.Result.Key;
        var data = Experiments.Sample(_spec, _spec.Functions[key.Function], key.N, key.Seed);
        var split = Experiments.SplitFor(_spec, _spec.Configurations[key.Configuration], key.N, key.Seed);
        var part = new string[key.N];
        foreach (var i in split.Train) part[i] = "train";
        foreach (var i in split.Validation) part[i] = "validation";
        AtomicFile.WriteAllText(Path.Combine(dir, "points.csv"),
            PointsCsv(data.FeatureNames.ToArray(), data.Features, Enumerable.Range(0, key.N).Select(i => data.Targets![i, 0]).ToArray(), part));
        o.Model.Save(Path.Combine(dir, "model.deqn"));
        // The result file is written last: its presence means the experiment is complete.
        AtomicFile.WriteAllText(Path.Combine(dir, "result.json"), JsonSerializer.Serialize(o.Result, TrainedModel.Json));
    }
}
