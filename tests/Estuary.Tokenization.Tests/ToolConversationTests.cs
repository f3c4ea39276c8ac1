// Tools and tool turns written as plain turns for the built-in formats: the functions in the system message, calls as the
// JSON array of calls, a round of results as one user turn naming each function; the built-in formats accept the result.
namespace Estuary.Tokenization.Tests;

public class ToolConversationTests
{
    private const string Tools = """[{"type": "function", "function": {"name": "add", "description": "Adds two integers", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "unit": {"enum": ["c", "f"]}}, "required": ["a"]}}}, {"type": "function", "function": {"name": "now"}}]""";

    private static readonly ChatMessage[] Conversation =
    [
        new("system", "Be brief."),
        new("user", "2+3, and the time?"),
        new("assistant", "") { ToolCalls = [new ChatToolCall("call_1", "add", """{"a": 2, "b": 3}"""), new ChatToolCall("call_2", "now", "{}")] },
        new("tool", "5") { ToolCallId = "call_1" },
        new("tool", "noon") { ToolCallId = "call_2" },
        new("assistant", "5, at noon."),
        new("user", "Thanks"),
    ];

    [Fact]
    public void ToolsAndTurnsBecomeSystemUserAndAssistantText()
    {
        var turns = ToolConversation.AsPlainTurns(Conversation, Tools);
        Assert.Equal(["system", "user", "assistant", "user", "assistant", "user"], turns.Select(t => t.Role));
        Assert.Equal("Be brief.\n\n" + ToolConversation.Instructions + "\n- add(a: integer, unit?: \"c\"|\"f\"): Adds two integers\n- now()", turns[0].Content);
        Assert.Equal("""[{"name":"add","parameters":{"a":2,"b":3}},{"name":"now","parameters":{}}]""", turns[2].Content);
        Assert.Equal("Result of add (call_1): 5\nResult of now (call_2): noon", turns[3].Content);
        Assert.Equal("5, at noon.", turns[4].Content);
        Assert.All(turns, t => Assert.Null(t.ToolCalls));
    }

    [Fact]
    public void AToolPromptReplacesTheInstructions()
    {
        const string chinese = "如需调用函数，只回复 JSON 数组 [{\"name\": …, \"parameters\": {…}}]。";
        var turns = ToolConversation.AsPlainTurns([new ChatMessage("user", "2+3?")], Tools, chinese);
        Assert.Equal(chinese + "\n- add(a: integer, unit?: \"c\"|\"f\"): Adds two integers\n- now()", turns[0].Content);
    }

    [Fact]
    public void WithoutToolsOnlyTheTurnsAreWrittenAndPlainConversationsAreUntouched()
    {
        var turns = ToolConversation.AsPlainTurns(Conversation, null);
        Assert.Equal("Be brief.", turns[0].Content);
        Assert.Equal("Result of add (call_1): 5\nResult of now (call_2): noon", turns[3].Content);
        ChatMessage[] plain = [new("user", "hi")];
        Assert.Same(plain, ToolConversation.AsPlainTurns(plain, null));
        var withTools = ToolConversation.AsPlainTurns(plain, Tools);
        Assert.Equal(["system", "user"], withTools.Select(t => t.Role));
        Assert.StartsWith(ToolConversation.Instructions, withTools[0].Content);
    }

    [Fact]
    public void TheBuiltInFormatsAcceptTheWrittenConversation()
    {
        var turns = ToolConversation.AsPlainTurns(Conversation, Tools);
        var llama = new Llama2ChatFormat(TestData.ReferenceTokenizer("llama2"));
        var baichuan = new Baichuan2ChatFormat(TestData.FolderTokenizer("baichuan2-tiny-rope"), 4096);
        Assert.NotEmpty(llama.BuildPrompt(turns, 64));
        Assert.NotEmpty(baichuan.BuildPrompt(turns, 64));
        Assert.Throws<ArgumentException>(() => llama.BuildPrompt(Conversation, 64)); // unwritten, the tool turns are refused
        foreach (var bad in new[] { "{\"not\": \"a list\"}", "[5]", "[{\"function\": {\"name\": 5}}]", "[{\"function\": 5}]", "not json" })
            Assert.Throws<ArgumentException>(() => ToolConversation.AsPlainTurns(Conversation, bad));
    }
}
