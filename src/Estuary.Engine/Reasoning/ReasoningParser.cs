// How a chat reply's reasoning is told apart from its answer (vLLM's --reasoning-parser).
namespace Estuary.Engine.Reasoning;

/// <summary>The reading of reasoning (&lt;think&gt;…&lt;/think&gt;) out of chat replies.</summary>
public enum ReasoningParser
{
    /// <summary>No reading: the reply is all content, thinking included.</summary>
    None,

    /// <summary>
    /// DeepSeek-R1's (and QwQ's): the reply is reasoning until &lt;/think&gt; (a leading &lt;think&gt; is dropped), whether or not
    /// the model wrote &lt;think&gt; itself; without &lt;/think&gt; it is all reasoning.
    /// </summary>
    DeepSeekR1,

    /// <summary>
    /// Qwen3's: as DeepSeek-R1's, except that with <c>chat_template_kwargs</c> <c>{"enable_thinking": false}</c> a reply is all
    /// content.
    /// </summary>
    Qwen3,
}
