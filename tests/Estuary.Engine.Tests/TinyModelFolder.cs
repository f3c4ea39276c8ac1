// Copies one of the tiny Qwen2/Qwen3/Mistral/biased-Llama checkpoints (tests/Estuary.Models.Tests/Data/qwen-mistral) into a folder
// with a 96-piece SentencePiece tokenizer beside it, so the engine can load it (the tests feed token ids; pieces only name them).
using Estuary.Tokenization.Writing;

namespace Estuary.Engine.Tests;

internal static class TinyModelFolder
{
    /// <summary>The checked-in folder of <paramref name="model"/> (config.json, model.safetensors, reference.json).</summary>
    public static string Source(string model) => Path.Combine(AppContext.BaseDirectory, "qwen-mistral", model);

    /// <summary>Copies <paramref name="model"/> into <paramref name="dir"/> and writes tokenizer.model there.</summary>
    public static void Write(string model, string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Source(model))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var pieces = new List<SentencePieceEntry>
        {
            new("<unk>", 0, SentencePieceKind.Unknown), new("<s>", 0, SentencePieceKind.Control), new("</s>", 0, SentencePieceKind.Control),
            new("\u2581", 0, SentencePieceKind.Normal),
        };
        for (char c = '!'; pieces.Count < 96; c++) pieces.Add(new(c.ToString(), 0, SentencePieceKind.Normal));
        SentencePieceModelWriter.Write(Path.Combine(dir, "tokenizer.model"), pieces);
    }
}
