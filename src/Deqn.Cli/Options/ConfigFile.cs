using System.Globalization;
using Tomlyn;
using Tomlyn.Model;
using YamlDotNet.RepresentationModel;

namespace Deqn.Cli.Options;

/// <summary>
/// Reads a YAML or TOML config file into flat key → value pairs. Sections (nested tables or mappings) only group
/// keys for readability: <c>network: {layers: [64, 64]}</c> sets <c>layers</c>. Lists arrive joined by commas. Two sections
/// keep their contents together: <c>sweep</c> (axes to vary) and <c>calibration</c> (a model's parameters, as "name=value;…").
/// </summary>
public static class ConfigFile
{
    public static IReadOnlyList<(string Key, string? Value)> Load(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"{path}: config file not found");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"{path}: cannot read ({e.Message})"); }
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var result = new List<(string, string?)>();
        switch (ext)
        {
            case ".yaml" or ".yml":
                ReadYaml(path, text, result);
                break;
            case ".toml":
                ReadToml(path, text, result);
                break;
            default:
                throw new UsageException($"{path}: unknown config format '{ext}' (use .yaml, .yml or .toml)");
        }
        return result;
    }

    private static void ReadYaml(string path, string text, List<(string, string?)> result)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlDotNet.Core.YamlException e) { throw new UsageException($"{path}: line {e.Start.Line}, column {e.Start.Column}: {FirstLine(e.InnerException?.Message ?? e.Message)}"); }
        if (stream.Documents.Count == 0) return;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new UsageException($"{path}: the top level must be a mapping of keys to values");
        Flatten(path, root, result);
    }

    private static void Flatten(string path, YamlMappingNode map, List<(string, string?)> result)
    {
        foreach (var (keyNode, valueNode) in map.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            if (Settings.Canonical(key) == "sweep" && valueNode is YamlMappingNode axes)
            {
                // sweep: {layers: [[64, 64], [128, 128]], activation: [tanh, relu]} → "layers=64,64|128,128;activation=tanh|relu"
                result.Add(("sweep", string.Join(';', axes.Children.Select(a =>
                    $"{((YamlScalarNode)a.Key).Value}={string.Join('|', a.Value is YamlSequenceNode seq ? seq.Children.Select(YamlValue) : new[] { YamlValue(a.Value) })}"))));
                continue;
            }
            if (Settings.Canonical(key) == "calibration" && valueNode is YamlMappingNode parameters)
            {
                // calibration: {alpha: 0.36, delta: 0.1} → "alpha=0.36;delta=0.1": a model's parameters, checked against the model later.
                result.Add(("calibration", string.Join(';', parameters.Children.Select(p => $"{((YamlScalarNode)p.Key).Value}={YamlValue(p.Value)}"))));
                continue;
            }
            switch (valueNode)
            {
                case YamlMappingNode section:
                    Flatten(path, section, result);
                    break;
                case YamlSequenceNode list:
                    var items = new List<string>();
                    foreach (var item in list.Children)
                    {
                        if (item is YamlScalarNode s) items.Add(s.Value ?? "");
                        else if (item is YamlSequenceNode inner) items.Add(string.Join(' ', inner.Children.OfType<YamlScalarNode>().Select(x => x.Value)));
                        else throw new UsageException($"{path}: line {item.Start.Line}: key '{key}' takes a list of values");
                    }
                    result.Add((key, string.Join(',', items)));
                    break;
                case YamlScalarNode scalar:
                    result.Add((key, scalar.Value is "~" or "null" ? null : scalar.Value));
                    break;
            }
        }
    }

    private static string YamlValue(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode list => string.Join(',', list.Children.Select(YamlValue)),
        _ => throw new UsageException($"line {node.Start.Line}: a sweep value must be a value or a list"),
    };

    private static void ReadToml(string path, string text, List<(string, string?)> result)
    {
        TomlTable table;
        try { table = TomlSerializer.Deserialize<TomlTable>(text) ?? new TomlTable(); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw new UsageException($"{path}: {FirstLine(e.Message)}"); }
        Flatten(table, result);
    }

    private static void Flatten(TomlTable table, List<(string, string?)> result)
    {
        foreach (var (key, value) in table)
        {
            if (Settings.Canonical(key) == "sweep" && value is TomlTable axes)
            {
                result.Add(("sweep", string.Join(';', axes.Select(a =>
                    $"{a.Key}={string.Join('|', a.Value is TomlArray arr ? arr.Select(v => v is TomlArray inner ? string.Join(',', inner.Select(Scalar)) : Scalar(v)) : new[] { Scalar(a.Value) })}"))));
                continue;
            }
            if (Settings.Canonical(key) == "calibration" && value is TomlTable parameters)
            {
                result.Add(("calibration", string.Join(';', parameters.Select(p => $"{p.Key}={Scalar(p.Value)}"))));
                continue;
            }
            switch (value)
            {
                case TomlTable section: Flatten(section, result); break;
                case TomlArray array: result.Add((key, string.Join(',', array.Select(Scalar)))); break;
                default: result.Add((key, Scalar(value))); break;
            }
        }
    }

    private static string Scalar(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        TomlArray a => string.Join(' ', a.Select(Scalar)),
        _ => value.ToString() ?? "",
    };

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
