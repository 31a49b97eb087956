using System.Diagnostics;
using Deqn.Training.Data;
using Deqn.Training.Engine;
using Deqn.Training.Logging;
using Deqn.Training.Loop;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deqn.Bench;

/// <summary>
/// What one timed block did: network-steps (optimizer steps times networks) in wall seconds and in this process's CPU
/// seconds, or why it could not run.
/// </summary>
internal readonly record struct BlockResult(long NetworkSteps, double Seconds, double CpuSeconds, string? Pending = null);

/// <summary>
/// Wall and process CPU time together. CPU time leaves out the time other people's processes took the core from us on
/// this shared machine, so it is the steadier of the two when the load is high.
/// </summary>
internal readonly struct BlockClock
{
    private readonly long _wallStart;
    private readonly TimeSpan _cpuStart;

    private BlockClock(long wall, TimeSpan cpu)
    {
        _wallStart = wall;
        _cpuStart = cpu;
    }

    public static BlockClock Start() => new(Stopwatch.GetTimestamp(), Cpu());

    public BlockResult Stop(long networkSteps)
    {
        var cpu = Cpu() - _cpuStart;
        return new BlockResult(networkSteps, Stopwatch.GetElapsedTime(_wallStart).TotalSeconds, cpu.TotalSeconds);
    }

    private static TimeSpan Cpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}

/// <summary>One way of training; keeps its weights and optimizer state from block to block.</summary>
internal interface IContender : IDisposable
{
    int Networks { get; }

    /// <summary>Trains for <paramref name="epochs"/> epochs of minibatches of <paramref name="batch"/> rows (0 or ≥ n: full batch).</summary>
    BlockResult Run(int batch, int epochs);
}

