// `estuary tokenize`: a model folder's token ids for text, as its own tokenizer library gives them (llama.cpp's
// llama-tokenize; vLLM's /tokenize without a server). --jsonl runs many strings and prints ids and the decoded text of each.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Cli.Hosting;
using Estuary.Tokenization;

namespace Estuary.Cli.Commands;

internal static class TokenizeCommand
{
    // Pieces and text as written ("Ġthe", "平"), with only what JSON itself requires escaped.
    private static readonly JsonSerializerOptions s_readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model folder (or a folder with only the tokenizer files); default: the embedded model" };
        var text = new Option<string[]>("--text") { Description = "Text to encode (repeatable); prints its ids on one line" };
        var jsonl = new Option<string?>("--jsonl") { Description = "File of JSON strings, one a line; prints {\"ids\", \"decoded\"} a line for each" };
        var noSpecial = new Option<bool>("--no-special-tokens") { Description = "Leave out the BOS/EOS the tokenizer adds around a sequence" };
        var pieces = new Option<bool>("--pieces") { Description = "Print each id with its piece string" };
        var command = new Command("tokenize", "Token ids of text under a model's tokenizer");
        foreach (var o in new Option[] { model, text, jsonl, noSpecial, pieces }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var texts = r.GetValue(text) ?? [];
            var file = r.GetValue(jsonl);
            if (texts.Length == 0 && file is null) throw new UsageException("give --text TEXT or --jsonl FILE");
            var tokenizer = TextTokenizer.Load(DefaultModel.Resolve(r.GetValue(model)));
            var special = !r.GetValue(noSpecial);
            foreach (var t in texts)
            {
                var ids = tokenizer.Encode(t, special);
                Console.WriteLine(r.GetValue(pieces)
                    ? string.Join(' ', ids.Select(id => $"{id}:{JsonSerializer.Serialize(tokenizer.IdToPiece(id), s_readable)}"))
                    : string.Join(' ', ids));
            }
            if (file is not null)
            {
                if (!File.Exists(file)) throw new UsageException($"--jsonl: file '{file}' does not exist");
                var lineNumber = 0;
                foreach (var line in File.ReadLines(file))
                {
                    lineNumber++;
                    if (line.Length == 0) continue;
                    string input;
                    try
                    {
                        input = JsonNode.Parse(line)?.GetValue<string>() ?? throw new FormatException("null");
                    }
                    catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
                    {
                        throw new UsageException($"--jsonl: line {lineNumber} of '{file}' is not a JSON string");
                    }
                    var ids = tokenizer.Encode(input, special);
                    Console.WriteLine(new JsonObject
                    {
                        ["ids"] = new JsonArray([.. ids.Select(id => JsonValue.Create(id))]),
                        ["decoded"] = tokenizer.Decode(ids, skipSpecialTokens: false),
                    }.ToJsonString(s_readable));
                }
            }
            return 0;
        });
        return command;
    }
}
