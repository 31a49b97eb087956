namespace Deqn.Cli;

public static class Entry
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("deqn: no commands yet");
        return 2;
    }
}
