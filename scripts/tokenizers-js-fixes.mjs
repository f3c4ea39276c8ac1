// Where tokenizers.js (@huggingface/tokenizers 0.2.0) is known to differ from Hugging Face's Rust tokenizers, the
// reference that Estuary follows, the scripts that compare against it correct it here, in one place.
//
// The ByteLevel pre-tokenizer's own GPT-2 split (use_regex) is a JavaScript regex whose \s is JavaScript's: it includes
// U+FEFF and leaves out U+0085, where the Rust library's Oniguruma \s is White_Space (U+0085 in, U+FEFF out). tokenizers.js
// translates \s that way in Split patterns, but not in this built-in one; the differential fuzzer found it
// (scripts/byte-level-tokenizer-fuzz.sh: "  \u0085x" on a GPT-2-style tokenizer).
const GPT2_ONIGURUMA = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

export function fixTokenizersJs(tokenizer) {
  const visit = (p) => {
    if (!p) return;
    if (p.constructor?.name === "ByteLevel" && p.pattern instanceof RegExp) p.pattern = new RegExp(GPT2_ONIGURUMA);
    for (const inner of p.tokenizers ?? []) visit(inner);
  };
  visit(tokenizer.pre_tokenizer);
  return tokenizer;
}
