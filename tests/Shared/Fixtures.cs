// Locates ../shared/fixtures (beside the checkout, or any parent folder's shared/fixtures) for tests.
using System.Text.Json;

namespace Estuary.Testing;

internal static class Fixtures
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>Absolute path of the fixtures folder.</summary>
    public static string Root => s_root.Value;

    /// <summary>Absolute path of a fixture file or folder.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Parses a fixture JSON file.</summary>
    public static JsonDocument Json(params string[] parts) => JsonDocument.Parse(File.ReadAllBytes(Path(parts)));

    /// <summary>A JSON array of integers.</summary>
    public static int[] Ints(JsonElement e)
    {
        var r = new int[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray()) r[i++] = x.GetInt32();
        return r;
    }

    /// <summary>A JSON array of numbers as floats.</summary>
    public static float[] Floats(JsonElement e)
    {
        var r = new float[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray()) r[i++] = x.GetSingle();
        return r;
    }

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("ESTUARY_FIXTURES");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "fixtures");
            if (File.Exists(System.IO.Path.Combine(candidate, "README.md"))) return candidate;
        }
        throw new DirectoryNotFoundException("shared/fixtures not found above " + AppContext.BaseDirectory + "; set ESTUARY_FIXTURES");
    }
}
