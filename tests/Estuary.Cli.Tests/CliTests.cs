// The estuary command line end to end (in process): generate on the embedded default model and on fixtures, and clear errors.
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Cli.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static (int Code, string Out, string Err) RunWithInput(string input, params string[] args) => CliRunner.RunWithInput(input, args);

    [Fact]
    public void GenerateJsonOnTheEmbeddedModelMatchesTheReference()
    {
        using var reference = Fixtures.Json("stories260k", "reference.json");
        var cases = reference.RootElement.GetProperty("cases").EnumerateArray().Take(3).ToArray();
        var args = new List<string> { "generate", "--json", "--max-tokens", "24", "--ignore-eos" };
        foreach (var c in cases) args.AddRange(["--prompt", c.GetProperty("prompt").GetString()!]);
        var (code, output, error) = Run([.. args]);
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Length, lines.Length);
        for (int i = 0; i < cases.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var promptIds = line.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32());
            var outputIds = line.RootElement.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32());
            Assert.Equal(cases[i].GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()), promptIds);
            Assert.Equal(cases[i].GetProperty("greedy").GetProperty("generated_ids").EnumerateArray().Take(24).Select(e => e.GetInt32()), outputIds);
            Assert.False(string.IsNullOrEmpty(line.RootElement.GetProperty("text").GetString()));
        }
    }

    [Fact]
    public void GeneratePromptIdsOnABaichuanFixture()
    {
        using var reference = Fixtures.Json("baichuan2-tiny-alibi", "reference.json");
        var c = reference.RootElement.GetProperty("cases")[0];
        var ids = string.Join(",", c.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()));
        var (code, output, error) = Run("generate", "--model", Fixtures.Path("baichuan2-tiny-alibi"), "--prompt-ids", ids,
            "--temperature", "0", "--repetition-penalty", "1", "--max-tokens", "12", "--ignore-eos", "--json");
        Assert.True(code == 0, error);
        using var line = JsonDocument.Parse(output);
        Assert.Equal(c.GetProperty("greedy").GetProperty("generated_ids").EnumerateArray().Take(12).Select(e => e.GetInt32()),
            line.RootElement.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void GenerateWithAJsonSchemaFileGivesValidJsonForEveryPrompt()
    {
        var schema = Path.Combine(Path.GetTempPath(), $"estuary-schema-{Guid.NewGuid():N}.json");
        File.WriteAllText(schema, """{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9},"ok":{"type":"boolean"}},"required":["n","ok"]}""");
        try
        {
            var (code, output, error) = Run("generate", "--json", "--prompt", "Once upon a time", "--prompt", "The cat", "--json-schema", schema,
                "--max-tokens", "60", "--temperature", "1", "--seed", "5");
            Assert.True(code == 0, error);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            foreach (var line in lines)
            {
                using var result = JsonDocument.Parse(line);
                using var value = JsonDocument.Parse(result.RootElement.GetProperty("text").GetString()!);
                Assert.InRange(value.RootElement.GetProperty("n").GetInt32(), 1, 9);
                Assert.True(value.RootElement.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False);
            }
        }
        finally
        {
            File.Delete(schema);
        }
    }

    [Fact]
    public void GenerateWithChoicesPrintsOneOfThem()
    {
        var (code, output, error) = Run("generate", "--prompt", "Once upon a time", "--choice", " a cat", "--choice", " a dog", "--temperature", "0");
        Assert.True(code == 0, error);
        Assert.Contains(output.TrimEnd(), new[] { "Once upon a time a cat", "Once upon a time a dog" });
    }

    [Fact]
    public void PlainGenerateStreamsPromptAndContinuation()
    {
        var (code, output, _) = Run("generate", "--prompt", "Once upon a time", "--max-tokens", "20");
        Assert.Equal(0, code);
        Assert.StartsWith("Once upon a time, there was a little girl", output);
    }

    [Fact]
    public void ChatKeepsHistoryAndStreamsReplies()
    {
        var (code, output, error) = RunWithInput("你是谁?\n再说一遍\n/reset\nhello\n", "chat", "--model", Fixtures.Path("baichuan2-tiny-rope"),
            "--max-tokens", "6", "--temperature", "0");
        Assert.True(code == 0, error);
        Assert.Contains("baichuan2", error); // the chat format picked from the model
        Assert.Equal(6, output.Split("> ").Length); // five prompts shown: three replies, one reset, then end of input
    }

    [Fact]
    public void ChatWithAReasoningParserShowsTheThinkingApartAndKeepsTheAnswerAsTheTurn()
    {
        // The scripted model answers "<think>Let me</think>\nFour" after the assistant header, in every turn.
        const string template = "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>" +
            "{{ m['content'] }}<|eot_id|>{% endfor %}" +
            "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>{% endif %}";
        var dir = Directory.CreateTempSubdirectory("estuary-chat-reasoning-").FullName;
        try
        {
            var model = Estuary.Testing.ScriptedTestModel.Write(Path.Combine(dir, "model"), template, ["<think>", "</think>"], tok =>
                [[tok.PieceToId("<|end_header_id|>")!.Value, tok.PieceToId("<think>")!.Value, .. tok.Encode("Let me", false),
                  tok.PieceToId("</think>")!.Value, .. tok.Encode("\nFour", false)]]);
            var (code, output, error) = RunWithInput("2+2?\nagain\n", "chat", "--model", model, "--temperature", "0", "--max-tokens", "20",
                "--reasoning-parser", "qwen3");
            Assert.True(code == 0, error);
            Assert.Equal(2, error.Split("[thinking]\nLet me\n[/thinking]").Length - 1);
            Assert.Equal("> \nFour\n> \nFour\n> ", output);

            var (plainCode, plain, plainError) = RunWithInput("2+2?\n", "chat", "--model", model, "--temperature", "0", "--max-tokens", "20");
            Assert.True(plainCode == 0, plainError);
            Assert.Equal("> <think>Let me</think>\nFour\n> ", plain);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ChatSurvivesATurnTooLongForTheContextAndTrimsALongConversation()
    {
        // One 1000-word line (3000+ tokens against a 512-token context), then 30 ordinary turns that together outgrow it.
        var input = string.Join(' ', Enumerable.Repeat("word", 1000)) + "\n" +
            string.Concat(Enumerable.Repeat("Tell me a story about a dog and a cat in the park\n", 30));
        var (code, output, error) = RunWithInput(input, "chat", "--max-tokens", "12", "--temperature", "0");
        Assert.True(code == 0, error);
        Assert.Contains("error: prompt is", error);
        Assert.Contains("the message was not sent", error);
        Assert.Contains("(dropped the oldest turn to fit the 512-token context)", error);
        Assert.Equal(33, output.Split("> ").Length); // 32 prompts: one per line read and the last at end of input, so it kept going
    }

    [Theory]
    [InlineData("does not exist", "generate", "--model", "/nonexistent/model")]
    [InlineData("not an integer", "generate", "--prompt-ids", "1,x,3")]
    [InlineData("top_p", "generate", "--top-p", "7")]
    [InlineData("context length", "generate", "--max-model-len", "8", "--prompt", "Once upon a time there was a cat and a dog")]
    [InlineData("--rounds must be at least 1", "bench", "decode", "--models", "", "--rounds", "0")]
    [InlineData("does not exist", "bench", "decode", "--models", "/nonexistent/model", "--rounds", "1")]
    [InlineData("--rounds must be at least 1", "bench", "compare", "--rounds", "0")]
    [InlineData("--output-lens: 'x' is not a positive integer", "bench", "compare", "--output-lens", "x")]
    [InlineData("error: Cannot parse argument 'x' for option '--max-tokens' as an integer.", "generate", "--max-tokens", "x")]
    [InlineData("error: Cannot parse argument 'hot' for option '--temperature' as a number.", "generate", "--temperature", "hot")]
    [InlineData("(see 'estuary bench compare --help')", "bench", "compare", "--rounds", "x")]
    [InlineData("--base-url: 'notaurl' is not an http:// or https:// address", "bench", "serve", "--base-url", "notaurl")]
    [InlineData("--reasoning-parser must be deepseek_r1 or qwen3 (got 'r1')", "serve", "--reasoning-parser", "r1")]
    [InlineData("--tool-call-parser must be hermes, mistral, llama3_json, llama4_json, pythonic, llama4_pythonic (got 'llama3')", "serve", "--tool-call-parser", "llama3")]
    [InlineData("error: reasoning_parser deepseek_r1 needs '<think>' as one token of the model's tokenizer", "serve", "--port", "0", "--reasoning-parser", "deepseek_r1")]
    [InlineData("--batch must be at least 1 (got 0)", "bench", "cpu", "--batch", "0")]
    [InlineData("--window must be at least 2 tokens (got 0)", "eval", "perplexity", "--text", "/nonexistent.txt", "--window", "0")]
    [InlineData("--text: '/' is a folder, not a file", "eval", "perplexity", "--text", "/")]
    [InlineData("thread count must be at most 1024, got 100000 (this machine has", "generate", "--threads", "100000")]
    [InlineData("GiB for the KV cache (2147483647 blocks); only", "generate", "--num-kv-blocks", "2147483647")]
    [InlineData("give at most one of --json-schema, --regex, --choice and --grammar", "generate", "--prompt", "hi", "--regex", "a", "--choice", "b")]
    [InlineData("is left-recursive", "generate", "--prompt", "hi", "--grammar", "root ::= root \"a\" | \"b\"")]
    [InlineData("--json-schema: the JSON schema is not valid JSON", "generate", "--prompt", "hi", "--json-schema", "{nope")]
    [InlineData("json_schema: 'not' at the top level is not supported", "generate", "--prompt", "hi", "--json-schema", "{\"not\":{}}")]
    [InlineData("lookahead", "generate", "--prompt", "hi", "--regex", "a(?=b)")]
    [InlineData("give the constraint to measure", "bench", "structured")]
    public void BadInputGivesAClearErrorAndExitCode2(string expected, params string[] args)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("(Parameter '", error); // a C# parameter name means nothing to the user
        Assert.DoesNotContain("System.", error);
    }

    [Fact]
    public void ATokenizerLargerThanTheModelsVocabularyIsRefusedAtLoad()
    {
        // stories260k (vocab_size 512) with the Baichuan fixtures' 1200-piece tokenizer: ids past 511 have no embedding row.
        var dir = Directory.CreateTempSubdirectory("estuary-mismatch-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(Fixtures.Path("stories260k"))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            File.Delete(Path.Combine(dir, "tokenizer.model")); // the fixture copies are read-only
            File.Copy(Path.Combine(Fixtures.Path("baichuan2-tiny-rope"), "tokenizer.model"), Path.Combine(dir, "tokenizer.model"));
            var (code, _, error) = Run("generate", "--model", dir, "--prompt", "hello");
            Assert.Equal(2, code);
            Assert.Contains("the tokenizer has 1200 pieces but the model's vocab_size is 512", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BenchServeRefusesAnOutThatIsAFileBeforeRunning()
    {
        // Checked before the sweep: found after it, the whole run's results were lost.
        var file = Path.GetTempFileName();
        try
        {
            var (code, _, error) = Run("bench", "serve", "--base-url", "http://127.0.0.1:9/v1", "--out", file, "--num-prompts", "1");
            Assert.Equal(2, code);
            Assert.Contains("note: --base-url ends in /v1; sending to http://127.0.0.1:9/v1/…", error);
            Assert.Contains($"error: --out: '{file}' is a file; it must be a folder", error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ALevelWhereEveryRequestFailedShowsNoLatenciesRatherThanZeros()
    {
        // Port 9 (discard) is closed on loopback: every request fails with connection refused.
        var (code, output, error) = Run("bench", "serve", "--base-url", "http://127.0.0.1:9", "--concurrency", "1", "--num-prompts", "2",
            "--warmup", "0", "--input-len", "8", "--output-len", "2");
        Assert.Equal(1, code); // failed requests make the run's exit code 1
        Assert.Contains("failed request at concurrency 1:", error);
        Assert.Contains("Connection refused", error);
        Assert.Equal(4, output.Split("n/a").Length - 1); // TTFT, TPOT, ITL and E2E
    }

    [Fact]
    public void AKvCacheSmallerThanTheContextIsWarnedAbout()
    {
        var (code, _, error) = Run("generate", "--num-kv-blocks", "2", "--prompt", "hi", "--max-tokens", "3");
        Assert.True(code == 0, error);
        Assert.Contains("warning: the KV cache holds 32 tokens, fewer than the 512-token context", error);
        Assert.DoesNotContain("warning", Run("generate", "--prompt", "hi", "--max-tokens", "3").Err);
    }

    [Fact]
    public void AnIoFailureIsAnErrorNamingItNotACrash()
    {
        // serve on a port another socket holds: Kestrel's IOException names the address.
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var (code, _, error) = Run("serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, code);
        Assert.Contains($"error: Failed to bind to address http://127.0.0.1:{port}: address already in use", error);
        Assert.DoesNotContain("Unhandled exception", error);
    }

    [Fact]
    public void BenchDecodeComparesModelsInOneTable()
    {
        string model = Estuary.Cli.Hosting.DefaultModel.Directory;
        var (code, output, error) = Run("bench", "decode", "--models", model, model, "--rounds", "2", "--decode-tokens", "4", "--threads", "2");
        Assert.True(code == 0, error);
        Assert.Contains("2 rounds of 4 tokens", output);
        var lines = output.Split('\n').Where(l => l.StartsWith(model + ": ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Contains("1.00× first (rounds 1.00–1.00)", lines[0]); // the first model against itself
    }

    [Fact]
    public void BenchCompareAlternatesRoundsAndPoolsThem()
    {
        var dir = Directory.CreateTempSubdirectory("estuary-compare-").FullName;
        try
        {
            var (code, output, error) = Run("bench", "compare", "--rounds", "2", "--concurrency", "2", "--input-len", "12", "--output-lens", "3",
                "--num-prompts", "2", "--threads", "2", "--out", dir);
            Assert.True(code == 0, error);
            Assert.Contains("round 1 of 2: continuous, then naive", error);
            Assert.Contains("round 2 of 2: naive, then continuous", error);
            Assert.Contains("pooled", output);
            foreach (var engine in new[] { "continuous", "naive" })
            {
                var rounds = new[] { 1, 2 }.Select(k => Estuary.Bench.Output.ResultWriter.Read(Path.Combine(dir, $"compare-12-3-{engine}-round{k}.json")).Levels.Single()).ToArray();
                var pooled = Estuary.Bench.Output.ResultWriter.Read(Path.Combine(dir, $"compare-12-3-{engine}.json")).Levels.Single();
                Assert.All(rounds, l => Assert.Equal(6, l.TotalOutputTokens)); // 2 requests × 3 tokens, ignore_eos
                Assert.Equal(12, pooled.TotalOutputTokens);
                Assert.Equal(rounds.Sum(l => l.Duration), pooled.Duration, 9);
                Assert.Equal(12 / pooled.Duration, pooled.OutputThroughput, 9);
            }
            Assert.Equal(2, JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "compare-12-3-steps.json"))).RootElement.GetArrayLength());
            Assert.True(File.Exists(Path.Combine(dir, "compare-12-3.png")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BenchCpuReportsEveryMeasureAsMediansOfRounds()
    {
        var (code, output, error) = Run("bench", "cpu", "--repeats", "2", "--decode-tokens", "4", "--batch", "2", "--prompt-len", "16", "--threads", "2");
        Assert.True(code == 0, error);
        Assert.Contains("Medians of 2 rounds", output);
        foreach (var measure in new[] { "decode, 1 sequence", "decode, 2 sequences", "prompt, 16 tokens", "GFLOP/s" }) Assert.Contains(measure, output);
    }
}
