// How logprobs name a token: its text (TextTokenizer.TokenText), or vLLM's "token_id:1234" when the request sets
// return_tokens_as_token_ids. Invariant: the chosen token and its alternatives are always named the same way.
using System.Globalization;
using System.Text;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.OpenAi;

internal sealed class LogprobTokenNames(TextTokenizer tokenizer, bool asTokenIds)
{
    public TextTokenizer Tokenizer => tokenizer;

    /// <summary>The token's "token" field.</summary>
    public string Name(int id) => asTokenIds ? "token_id:" + id.ToString(CultureInfo.InvariantCulture) : tokenizer.TokenText(id);

    /// <summary>
    /// The token's "bytes" field: its own bytes where it has text (so part of a character keeps its real bytes, as OpenAI's
    /// field gives them), else those of its name (a special token's, or the "token_id:…" name, as vLLM encodes it).
    /// </summary>
    public int[] Bytes(int id, string name) =>
        [.. ((asTokenIds ? null : tokenizer.TokenBytes(id)) ?? Encoding.UTF8.GetBytes(name)).Select(b => (int)b)];
}
