// Where the embedded default model (stories260K) lives: next to the binary, copied there at build time.
namespace Estuary.Cli.Hosting;

/// <summary>Resolves the model directory of a command.</summary>
internal static class DefaultModel
{
    /// <summary>The embedded model's folder.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "models", "stories260k");

    /// <summary><paramref name="model"/> if given, else the embedded default.</summary>
    public static string Resolve(string? model) => string.IsNullOrWhiteSpace(model) ? Directory : model;
}
