using Deqn.Training.Data;
using Deqn.Training.Networks;
using Deqn.Training.Optimization;
using Deqn.Training.Persistence;
using Deqn.Training.Supervised;

namespace Deqn.Training.Tests.Supervised;

public sealed class SupervisedFitTests
{
    private static TabularData Plane(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n, 2];
        var y = new double[n, 1];
        for (int i = 0; i < n; i++)
        {
            x[i, 0] = rng.NextDouble() * 10;
            x[i, 1] = rng.NextDouble() - 0.5;
            y[i, 0] = 3 * x[i, 0] - 20 * x[i, 1] + 100;
        }
        return TabularData.Regression(new[] { "a", "b" }, x, new[] { "y" }, y);
    }

    [Fact]
    public void The_readme_example_trains_tests_once_and_predicts_in_original_units()
    {
        // Given the README's library example, on a plane y = 3a − 20b + 100
        var data = Plane(300, 1);
        var spec = new SupervisedSpec
        {
            Network = new NetworkBodySpec { Hidden = [new LayerSpec(32, Activation.Tanh)] },
            Optimization = new OptimizationSpec { Optimizer = new OptimizerSpec(OptimizerKind.Adam) { LearningRate = 1e-2 } },
            EarlyStopping = new EarlyStoppingSpec(Patience: 50),
            Seed = 0,
        };

        // When
        var result = SupervisedFit.Run(spec, data);
        using var model = result.Model;

        // Then
        Assert.Equal((210, 60, 30), (result.Split.Train.Length, result.Split.Validation.Length, result.Split.Test.Length));
        Assert.True(result.TestMetrics["r2"] > 0.99, $"test R² {result.TestMetrics["r2"]}");
        var p = model.Predict(new double[,] { { 5, 0 } });
        Assert.InRange(p[0, 0], 113, 117);
    }

    [Fact]
    public void The_normalizers_are_fitted_on_the_training_rows_only()
    {
        var data = Plane(100, 2);
        var result = SupervisedFit.Run(new SupervisedSpec { Training = new() { Epochs = 1 }, EarlyStopping = null }, data);
        using var model = result.Model;
        double trainMean = result.Split.Train.Average(r => data.Features[r, 0]);
        double allMean = Enumerable.Range(0, 100).Average(r => data.Features[r, 0]);
        Assert.Equal(trainMean, model.Metadata.InputNormalizer.Offset[0], 12);
        Assert.NotEqual(allMean, model.Metadata.InputNormalizer.Offset[0]);
    }

    [Fact]
    public void Classification_reports_accuracy_and_a_confusion_matrix()
    {
        var rng = new Random(3);
        int n = 200;
        var x = new double[n, 2];
        var classes = new int[n];
        for (int i = 0; i < n; i++)
        {
            classes[i] = i % 3;
            x[i, 0] = classes[i] * 2 + rng.NextDouble();
            x[i, 1] = rng.NextDouble();
        }
        var data = new TabularData { FeatureNames = new[] { "u", "v" }, Features = x, TargetNames = new[] { "c" }, Classes = classes, ClassNames = new[] { "a", "b", "c" } };
        var result = SupervisedFit.Run(new SupervisedSpec { Task = TaskKind.Classification, Optimization = new OptimizationSpec { Optimizer = new OptimizerSpec { LearningRate = 0.01 } } }, data);
        using var model = result.Model;
        Assert.True(result.TestMetrics["accuracy"] >= 0.95, $"accuracy {result.TestMetrics["accuracy"]}");
        Assert.NotNull(result.TestClassification);
        Assert.Equal(result.Split.Test.Length, result.TestClassification!.ConfusionMatrix.Cast<int>().Sum());
        Assert.Contains("val_accuracy", result.History.Epochs[0].Metrics.Keys);
    }
}
