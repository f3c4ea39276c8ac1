// Typed access to config.json keys with errors that name the key and file (a nested object's keys as "parent.key").
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>Reads typed values from a JSON object, naming the key on type errors; <paramref name="keyPrefix"/> (e.g.
/// <c>"rope_scaling."</c>) is put before the key in messages when the object is nested.</summary>
internal sealed class ConfigReader(JsonObject json, string source, string keyPrefix = "")
{
    public string ArchitectureName()
    {
        if (json["architectures"] is JsonArray { Count: > 0 } arr && arr[0] is JsonValue v && v.TryGetValue(out string? name))
            return name;
        throw new InvalidDataException($"{source}: 'architectures' is missing or empty");
    }

    public int RequiredInt(string key) => Int(key) ?? throw new InvalidDataException($"{source}: required key '{Name(key)}' is missing");

    public int? Int(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d))
        {
            if (d is < int.MinValue or > int.MaxValue)
                throw new InvalidDataException($"{source}: '{Name(key)}' is out of range (got {node.ToJsonString()}; at most {int.MaxValue})");
            return (int)d;
        }
        throw new InvalidDataException($"{source}: '{Name(key)}' must be an integer (got {node.ToJsonString()})");
    }

    public double RequiredDouble(string key) => Double(key) ?? throw new InvalidDataException($"{source}: required key '{Name(key)}' is missing");

    public double? Double(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d)) return d;
        throw new InvalidDataException($"{source}: '{Name(key)}' must be a number (got {node.ToJsonString()})");
    }

    public bool? Bool(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw new InvalidDataException($"{source}: '{Name(key)}' must be true or false (got {node.ToJsonString()})");
    }

    public string? String(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw new InvalidDataException($"{source}: '{Name(key)}' must be a string (got {node.ToJsonString()})");
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
                else throw new InvalidDataException($"{source}: '{Name(key)}' must hold integers");
            }
            return list;
        }
        return [Int(key)!.Value];
    }

    // The key as messages name it.
    private string Name(string key) => keyPrefix + key;
}
