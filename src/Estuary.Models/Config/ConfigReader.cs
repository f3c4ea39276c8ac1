// Typed access to config.json keys with errors that name the key and file.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>Reads typed values from a JSON object, naming the key on type errors.</summary>
internal sealed class ConfigReader(JsonObject json, string source)
{
    public string ArchitectureName()
    {
        if (json["architectures"] is JsonArray { Count: > 0 } arr && arr[0] is JsonValue v && v.TryGetValue(out string? name))
            return name;
        throw new InvalidDataException($"{source}: 'architectures' is missing or empty");
    }

    public int RequiredInt(string key) => Int(key) ?? throw new InvalidDataException($"{source}: required key '{key}' is missing");

    public int? Int(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d))
        {
            if (d is < int.MinValue or > int.MaxValue)
                throw new InvalidDataException($"{source}: '{key}' is out of range (got {node.ToJsonString()}; at most {int.MaxValue})");
            return (int)d;
        }
        throw new InvalidDataException($"{source}: '{key}' must be an integer (got {node.ToJsonString()})");
    }

    public double? Double(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d)) return d;
        throw new InvalidDataException($"{source}: '{key}' must be a number (got {node.ToJsonString()})");
    }

    public bool? Bool(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw new InvalidDataException($"{source}: '{key}' must be true or false (got {node.ToJsonString()})");
    }

    public string? String(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw new InvalidDataException($"{source}: '{key}' must be a string (got {node.ToJsonString()})");
    }

    public IReadOnlyList<int> IntOrList(string key)
    {
        var node = json[key];
        if (node is null) return [];
        if (node is JsonArray arr)
        {
            var list = new List<int>();
            foreach (var item in arr)
            {
                if (item is JsonValue iv && iv.TryGetValue(out int i)) list.Add(i);
                else throw new InvalidDataException($"{source}: '{key}' must hold integers");
            }
            return list;
        }
        return [Int(key)!.Value];
    }
}
