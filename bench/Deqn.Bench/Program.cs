using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Deqn.Bench;
using Deqn.Training.Engine;
using Deqn.Training.Loop;
using TorchSharp;

// A worker driven by bench/driver.py over stdin/stdout, one JSON line per command, so that the driver can interleave
// rounds across processes without paying process start-up and warm-up inside any timed block.
//
//   serve <data.csv> <log-folder>   then lines:  run <contender> <batch> <epochs>  |  info  |  quit
//
// Contenders: trainer, trainer+logs (CSV + TensorBoard), trainer+csv, trainer+tensorboard, torchsharp, and for K networks:
// trainers-seq/K, torchsharp-stacked/K, ensemble/K.
if (args.Length != 3 || args[0] != "serve")
{
    Console.Error.WriteLine("usage: Deqn.Bench serve <data.csv> <log-folder>   (normally started by bench/run)");
    return 2;
}

TorchEngine.SetThreads(1);
torch.set_num_interop_threads(1);
torch.random.manual_seed(0);
var problem = Problem.Load(args[1]);
var logRoot = args[2];
var contenders = new Dictionary<string, IContender>();
var options = new JsonSerializerOptions { WriteIndented = false };

string? line;
while ((line = Console.ReadLine()) is not null)
{
    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (parts.Length == 0) continue;
    object reply;
    try
    {
        reply = parts[0] switch
        {
            "quit" => new Dictionary<string, object> { ["ok"] = true },
            "info" => Info(),
            "run" when parts.Length == 4 => Run(parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture)),
            _ => throw new ArgumentException($"bad command '{line}'"),
        };
    }
    catch (Exception e)
    {
        reply = new Dictionary<string, object> { ["ok"] = false, ["error"] = e.Message.Split('\n')[0] };
    }
    Console.WriteLine(JsonSerializer.Serialize(reply, options));
    Console.Out.Flush();
    if (parts[0] == "quit") break;
}
foreach (var c in contenders.Values) c.Dispose();
return 0;

object Run(string name, int batch, int epochs)
{
    // One instance per (contender, batch) so each keeps training its own weights from round to round.
    string key = $"{name}@{batch}";
    if (!contenders.TryGetValue(key, out var contender))
    {
        contender = Contenders.Create(name, problem, Path.Combine(logRoot, key.Replace('/', '_').Replace('+', '_').Replace('@', '_')));
        contenders[key] = contender;
    }
    var result = contender.Run(batch, epochs);
    if (result.Pending is { } why)
        return new Dictionary<string, object> { ["ok"] = false, ["pending"] = true, ["error"] = why };
    return new Dictionary<string, object>
    {
        ["ok"] = true, ["contender"] = name, ["batch"] = batch, ["epochs"] = epochs, ["networks"] = contender.Networks,
        ["network_steps"] = result.NetworkSteps, ["seconds"] = result.Seconds, ["cpu_seconds"] = result.CpuSeconds,
    };
}

object Info() => new Dictionary<string, object>
{
    ["ok"] = true,
    ["dotnet"] = RuntimeInformation.FrameworkDescription,
    ["os"] = RuntimeInformation.OSDescription,
    ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
    ["torch_threads"] = torch.get_num_threads(),
    ["torch_interop_threads"] = torch.get_num_interop_threads(),
    ["server_gc"] = System.Runtime.GCSettings.IsServerGC,
    ["ensembles_in_library"] = true,
    ["trainer_assembly"] = typeof(Trainer).Assembly.GetName().Name ?? "?",
};
