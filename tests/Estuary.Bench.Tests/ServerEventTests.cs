// What a benchmarked server sends is parsed defensively: every deviation from the API is a BenchProtocolException naming the field
// and value (the request then counts as failed), never an exception that ends the benchmark or a count taken as valid.
using Estuary.Bench.Clients;

namespace Estuary.Bench.Tests;

public sealed class ServerEventTests
{
    private static string Refused(string data, Action<System.Text.Json.JsonElement>? read = null) =>
        Assert.Throws<BenchProtocolException>(() =>
        {
            using var doc = ServerEvent.Parse(data);
            read?.Invoke(doc.RootElement);
        }).Message;

    [Fact]
    public void AnythingButAnObjectAndErrorEventsAreRefused()
    {
        Assert.Equal("expected a JSON object from the server, got array [1,2,3]", Refused("[1,2,3]"));
        Assert.Equal("expected a JSON object from the server, got null", Refused("null"));
        Assert.Equal("the server sent an error: engine died", Refused("""{"error":{"message":"engine died","type":"x"}}"""));
        Assert.Equal("the server sent an error: \"batcher failed\"", Refused("""{"error":"batcher failed"}"""));
        using var ok = ServerEvent.Parse("""{"error":null,"text_output":"a"}""");
        Assert.Equal("a", ServerEvent.Text(ok.RootElement, "text_output"));
    }

    [Fact]
    public void TextAndCountsOfTheWrongKindNameTheField()
    {
        Assert.Equal("'text' is number 5, not a string", Refused("""{"text":5}""", e => ServerEvent.Text(e, "text")));
        Assert.Equal("'completion_tokens' is number -5, not a non-negative integer",
            Refused("""{"completion_tokens":-5}""", e => ServerEvent.Count(e, "completion_tokens")));
        Assert.Equal("'completion_tokens' is number 8.5, not a non-negative integer",
            Refused("""{"completion_tokens":8.5}""", e => ServerEvent.Count(e, "completion_tokens")));
        Assert.Equal("'prompt_tokens' is null, not a non-negative integer",
            Refused("""{"prompt_tokens":null}""", e => ServerEvent.Count(e, "prompt_tokens")));
        Assert.Equal("'prompt_tokens' is missing", Refused("{}", e => ServerEvent.Count(e, "prompt_tokens")));
        Assert.Equal("'choices' is object {}, not an array", Refused("""{"choices":{}}""", e => ServerEvent.FirstChoice(e)));
    }

    [Fact]
    public void TheFirstChoiceIsIndexZeroWhateverComesFirst()
    {
        using var doc = ServerEvent.Parse("""{"choices":[{"index":1,"text":"X"},{"index":0,"text":"the"}]}""");
        Assert.Equal("the", ServerEvent.Text(ServerEvent.FirstChoice(doc.RootElement)!.Value, "text"));
        using var none = ServerEvent.Parse("""{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}""");
        Assert.Null(ServerEvent.FirstChoice(none.RootElement));
        using var nullChoices = ServerEvent.Parse("""{"choices":null}""");
        Assert.Null(ServerEvent.FirstChoice(nullChoices.RootElement));
    }
}
