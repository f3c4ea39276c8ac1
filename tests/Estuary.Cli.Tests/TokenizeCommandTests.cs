// `estuary tokenize`: ids of --text on one line each (with pieces when asked), {"ids", "decoded"} per --jsonl line, and bad
// input named; checked against the tokenizer itself on the embedded model and the stories260K reference ids.
using System.Text.Json;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Cli.Tests;

public sealed class TokenizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-tokenize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TextPrintsTheTokenizersIdsAndJsonlPrintsIdsWithTheirDecoding()
    {
        var model = Fixtures.Path("stories260k");
        var tokenizer = TextTokenizer.Load(model);
        var (code, output, error) = CliRunner.Run("tokenize", "--model", model, "--text", "Once upon a time", "--text", "Hello  world");
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(' ', tokenizer.Encode("Once upon a time")), lines[0]);
        Assert.Equal(string.Join(' ', tokenizer.Encode("Hello  world")), lines[1]);
        Assert.Equal("1 346 306 414 410 263 304 341", lines[1]); // the fixture README's ids, with BOS

        (code, output, _) = CliRunner.Run("tokenize", "--model", model, "--text", "Hello", "--no-special-tokens", "--pieces");
        Assert.Equal(0, code);
        Assert.Equal(string.Join(' ', tokenizer.Encode("Hello", false).Select(id => $"{id}:\"{tokenizer.IdToPiece(id)}\"")), output.Trim());

        var jsonl = Path.Combine(_dir, "strings.jsonl");
        File.WriteAllLines(jsonl, ["\"Once upon a time\"", "", "\"平方 😀\""]);
        (code, output, error) = CliRunner.Run("tokenize", "--model", model, "--jsonl", jsonl);
        Assert.True(code == 0, error);
        var results = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, results.Count); // the empty line is skipped
        var ids = results[1].GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(tokenizer.Encode("平方 😀"), ids);
        Assert.Equal(tokenizer.Decode(ids, skipSpecialTokens: false), results[1].GetProperty("decoded").GetString());
    }

    [Fact]
    public void BadInputIsNamed()
    {
        var (code, _, error) = CliRunner.Run("tokenize");
        Assert.NotEqual(0, code);
        Assert.Contains("--text", error);
        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(bad, ["\"fine\"", "not json"]);
        (code, _, error) = CliRunner.Run("tokenize", "--jsonl", bad);
        Assert.NotEqual(0, code);
        Assert.Contains("line 2", error);
        (code, _, error) = CliRunner.Run("tokenize", "--jsonl", Path.Combine(_dir, "missing.jsonl"));
        Assert.NotEqual(0, code);
        Assert.Contains("does not exist", error);
    }
}