internal static class Contenders
{
    public static IContender Create(string name, Problem problem, string logFolder)
    {
        var slash = name.IndexOf('/');
        string kind = slash < 0 ? name : name[..slash];
        int k = slash < 0 ? 1 : int.Parse(name[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        if (k < 1) throw new ArgumentException($"K must be at least 1 (got {k})");
        return kind switch
        {
            "trainer" when slash < 0 => new TrainerContender(problem, seed: 1, logFolder: null),
            "trainer+logs" when slash < 0 => new TrainerContender(problem, seed: 1, logFolder: logFolder),
            "trainer+csv" when slash < 0 => new TrainerContender(problem, seed: 1, logFolder: logFolder, tensorBoard: false),
            "trainer+tensorboard" when slash < 0 => new TrainerContender(problem, seed: 1, logFolder: logFolder, csv: false),
            "torchsharp" when slash < 0 => new BareTorchSharp(problem),
            "trainers-seq" => new SequentialTrainers(problem, k),
            "torchsharp-stacked" => new StackedTorchSharp(problem, k),
            "ensemble" => new EnsembleContender(problem, k),
            _ => throw new ArgumentException($"unknown contender '{name}'"),
        };
    }

    public static int StepsPerEpoch(int n, int batch) => batch <= 0 || batch >= n ? 1 : (n + batch - 1) / batch;
}

/// <summary>
/// Our <see cref="Trainer"/> as a user would run it: one <c>Fit</c> per block, no validation set; either with no loggers
/// (so no histograms or gradient norms either) or with the CSV history and TensorBoard loggers at their defaults.
/// </summary>
internal sealed class TrainerContender : IContender
{
    private readonly Network _network;
    private readonly Optimizer _optimizer;
    private readonly Dataset _data;
    private readonly string? _logFolder;
    private readonly bool _csv, _tensorBoard;
    private long _fits;

    /// <param name="logFolder">Null: no loggers. Otherwise the CSV and/or TensorBoard loggers write under it.</param>
    public TrainerContender(Problem problem, long seed, string? logFolder, bool csv = true, bool tensorBoard = true)
    {
        _csv = csv;
        _tensorBoard = tensorBoard;
        using var generator = TorchEngine.Generator(seed);
        _network = new Network(Problem.NetworkSpec, generator);
        _optimizer = Optimizers.Create(Problem.Adam, _network.parameters());
        _data = problem.Dataset();
        _logFolder = logFolder;
    }

    public int Networks => 1;

    public BlockResult Run(int batch, int epochs)
    {
        _fits++;
        var spec = new TrainingSpec { Epochs = epochs, BatchSize = batch, Seed = _fits };
        if (_logFolder is null)
        {
            var clock = BlockClock.Start();
            var history = new Trainer(_network, _optimizer, spec).Fit(_data);
            return clock.Stop(history.Steps);
        }

        // Each Fit is its own run folder, as the CLI makes one per run; creating and closing the files is part of the cost.
        string runFolder = Path.Combine(_logFolder, $"run{_fits}");
        var timed = BlockClock.Start();
        long steps;
        var loggers = new List<ITrainingLogger>();
        if (_csv) loggers.Add(CsvHistoryLogger.ForRun(runFolder));
        if (_tensorBoard) loggers.Add(TensorBoardLogger.ForRun(runFolder));
        try
        {
            steps = new Trainer(_network, _optimizer, spec) { Loggers = loggers }.Fit(_data).Steps;
        }
        finally
        {
            foreach (var l in loggers) l.Dispose();
        }
        var result = timed.Stop(steps);
        Directory.Delete(runFolder, recursive: true);
        return result;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _network.Dispose();
        _data.Dispose();
    }
}

/// <summary>
/// The bare TorchSharp loop a user would write by hand for the same work: nn.Sequential, torch.optim.Adam, a randperm per
/// epoch and index_select per minibatch, backward and step; no callbacks, loggers, loss read-outs or snapshots.
/// </summary>
internal sealed class BareTorchSharp : IContender
{
    private readonly Sequential _model;
    private readonly torch.optim.Optimizer _optimizer;
    private readonly Tensor _x, _y;
    private readonly Generator _generator = new(7);

    public BareTorchSharp(Problem problem)
    {
        _model = nn.Sequential(
            nn.Linear(Problem.Inputs, Problem.Width), nn.Tanh(),
            nn.Linear(Problem.Width, Problem.Width), nn.Tanh(),
            nn.Linear(Problem.Width, Problem.Outputs));
        _optimizer = torch.optim.Adam(_model.parameters(), lr: 1e-3);
        _x = torch.tensor(problem.X, dtype: ScalarType.Float32);
        _y = torch.tensor(problem.Y, dtype: ScalarType.Float32);
    }

    public int Networks => 1;

    public BlockResult Run(int batch, int epochs)
    {
        long n = _x.shape[0], steps = 0;
        bool full = batch <= 0 || batch >= n;
        var clock = BlockClock.Start();
        for (int e = 0; e < epochs; e++)
        {
            using var epochScope = NewDisposeScope();
            if (full)
            {
                Step(_x, _y);
                steps++;
                continue;
            }
            var order = torch.randperm(n, generator: _generator);
            for (long start = 0; start < n; start += batch)
            {
                using var stepScope = NewDisposeScope();
                var rows = order.narrow(0, start, Math.Min(batch, n - start));
                Step(_x.index_select(0, rows), _y.index_select(0, rows));
                steps++;
            }
        }
        return clock.Stop(steps);
    }

    private void Step(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var loss = nn.functional.mse_loss(_model.forward(x), y);
        loss.backward();
        _optimizer.step();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _x.Dispose();
        _y.Dispose();
        _generator.Dispose();
    }
}

/// <summary>K networks trained one after the other, each by its own <see cref="Trainer"/>: what a user can do today.</summary>
internal sealed class SequentialTrainers : IContender
{
    private readonly TrainerContender[] _members;

    public SequentialTrainers(Problem problem, int k) =>
        _members = Enumerable.Range(0, k).Select(i => new TrainerContender(problem, seed: 100 + i, logFolder: null)).ToArray();

    public int Networks => _members.Length;

    public BlockResult Run(int batch, int epochs)
    {
        long steps = 0;
        double seconds = 0, cpu = 0;
        foreach (var m in _members)
        {
            var r = m.Run(batch, epochs);
            steps += r.NetworkSteps;
            seconds += r.Seconds;
            cpu += r.CpuSeconds;
        }
        return new BlockResult(steps, seconds, cpu);
    }

    public void Dispose()
    {
        foreach (var m in _members) m.Dispose();
    }
}

/// <summary>
/// The bare TorchSharp baseline for K networks together: weights stacked as [K, in, out], one bmm per layer, the
/// same minibatch for every member, loss = Σ_k mean_k so each member's gradient is its own, one torch.optim.Adam.
/// </summary>
internal sealed class StackedTorchSharp : IContender
{
    private readonly Parameter[] _weights, _biases;
    private readonly torch.optim.Optimizer _optimizer;
    private readonly Tensor _x, _y;
    private readonly Generator _generator = new(11);
    private readonly int _k;

    public StackedTorchSharp(Problem problem, int k)
    {
        _k = k;
        int[] widths = [Problem.Inputs, Problem.Width, Problem.Width, Problem.Outputs];
        _weights = new Parameter[widths.Length - 1];
        _biases = new Parameter[widths.Length - 1];
        using (var init = new Generator(13))
        using (NewDisposeScope())
        {
            for (int l = 0; l < _weights.Length; l++)
            {
                double limit = Math.Sqrt(6.0 / (widths[l] + widths[l + 1]));
                var w = torch.rand([k, widths[l], widths[l + 1]], generator: init).mul_(2 * limit).sub_(limit);
                _weights[l] = new Parameter(w.detach().clone().DetachFromDisposeScope());
                _biases[l] = new Parameter(torch.zeros([k, 1, widths[l + 1]]).DetachFromDisposeScope());
            }
        }
        _optimizer = torch.optim.Adam(_weights.Concat(_biases), lr: 1e-3);
        _x = torch.tensor(problem.X, dtype: ScalarType.Float32);
        _y = torch.tensor(problem.Y, dtype: ScalarType.Float32);
    }

    public int Networks => _k;

    public BlockResult Run(int batch, int epochs)
    {
        long n = _x.shape[0], steps = 0;
        bool full = batch <= 0 || batch >= n;
        var clock = BlockClock.Start();
        for (int e = 0; e < epochs; e++)
        {
            using var epochScope = NewDisposeScope();
            if (full)
            {
                Step(_x, _y);
                steps++;
                continue;
            }
            var order = torch.randperm(n, generator: _generator);
            for (long start = 0; start < n; start += batch)
            {
                using var stepScope = NewDisposeScope();
                var rows = order.narrow(0, start, Math.Min(batch, n - start));
                Step(_x.index_select(0, rows), _y.index_select(0, rows));
                steps++;
            }
        }
        return clock.Stop(steps * _k);
    }

    private void Step(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var h = x.unsqueeze(0).expand(_k, -1, -1);
        for (int l = 0; l < _weights.Length; l++)
        {
            h = torch.bmm(h, _weights[l]) + _biases[l];
            if (l < _weights.Length - 1) h = h.tanh();
        }
        var loss = (h - y.unsqueeze(0)).square().mean([1, 2]).sum();
        loss.backward();
        _optimizer.step();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var p in _weights.Concat(_biases)) p.Dispose();
        _x.Dispose();
        _y.Dispose();
        _generator.Dispose();
    }
}
