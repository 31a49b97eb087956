namespace Deqn.Testing;

/// <summary>Files of the repository the tests run from, and the shared example data sets beside it.</summary>
public static class RepositoryFiles
{
    /// <summary>The folder holding Deqn.slnx above the test binaries, or null when there is none.</summary>
    public static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Deqn.slnx"))) return dir.FullName;
        return null;
    }

    /// <summary>The repository root; throws when the tests do not run from inside a checkout.</summary>
    public static string Root =>
        FindRoot() ?? throw new InvalidOperationException("cannot find the repository root (Deqn.slnx) above " + AppContext.BaseDirectory);

    /// <summary>
    /// The folder of the shared example data sets: DEQN_SHARED_DATA if set (a checkout elsewhere has no ../shared beside
    /// it), else ../shared/data next to the repository root; null when neither can be located.
    /// </summary>
    public static string? SharedDataFolder()
    {
        if (Environment.GetEnvironmentVariable("DEQN_SHARED_DATA") is { Length: > 0 } overridden) return overridden;
        return FindRoot() is { } root ? Path.GetFullPath(Path.Combine(root, "..", "shared", "data")) : null;
    }
}
