namespace Deqn.Training.Persistence;

/// <summary>Writes a file so that readers see the old content or the new, never a torn one.</summary>
public static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> with a temporary path in the same folder, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void WriteAllText(string path, string text) => Write(path, t => File.WriteAllText(t, text));
}
