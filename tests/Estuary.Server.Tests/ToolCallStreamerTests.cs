// The streamed pieces of a "required" tool-call array add up to the calls the whole text parses to, however it is split.
using Estuary.Engine.Tools;
using Estuary.Server.Apis.OpenAi;

namespace Estuary.Server.Tests;

public sealed class ToolCallStreamerTests
{
    [Theory]
    [InlineData("[ {\"name\" : \"add\", \"parameters\" : { \"a\" : 1, \"b\" : [2, \"x}]\\\"y\", {\"c\": null}] } } ,\n {\"name\":\"now\",\"parameters\":{}}]")]
    [InlineData("[{\"name\":\"f\",\"parameters\":\"s,} \\\\\"},{\"name\":\"g-2\",\"parameters\":12.5e3 } ,{ \"name\" :\n\"h_\" ,\n  \"parameters\" :\ttrue}]")]
    [InlineData("[{\"name\":\"only\",\"parameters\":{\"text\":\"数组 [ ] { } 和 \\u005d\"}}]")]
    public void PiecesAddUpToTheWholeCalls(string text)
    {
        var expected = ToolCalls.TryParseCalls(text)!;
        Assert.NotNull(expected);
        var random = new Random(text.Length);
        for (int split = 0; split < 40; split++)
        {
            var streamer = new ToolCallStreamer();
            var names = new Dictionary<int, string>();
            var arguments = new Dictionary<int, string>();
            var ids = new HashSet<string>();
            for (int at = 0; at < text.Length;)
            {
                int length = split < 8 ? split + 1 : random.Next(1, 12);
                var piece = text.Substring(at, Math.Min(length, text.Length - at));
                at += piece.Length;
                foreach (var delta in streamer.Add(piece))
                {
                    if (delta.Function.Name is { } name)
                    {
                        Assert.False(names.ContainsKey(delta.Index), "a call is named twice");
                        names[delta.Index] = name;
                        Assert.True(delta.Id is { } id && ids.Add(id));
                    }
                    Assert.True(names.ContainsKey(delta.Index), "arguments before the call's name");
                    arguments[delta.Index] = arguments.GetValueOrDefault(delta.Index, "") + delta.Function.Arguments;
                }
            }
            Assert.Equal(expected.Count, names.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Name, names[i]);
                Assert.Equal(expected[i].Arguments, arguments[i]);
            }
        }
    }
}

public sealed class AutoToolCallStreamerTests
{
    [Theory]
    [InlineData("Once upon a time [there] was {a} cat.")]
    [InlineData(" \n\t Leading whitespace, then words.")]
    [InlineData("  \n ")]
    [InlineData("")]
    [InlineData(" \n[{\"name\":\"add\",\"parameters\":{\"a\":1,\"b\":[2]}},{\"name\":\"now\",\"parameters\":{}}]")]
    [InlineData("{\"name\": \"add\", \"parameters\": {\"a\": {\"x\": \"}\"}}}", true)]
    [InlineData("{not a call, since bare objects are text here}", false)]
    public void AReplyStreamsAsTheWholeTextOrAsItsCallsHoweverItIsSplit(string text, bool singleCall = true)
    {
        var expected = ToolCalls.TryParseCalls(text, singleCall);
        Assert.Equal(expected is not null, ToolCalls.IsCallsReply(text, singleCall));
        var random = new Random(text.Length);
        for (int split = 0; split < 40; split++)
        {
            var streamer = new AutoToolCallStreamer(singleCall);
            var content = new System.Text.StringBuilder();
            var names = new Dictionary<int, string>();
            var arguments = new Dictionary<int, string>();
            var pieces = new List<string>();
            for (int at = 0; at < text.Length;)
            {
                int length = split < 8 ? split + 1 : random.Next(1, 12);
                pieces.Add(text.Substring(at, Math.Min(length, text.Length - at)));
                at += pieces[^1].Length;
            }
            if (split % 3 == 0) pieces.Add(""); // the engine's last output may carry no text
            for (int p = 0; p < pieces.Count; p++)
            {
                var (c, calls) = streamer.Add(pieces[p], last: p == pieces.Count - 1);
                content.Append(c);
                foreach (var delta in calls)
                {
                    if (delta.Function.Name is { } name) names[delta.Index] = name;
                    arguments[delta.Index] = arguments.GetValueOrDefault(delta.Index, "") + delta.Function.Arguments;
                }
            }
            if (expected is null)
            {
                Assert.Equal(text, content.ToString());
                Assert.Empty(names);
                Assert.False(streamer.IsCalls);
                continue;
            }
            Assert.Equal("", content.ToString());
            Assert.True(streamer.IsCompleteCalls);
            Assert.Equal(expected.Count, names.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Name, names[i]);
                Assert.Equal(expected[i].Arguments, arguments[i]);
            }
        }
    }
}
