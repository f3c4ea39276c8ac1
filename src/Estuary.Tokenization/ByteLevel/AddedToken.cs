// A token of tokenizer.json's added_tokens list: matched in the raw text (or, when normalized, in the normalized text)
// before any other step, never split by BPE.
namespace Estuary.Tokenization;

/// <param name="Id">Its id.</param>
/// <param name="Content">The text that stands for it.</param>
/// <param name="Special">Whether it is a special token (skipped when decoding with skip_special_tokens, no text of its own).</param>
/// <param name="LStrip">Whether a match absorbs the whitespace before it.</param>
/// <param name="RStrip">Whether a match absorbs the whitespace after it.</param>
/// <param name="Normalized">Whether it is matched in the normalizer's output (its content normalized too) rather than in the raw text.</param>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LStrip, bool RStrip, bool Normalized = false);
