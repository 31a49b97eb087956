using Deqn.Approximation.Functions;
using Deqn.Approximation.Study;
using Deqn.Testing;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Supervised;

namespace Deqn.Approximation.Tests.Study;

public sealed class StudyRunnerTests : IDisposable
{
    private readonly TempFolder _dir = new("deqn-study-");

    public void Dispose() => _dir.Dispose();

    private static StudySpec Small(int parallelism, bool stack, OptimizerKind optimizer = OptimizerKind.Adam) => new()
    {
        Functions = new[] { BuiltinFunctions.Get("poly1"), BuiltinFunctions.Get("trig1") },
        SampleSizes = new[] { 10, 40 },
        Seeds = new long[] { 0, 1 },
        TestPoints = 200,
        Parallelism = parallelism,
        BatchSameShape = stack,
        Configurations = new[]
        {
            new StudyConfiguration("default", new Dictionary<string, string>(), new SupervisedSpec
            {
                Network = new NetworkBodySpec { Hidden = [new LayerSpec(16), new LayerSpec(16)], Precision = Precision.Float64 },
                Optimization = new OptimizationSpec { Optimizer = new OptimizerSpec(optimizer) { LearningRate = optimizer == OptimizerKind.Lbfgs ? 1 : 0.01 } },
                Training = new() { Epochs = 30, BatchSize = 8 },
            }),
        },
    };

    private static double[] Errors(StudyResults r) => r.Results.SelectMany(x => new[] { x.MeanAbsError, x.MaxAbsError }).ToArray();

    [Theory]
    [InlineData(10, 10)]
    [InlineData(500, 500)]
    [InlineData(600, 500)]
    [InlineData(1500, 750)]
    [InlineData(5000, 1000)]
    public void Levenberg_Marquardt_fits_all_rows_up_to_its_limit_and_beyond_half_of_them_within_limits(int n, int rows) =>
        Assert.Equal(rows, Deqn.Training.Ensembles.StackedLevenbergMarquardt.Rows(n));

    [Fact]
    public void Beyond_its_row_limit_lm_fits_a_subsample_then_lbfgs_continues_on_all_rows()
    {
        // Given a study with lm, 4 epochs, at N = 600 (above the 500-row limit) and N = 100
        var study = Small(2, stack: true) with { Functions = [BuiltinFunctions.Get("trig1")], SampleSizes = [100, 600], Seeds = [0], ValidationFraction = 0 };
        var config = study.Configurations[0];
        config = config with { Spec = config.Spec with { Optimization = new OptimizationSpec { Optimizer = new OptimizerSpec(OptimizerKind.Lm) }, Training = config.Spec.Training with { Epochs = 4 } } };
        study = study with { Configurations = [config] };
        // Then the large experiment is given three times the epochs (up to 8 of LM on 500 rows, then L-BFGS on all 600)
        Assert.Equal(4, Experiments.SpecFor(study, config, 100, 0).Training.Epochs);
        Assert.Equal(12, Experiments.SpecFor(study, config, 600, 0).Training.Epochs);
        var results = new StudyRunner(study, null).Run().Results;
        var large = results.Single(r => r.Key.N == 600);
        // And it trains past the LM phase on all rows, to a fit no worse than the small experiment's
        Assert.True(large.Epochs > 8, $"{large.Epochs} epochs, stopped: {large.StopReason}");
        Assert.True(large.MeanAbsError < results.Single(r => r.Key.N == 100).MeanAbsError, $"N = 600: {large.MeanAbsError:G3}");
    }

    [Fact]
    public void Parallel_and_sequential_runs_give_identical_results()
    {
        // Given the same study run on one thread and on two
        var one = new StudyRunner(Small(1, stack: false), null).Run();
        var two = new StudyRunner(Small(2, stack: false), null).Run();

        // Then every experiment's errors are bit-identical, in the same order
        Assert.Equal(8, one.Results.Count);
        Assert.Equal(one.Results.Select(r => r.Key), two.Results.Select(r => r.Key));
        Assert.Equal(Errors(one), Errors(two));
    }

    [Fact]
    public void Stacked_training_matches_separate_training_up_to_rounding()
    {
        var separate = new StudyRunner(Small(1, stack: false), null).Run();
        var stacked = new StudyRunner(Small(2, stack: true), null).Run();

        Assert.Contains(stacked.Results, r => r.Mode == "stacked");
        for (int i = 0; i < separate.Results.Count; i++)
        {
            var a = separate.Results[i];
            var b = stacked.Results[i];
            Assert.Equal(a.Key, b.Key);
            Assert.Equal(a.Epochs, b.Epochs);
            Assert.Equal(a.MeanAbsError, b.MeanAbsError, 1e-9 * Math.Max(1, a.MeanAbsError));
            Assert.Equal(a.MaxAbsError, b.MaxAbsError, 1e-9 * Math.Max(1, a.MaxAbsError));
        }
    }

