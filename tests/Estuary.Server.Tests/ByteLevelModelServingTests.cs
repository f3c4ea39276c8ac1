// A Llama 3-layout model folder (tokenizer.json, no tokenizer.model; special tokens written in its chat template) served
// end to end: prompts are the tokenizer's ids with the special tokens read as such, replies stop at <|eot_id|>, and the
// streamed text adds up to the whole reply.
using System.Net;
using System.Text;
using System.Text.Json;
using Estuary.Engine;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ByteLevelModelServingTests(ServerFixture fx) : IDisposable
{
    // A template in the style of Llama 3's: header ids around the role, <|eot_id|> after each turn.
    private const string Template =
        "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}" +
        "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-byte-level-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A tiny random Llama whose vocabulary is the test tokenizer's, with its special ids in the configs.</summary>
    private AsyncLlmEngine Engine() =>
        new(LlmEngine.Load(ByteLevelTestModel.Write(Path.Combine(_dir, "model"), Template), new EngineConfig { NumThreads = 1, NumKvBlocks = 64 }));

    [Fact]
    public async Task A_llama3_layout_folder_is_served_with_its_byte_level_tokenizer()
    {
        using var engine = Engine();
        var tok = engine.Engine.Tokenizer;
        Assert.True(tok.IsByteLevel);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "llama3-style" });
        int Id(string special) => tok.PieceToId(special)!.Value;

        // The chat prompt: each special token written in the template is its id, the text between is encoded on its own.
        const string messages = "[{\"role\":\"user\",\"content\":\"  And God said \"}]";
        using var tokenized = JsonDocument.Parse(await (await client.PostAsync("/tokenize", Json($"{{\"messages\":{messages}}}"))).Content.ReadAsStringAsync());
        int[] expected =
        [
            tok.BosId, Id("<|start_header_id|>"), .. tok.Encode("user", false), Id("<|end_header_id|>"), .. tok.Encode("\n\nAnd God said", false),
            Id("<|eot_id|>"), Id("<|start_header_id|>"), .. tok.Encode("assistant", false), Id("<|end_header_id|>"), .. tok.Encode("\n\n", false),
        ];
        Assert.Equal(expected, tokenized.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));

        // A reply pushed onto <|eot_id|> stops there, with no text.
        var eot = Id("<|eot_id|>");
        using var stopped = await client.PostAsync("/v1/chat/completions",
            Json($"{{\"messages\":{messages},\"max_tokens\":8,\"logit_bias\":{{\"{eot}\":100}}}}"));
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        using var stoppedDoc = JsonDocument.Parse(await stopped.Content.ReadAsStringAsync());
        var choice = stoppedDoc.RootElement.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(expected.Length, stoppedDoc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        // Completions: special tokens in the prompt text are read as ids (as Hugging Face tokenizers encode), BOS added once.
        const string prompt = "<|start_header_id|>user<|end_header_id|>\n\nLet there be";
        var body = $"{{\"prompt\":{JsonSerializer.Serialize(prompt)},\"max_tokens\":24,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":1}}";
        using var completion = JsonDocument.Parse(await (await client.PostAsync("/v1/completions", Json(body))).Content.ReadAsStringAsync());
        Assert.Equal(tok.Encode(prompt).Length, completion.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var text = completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
        var tokens = completion.RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(24, tokens.Count);

        // The same greedy reply through the engine: its text is the decode of its ids, and the logprob tokens read as the text.
        var outputIds = new List<int>();
        var engineText = new StringBuilder();
        await foreach (var output in engine.Generate(tok.Encode(prompt), SamplingParams.Greedy(24) with { IgnoreEos = true }))
        {
            outputIds.AddRange(output.NewTokenIds);
            engineText.Append(output.NewText);
        }
        Assert.Equal(tok.Decode([.. outputIds]), text);
        Assert.Equal(text, engineText.ToString());
        Assert.Equal(text, string.Concat(tokens)); // whole characters here ("少少 powense garden…"), so the pieces read as the text

        // Streaming adds up to the same text.
        var streamed = new StringBuilder();
        var events = await Sse.ReadAsync(client, "/v1/completions",
            $"{{\"prompt\":{JsonSerializer.Serialize(prompt)},\"max_tokens\":24,\"temperature\":0,\"ignore_eos\":true,\"stream\":true}}");
        foreach (var data in events)
        {
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            streamed.Append(chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        Assert.Equal(text, streamed.ToString());

        // Chat log-probabilities: each token's "bytes" are its own (part of a character included), so together they read as the
        // reply (whose text has U+FFFD where they are not UTF-8).
        using var scored = JsonDocument.Parse(await (await client.PostAsync("/v1/chat/completions",
            Json($"{{\"messages\":{messages},\"max_tokens\":16,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":true}}"))).Content.ReadAsStringAsync());
        var scoredChoice = scored.RootElement.GetProperty("choices")[0];
        var replyBytes = scoredChoice.GetProperty("logprobs").GetProperty("content").EnumerateArray()
            .SelectMany(t => t.GetProperty("bytes").EnumerateArray().Select(b => (byte)b.GetInt32())).ToArray();
        Assert.Equal(scoredChoice.GetProperty("message").GetProperty("content").GetString(), Encoding.UTF8.GetString(replyBytes));
        Assert.Contains(scoredChoice.GetProperty("logprobs").GetProperty("content").EnumerateArray(), t => t.GetProperty("token").GetString()!.Contains('\uFFFD'));
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }
}
