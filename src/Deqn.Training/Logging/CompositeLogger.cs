using System.Runtime.ExceptionServices;

namespace Deqn.Training.Logging;

/// <summary>
/// Fans every call out to several loggers, in order, and disposes them with itself.
/// One failing logger does not starve the others: all are called, then the failure is rethrown
/// (an <see cref="AggregateException"/> when several failed).
/// </summary>
public sealed class CompositeLogger : ITrainingLogger
{
    private readonly ITrainingLogger[] _loggers;
    private bool _disposed;

    public CompositeLogger(params IEnumerable<ITrainingLogger> loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _loggers = loggers.ToArray();
        if (_loggers.Any(l => l is null))
            throw new ArgumentException("A logger is null.", nameof(loggers));
    }

    public IReadOnlyList<ITrainingLogger> Loggers => _loggers;

    public void Begin(int totalEpochs) => ForEach(l => l.Begin(totalEpochs));

    public void LogHyperparameters(IReadOnlyDictionary<string, string> hyperparameters) =>
        ForEach(l => l.LogHyperparameters(hyperparameters));

    public void LogScalars(long step, IReadOnlyDictionary<string, double> scalars) =>
        ForEach(l => l.LogScalars(step, scalars));

    public void LogHistogram(long step, string tag, ReadOnlySpan<double> values)
    {
        // A span cannot be captured by a lambda, hence the loop written out.
        List<Exception>? errors = null;
        foreach (var logger in _loggers)
        {
            try { logger.LogHistogram(step, tag, values); }
            catch (Exception e) { (errors ??= []).Add(e); }
        }
        Rethrow(errors);
    }

    public void Finish(string reason) => ForEach(l => l.Finish(reason));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ForEach(l => l.Dispose());
    }

    private void ForEach(Action<ITrainingLogger> call)
    {
        List<Exception>? errors = null;
        foreach (var logger in _loggers)
        {
            try { call(logger); }
            catch (Exception e) { (errors ??= []).Add(e); }
        }
        Rethrow(errors);
    }

    private static void Rethrow(List<Exception>? errors)
    {
        if (errors is null) return;
        if (errors.Count == 1) ExceptionDispatchInfo.Throw(errors[0]);
        throw new AggregateException(errors);
    }
}
