// Chat prompt construction: every Baichuan2 chat_case of the rope/alibi references exactly, the Llama 2 template,
// format selection from model folders, and the errors for bad input.
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Tokenization.Tests;

public class ChatFormatTests
{
    public static TheoryData<string, string> BaichuanChatCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var folder in new[] { "baichuan2-tiny-rope", "baichuan2-tiny-alibi" })
        {
            foreach (var c in TestData.Json(folder, "reference.json").RootElement.GetProperty("chat_cases").EnumerateArray())
            {
                data.Add(folder, c.GetProperty("name").GetString()!);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BaichuanChatCases))]
    public void Baichuan2_matches_build_chat_input(string folder, string caseName)
    {
        var c = TestData.Json(folder, "reference.json").RootElement.GetProperty("chat_cases").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == caseName);
        var messages = Messages(c.GetProperty("messages"));
        var tok = TestData.FolderTokenizer(folder);
        var format = new Baichuan2ChatFormat(tok, c.GetProperty("model_max_length").GetInt32());

        var ids = format.BuildPrompt(messages, c.GetProperty("max_new_tokens").GetInt32());

        Assert.Equal(TestData.Ints(c.GetProperty("input_ids")), ids);
        Assert.True(ids.Length <= c.GetProperty("max_input_tokens").GetInt32());
        // The official format has no EOS after assistant messages; the fixture's variant does, and must differ
        // whenever an assistant message is present.
        var variant = TestData.Ints(c.GetProperty("variant_eos_after_assistant_ids"));
        var hasAssistant = messages.Any(m => m.Role == "assistant");
        Assert.Equal(hasAssistant, !variant.SequenceEqual(ids));
    }

    [Fact]
    public void ForModel_picks_baichuan2_with_generation_config_ids()
    {
        var folder = Fixtures.Path("baichuan2-tiny-alibi");
        var format = Assert.IsType<Baichuan2ChatFormat>(ChatFormats.ForModel(folder, TestData.FolderTokenizer("baichuan2-tiny-alibi")));
        Assert.Equal("baichuan2", format.Name);
        Assert.Equal(4096, format.ModelMaxLength); // alibi config has only model_max_length
        Assert.Equal(195, format.UserTokenId);
        Assert.Equal(196, format.AssistantTokenId);
        Assert.Equal(2048, format.DefaultMaxNewTokens);
        // 0 means "the generation_config default", as build_chat_input's `max_new_tokens or ...`.
        var messages = new[] { new ChatMessage("user", "你好") };
        Assert.Equal(format.BuildPrompt(messages, 2048), format.BuildPrompt(messages, 0));

        var bible = Assert.IsType<Baichuan2ChatFormat>(ChatFormats.ForModel(Fixtures.Path("baichuan2-bible-256"), TestData.FolderTokenizer("baichuan2-bible-256")));
        Assert.Equal(512, bible.ModelMaxLength); // config.json wins over tokenizer_config.json's 4096
    }

    [Fact]
    public void ForModel_picks_llama2_for_llama_and_honours_overrides()
    {
        var stories = TestData.FolderTokenizer("stories260k");
        Assert.IsType<Llama2ChatFormat>(ChatFormats.ForModel(Fixtures.Path("stories260k"), stories));
        Assert.IsType<Baichuan2ChatFormat>(ChatFormats.ForModel(Fixtures.Path("stories260k"), stories, "baichuan2"));
        Assert.IsType<Llama2ChatFormat>(ChatFormats.ForModel(Fixtures.Path("baichuan2-tiny-rope"), TestData.FolderTokenizer("baichuan2-tiny-rope"), "llama2"));

        var e = Assert.Throws<ArgumentException>(() => ChatFormats.ForModel(Fixtures.Path("stories260k"), stories, "chatml"));
        Assert.Contains("chatml", e.Message);
        Assert.Contains("baichuan2", e.Message);
        Assert.Contains("llama2", e.Message);
    }

    [Fact]
    public void Llama2_follows_meta_chat_completion()
    {
        var tok = TestData.ReferenceTokenizer("llama2");
        var format = new Llama2ChatFormat(tok);
        var messages = new[]
        {
            new ChatMessage("system", "Be kind."),
            new ChatMessage("user", "  Hi there "),
            new ChatMessage("assistant", "Hello!"),
            new ChatMessage("user", "Tell me a joke."),
        };

        int[] expected =
        [
            // Meta strips the whole folded content, so the user's inner leading spaces stay after <</SYS>>.
            tok.BosId, .. tok.Encode("[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\n  Hi there [/INST] Hello! ", false), tok.EosId,
            tok.BosId, .. tok.Encode("[INST] Tell me a joke. [/INST]", false),
        ];
        var ids = format.BuildPrompt(messages, 64);
        Assert.Equal(expected, ids);
        Assert.Equal(2, ids.Count(id => id == tok.BosId));
        Assert.Single(ids, tok.EosId);
        Assert.Equal("[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\n  Hi there [/INST] Hello!  [INST] Tell me a joke. [/INST]", tok.Decode(ids)); // second round keeps its dummy-prefix space
        // Without a system prompt the first round is a plain [INST].
        Assert.Equal([tok.BosId, .. tok.Encode("[INST] Hi [/INST]", false)], format.BuildPrompt([new ChatMessage("user", " Hi\n")], 16));
    }

    [Fact]
    public void Bad_messages_give_clear_errors()
    {
        var baichuan = new Baichuan2ChatFormat(TestData.FolderTokenizer("baichuan2-tiny-rope"), 4096);
        var llama = new Llama2ChatFormat(TestData.ReferenceTokenizer("llama2"));
        foreach (IChatFormat format in new IChatFormat[] { baichuan, llama })
        {
            var unknown = Assert.Throws<ArgumentException>(() => format.BuildPrompt([new ChatMessage("robot", "hi")], 16));
            Assert.Contains("robot", unknown.Message);
            var empty = Assert.Throws<ArgumentException>(() => format.BuildPrompt([], 16));
            Assert.Contains("at least one message", empty.Message);
            Assert.Throws<ArgumentException>(() => format.BuildPrompt([new ChatMessage("user", "a"), new ChatMessage("system", "b")], 16));
        }
        Assert.Throws<ArgumentException>(() => llama.BuildPrompt([new ChatMessage("user", "a"), new ChatMessage("user", "b")], 16));
        Assert.Throws<ArgumentException>(() => llama.BuildPrompt([new ChatMessage("user", "a"), new ChatMessage("assistant", "b")], 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => baichuan.BuildPrompt([new ChatMessage("user", "a")], 4096));
    }

    private static ChatMessage[] Messages(JsonElement array) =>
        [.. array.EnumerateArray().Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))];
}
