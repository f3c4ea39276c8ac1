// The reasoning splitter on whole replies (the non-streamed reading, as vLLM's deepseek_r1/qwen3 parsers read them) and on
// every way of cutting them into two or three pieces (the streamed reading must add up to the whole).
using Estuary.Engine.Reasoning;

namespace Estuary.Server.Tests;

public sealed class ReasoningSplitterTests
{
    public static TheoryData<bool, string, string, string, bool> Replies => new()
    {
        // starts in reasoning, reply → reasoning, content, whether the reasoning ended
        { true, "<think>\nLet me see.\n</think>\n\nFour.", "\nLet me see.\n", "\n\nFour.", true },
        { true, "Let me see.</think>Four.", "Let me see.", "Four.", true },         // the prompt opened it (DeepSeek-R1's template)
        { true, "<think></think>Four.", "", "Four.", true },
        { true, "<think>Let me", "Let me", "", false },                             // cut short: all reasoning
        { true, "Let me", "Let me", "", false },
        { true, "", "", "", false },
        { true, " <think>a</think>b", " <think>a", "b", true },                     // only a <think> at the very start is dropped
        { true, "a</think>b</think>c", "a", "b</think>c", true },                   // the first </think> ends it
        { true, "<thin", "<thin", "", false },                                      // held tails go out as what they are
        { true, "ab</think", "ab</think", "", false },
        { true, "<think><think>x</think>", "<think>x", "", true },
        { true, "é🙂</think>", "é🙂", "", true },
        { false, "<think>a</think>b", "", "<think>a</think>b", true },              // started past it: all content
        { false, "", "", "", true },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void A_whole_reply_and_every_split_of_it_read_the_same(bool startsInReasoning, string reply, string reasoning, string content, bool ended)
    {
        var whole = new ReasoningSplitter(startsInReasoning);
        Assert.Equal((reasoning, content), whole.Add(reply, last: true));
        Assert.Equal(ended, whole.ReasoningEnded);
        Assert.Equal(startsInReasoning, whole.HasReasoning);

        for (int a = 0; a <= reply.Length; a++)
            for (int b = a; b <= reply.Length; b++)
            {
                var splitter = new ReasoningSplitter(startsInReasoning);
                string r = "", c = "";
                foreach (var (piece, last) in new[] { (reply[..a], false), (reply[a..b], false), (reply[b..], true) })
                {
                    var (pr, pc) = splitter.Add(piece, last);
                    Assert.False(pr.Length > 0 && c.Length > 0, "reasoning after content");
                    (r, c) = (r + pr, c + pc);
                }
                Assert.Equal((reasoning, content), (r, c));
                Assert.Equal(ended, splitter.ReasoningEnded);
            }
    }

    [Fact]
    public void A_tail_that_may_become_the_closing_tag_is_held_until_it_can_not()
    {
        var splitter = new ReasoningSplitter(startsInReasoning: true);
        Assert.Equal(("", ""), splitter.Add("<th", last: false));           // may be <think>
        Assert.Equal(("ab", ""), splitter.Add("ink>ab</", last: false));   // <think> dropped; "</" may be </think>
        Assert.Equal(("</x", ""), splitter.Add("x", last: false));
        Assert.Equal(("", "y"), splitter.Add("</think>y", last: false));
        Assert.Equal(("", "<think>"), splitter.Add("<think>", last: false)); // content is never held
    }
}
