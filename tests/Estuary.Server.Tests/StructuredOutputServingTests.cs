// Structured output through the served APIs: OpenAI's response_format through the official SDK (json_schema, json_object),
// vLLM's guided_* fields on completions and chat, TensorRT-LLM's guided decoding on /v2, streaming, and the 400s.
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenAI;
using OpenAI.Chat;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class StructuredOutputServingTests(ServerFixture fx)
{
    private const string PersonSchema = """
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
         "pets": {"type": "array", "items": {"enum": ["cat", "dog", "猫"]}, "maxItems": 3}}, "required": ["name", "age"], "additionalProperties": false}
        """;

    private static ChatClient Chat(HttpClient client) => ServerFixture.OpenAiChat(client);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static void AssertPerson(string text)
    {
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        var name = root.GetProperty("name").GetString()!;
        Assert.True(name.Length <= 12, text);
        int age = root.GetProperty("age").GetInt32();
        Assert.InRange(age, 0, 120);
        foreach (var p in root.EnumerateObject()) Assert.Contains(p.Name, new[] { "name", "age", "pets" });
        if (root.TryGetProperty("pets", out var pets))
        {
            Assert.True(pets.GetArrayLength() <= 3, text);
            foreach (var pet in pets.EnumerateArray()) Assert.Contains(pet.GetString(), new[] { "cat", "dog", "猫" });
        }
    }

    [Fact]
    public async Task SdkJsonSchemaResponsesParseAndSatisfyTheSchema()
    {
        var chat = Chat(fx.Client);
        var format = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true);
        for (int seed = 0; seed < 6; seed++)
        {
            ChatCompletion c = await chat.CompleteChatAsync([new UserChatMessage("Tell me about a person")],
                new ChatCompletionOptions { ResponseFormat = format, Temperature = 1.0f, MaxOutputTokenCount = 400, Seed = seed });
            Assert.Equal(ChatFinishReason.Stop, c.FinishReason);
            AssertPerson(c.Content[0].Text);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task SdkJsonObjectModeRepliesAreJsonObjectsOrTheirStartAlsoWhenStreamed()
    {
        // Any object may nest without end, so a reply cut by max_tokens must still be the start of valid JSON.
        var chat = Chat(fx.Client);
        for (int seed = 0; seed < 8; seed++)
        {
            var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), Temperature = 0.7f, MaxOutputTokenCount = 300, Seed = seed };
            ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Once upon a time")], options);
            var text = whole.Content[0].Text;
            Assert.StartsWith("{", text);
            if (whole.FinishReason == ChatFinishReason.Stop)
            {
                using var doc = JsonDocument.Parse(text);
                Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            }
            else
            {
                Assert.Equal(ChatFinishReason.Length, whole.FinishReason);
                AssertJsonPrefix(text);
            }
            var streamed = new StringBuilder();
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Once upon a time")], options))
                foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            Assert.Equal(text, streamed.ToString());
        }
        // (The story model rarely closes a free-form object within 300 tokens; the schema tests above check completion.)
    }

    /// <summary>Reads <paramref name="text"/> as the first part of a JSON document: any invalid token throws.</summary>
    private static void AssertJsonPrefix(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), isFinalBlock: false, state: default);
        while (reader.Read()) { }
    }

    [Fact]
    public async Task GuidedChoiceAndRegexOnCompletionsWithSeveralChoices()
    {
        using var choice = await fx.Client.PostAsync("/v1/completions", Json(
            "{\"prompt\":\"The cat was\",\"max_tokens\":20,\"n\":8,\"temperature\":1.2,\"seed\":1,\"guided_choice\":[\" happy\",\" sad\",\" very sleepy\"]}"));
        Assert.Equal(HttpStatusCode.OK, choice.StatusCode);
        using (var doc = JsonDocument.Parse(await choice.Content.ReadAsStringAsync()))
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray())
            {
                Assert.Contains(c.GetProperty("text").GetString(), new[] { " happy", " sad", " very sleepy" });
                Assert.Equal("stop", c.GetProperty("finish_reason").GetString());
            }
        const string pattern = @" (19|20)\d\d-(0[1-9]|1[0-2])-[0-2]\d";
        using var regex = await fx.Client.PostAsync("/v1/completions", Json(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["prompt"] = "Today is", ["max_tokens"] = 30, ["n"] = 4, ["temperature"] = 1.0, ["seed"] = 2, ["structured_outputs"] = new { regex = pattern },
        })));
        Assert.Equal(HttpStatusCode.OK, regex.StatusCode);
        using (var doc = JsonDocument.Parse(await regex.Content.ReadAsStringAsync()))
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray())
                Assert.Matches("^" + pattern.Replace(@"\d", "[0-9]") + "$", c.GetProperty("text").GetString()!);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task GuidedJsonOnTheBaichuanStyleModelWithItsWhitespacePieces()
    {
        using var response = await fx.BaichuanClient.PostAsync("/v1/chat/completions", Json(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["messages"] = new[] { new { role = "user", content = "你是谁?" } }, ["max_tokens"] = 400, ["temperature"] = 1.0, ["seed"] = 3,
            ["guided_json"] = JsonDocument.Parse(PersonSchema).RootElement,
        })));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        var text = choice.GetProperty("message").GetProperty("content").GetString()!;
        if (choice.GetProperty("finish_reason").GetString() == "stop") AssertPerson(text);
        else Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Baichuan);
    }

    [Fact]
    public async Task TritonGuidedDecodingRegex()
    {
        using var response = await fx.Client.PostAsync("/v2/models/ensemble/generate", Json(
            "{\"text_input\":\"The number is\",\"max_tokens\":20,\"temperature\":1.0,\"random_seed\":4,\"exclude_input_in_output\":true," +
            "\"guided_decoding_guide_type\":\"regex\",\"guided_decoding_guide\":\" [1-9][0-9]{0,3}!\"}"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Matches("^ [1-9][0-9]{0,3}!$", doc.RootElement.GetProperty("text_output").GetString()!);
    }

    [Theory]
    [InlineData("{\"prompt\":\"hi\",\"guided_regex\":\"a\",\"guided_choice\":[\"b\"]}", "guided_choice")]
    [InlineData("{\"prompt\":\"hi\",\"guided_choice\":[]}", "guided_choice")]
    [InlineData("{\"prompt\":\"hi\",\"guided_choice\":\"yes\"}", "guided_choice")]
    [InlineData("{\"prompt\":\"hi\",\"guided_grammar\":\"root ::= item\"}", "guided_grammar")]
    [InlineData("{\"prompt\":\"hi\",\"guided_grammar\":5}", "guided_grammar")]
    [InlineData("{\"prompt\":\"hi\",\"guided_regex\":\"(a\"}", "guided_regex")]
    [InlineData("{\"prompt\":\"hi\",\"guided_regex\":\"a(?=b)\"}", "guided_regex")]
    [InlineData("{\"prompt\":\"hi\",\"guided_json\":\"{not json\"}", "guided_json")]
    [InlineData("{\"prompt\":\"hi\",\"guided_json\":{\"type\":\"object\",\"not\":{}}}", "guided_json")]
    [InlineData("{\"prompt\":\"hi\",\"response_format\":{\"type\":\"json_schema\"}}", "response_format")]
    [InlineData("{\"prompt\":\"hi\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"frog\"}}}}", "response_format")]
    [InlineData("{\"prompt\":\"hi\",\"structured_outputs\":{\"grammar\":\"root ::= x\"}}", "structured_outputs")]
    [InlineData("{\"prompt\":\"hi\",\"structured_outputs\":{\"json_object\":true,\"regex\":\"a\"}}", "structured_outputs")]
    public async Task BadStructuredOutputRequestsAre400NamingTheField(string body, string param)
    {
        using var response = await fx.Client.PostAsync("/v1/completions", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task GbnfGrammarsOnCompletionsChatAndTriton()
    {
        const string grammar = "root ::= \" \" answer \"!\"\nanswer ::= \"yes\" | \"no\" | number\nnumber ::= [1-9] [0-9]{0,2}  # at most 999\n";
        var pattern = new Regex("^ (yes|no|[1-9][0-9]{0,2})!$");
        using var completion = await fx.Client.PostAsync("/v1/completions", Json(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["prompt"] = "The answer is", ["max_tokens"] = 20, ["n"] = 6, ["temperature"] = 1.2, ["seed"] = 9, ["guided_grammar"] = grammar,
        })));
        using (var doc = JsonDocument.Parse(await completion.Content.ReadAsStringAsync()))
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray())
            {
                Assert.Matches(pattern, c.GetProperty("text").GetString()!);
                Assert.Equal("stop", c.GetProperty("finish_reason").GetString());
            }
        using var chat = await fx.Client.PostAsync("/v1/chat/completions", Json(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["messages"] = new[] { new { role = "user", content = "Yes or no?" } }, ["max_tokens"] = 20, ["structured_outputs"] = new { grammar },
        })));
        using (var doc = JsonDocument.Parse(await chat.Content.ReadAsStringAsync()))
            Assert.Matches(pattern, doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);
        using var triton = await fx.Client.PostAsync("/v2/models/ensemble/generate", Json(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["text_input"] = "The answer is", ["max_tokens"] = 20, ["exclude_input_in_output"] = true, ["guided_decoding_guide_type"] = "ebnf_grammar",
            ["guided_decoding_guide"] = grammar,
        })));
        using (var doc = JsonDocument.Parse(await triton.Content.ReadAsStringAsync()))
            Assert.Matches(pattern, doc.RootElement.GetProperty("text_output").GetString()!);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task TritonRefusesAnUnknownGuideType()
    {
        using var response = await fx.Client.PostAsync("/v2/models/ensemble/generate", Json(
            "{\"text_input\":\"hi\",\"max_tokens\":4,\"guided_decoding_guide_type\":\"structural_tag\",\"guided_decoding_guide\":\"{}\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("guided_decoding_guide_type", await response.Content.ReadAsStringAsync());
    }
}