    [Fact]
    public void Resume_runs_exactly_the_missing_experiments()
    {
        // Given a study folder where three experiments were removed after a full run
        var spec = Small(2, stack: false);
        var full = new StudyRunner(spec, _dir.Path).Run();
        var runner = new StudyRunner(spec, _dir.Path);
        var removed = full.Results.Take(3).Select(r => r.Key).ToArray();
        foreach (var key in removed) Directory.Delete(runner.ExperimentFolder(key), recursive: true);

        // When it is resumed
        var ran = new List<ExperimentKey>();
        var resumed = new StudyRunner(spec, _dir.Path) { OnExperimentDone = r => ran.Add(r.Key) }.Run();

        // Then only those three were trained, and the results equal the uninterrupted run's
        Assert.Equal(removed.OrderBy(k => k.Id), ran.OrderBy(k => k.Id));
        Assert.Equal(5, resumed.Reused);
        Assert.True(resumed.Completed);
        Assert.Equal(Errors(full), Errors(resumed));
    }

    [Fact]
    public void A_cancelled_study_keeps_finished_experiments_and_reports_it_is_incomplete()
    {
        using var cancel = new CancellationTokenSource();
        int done = 0;
        var runner = new StudyRunner(Small(1, stack: false), _dir.Path) { OnExperimentDone = _ => { if (++done == 2) cancel.Cancel(); } };

        var partial = runner.Run(cancel.Token);

        Assert.False(partial.Completed);
        Assert.Equal(2, partial.Results.Count);
        Assert.Equal(2, Directory.GetFiles(_dir.File("experiments"), "result.json", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Training_points_are_shared_across_functions_and_configurations_and_lie_in_the_domain()
    {
        var spec = Small(1, stack: false);
        var a = Experiments.Sample(spec, spec.Functions[0], 40, 1);
        var b = Experiments.Sample(spec, spec.Functions[1], 40, 1);
        var c = Experiments.Sample(spec, spec.Functions[0], 40, 2);
        Assert.Equal(a.Features, b.Features);
        Assert.NotEqual(a.Features, c.Features);
        foreach (var v in a.Features) Assert.InRange(v, 0, 1);
        Assert.Equal(spec.Functions[0].Evaluate(a.Features), Enumerable.Range(0, 40).Select(i => a.Targets![i, 0]));
    }

    [Fact]
    public void Noise_is_added_to_the_sampled_values_at_the_stated_share_of_fs_spread_and_the_same_on_every_call()
    {
        // Given a study whose samples carry noise of 0.25× f's standard deviation on the test points
        var spec = Small(1, stack: false) with { Noise = 0.25 };
        var f = spec.Functions[0];
        var test = Experiments.TestSetFor(spec, f).Values;
        double fSd = Math.Sqrt(test.Select(v => (v - test.Average()) * (v - test.Average())).Average());
        // When 4,000 points are sampled twice, and once without noise
        var noisy = Experiments.Sample(spec, f, 4000, 3);
        var again = Experiments.Sample(spec, f, 4000, 3);
        var clean = Experiments.Sample(spec with { Noise = 0 }, f, 4000, 3);
        var e = Enumerable.Range(0, 4000).Select(i => noisy.Targets![i, 0] - clean.Targets![i, 0]).ToArray();
        // Then the points are the same, the differences have mean ≈ 0 and sd ≈ 0.25 · sd(f) (4,000 draws: within 5 %),
        // and the noise is reproducible
        Assert.Equal(clean.Features, noisy.Features);
        Assert.InRange(e.Average(), -0.1 * 0.25 * fSd, 0.1 * 0.25 * fSd);
        Assert.InRange(Math.Sqrt(e.Select(v => v * v).Average()), 0.95 * 0.25 * fSd, 1.05 * 0.25 * fSd);
        Assert.Equal(noisy.Targets, again.Targets);
    }

    [Fact]
    public void Ten_points_train_without_a_hold_out_and_larger_samples_keep_a_fifth_for_validation()
    {
        var spec = Small(1, stack: false);
        var all = new StudyRunner(spec, null).Run().Results;
        var ten = all.Where(r => r.Key.N == 10).ToArray();
        var forty = all.Where(r => r.Key.N == 40).ToArray();
        Assert.All(ten, r => Assert.Equal((10, 0), (r.TrainPoints, r.ValidationPoints)));
        Assert.All(forty, r => Assert.Equal((32, 8), (r.TrainPoints, r.ValidationPoints)));
    }
}
