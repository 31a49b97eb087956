namespace Deqn.Training.Data;

/// <summary>
/// A problem with the user's data (a file, a column, a cell, too few rows). The message is one line that
/// names the file, row and column as applicable, so the command line can print it as it is.
/// </summary>
public sealed class DataException : Exception
{
    public DataException(string message) : base(message) { }

    public DataException(string message, Exception inner) : base(message, inner) { }
}
