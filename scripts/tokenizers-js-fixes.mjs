// Where tokenizers.js (@huggingface/tokenizers 0.2.0) is known to differ from Hugging Face's Rust tokenizers, the
// reference that Estuary follows, the scripts that compare against it correct it here, in one place.
//
// The ByteLevel pre-tokenizer's own GPT-2 split (use_regex) is a JavaScript regex whose \s is JavaScript's: it includes
// U+FEFF and leaves out U+0085, where the Rust library's Oniguruma \s is White_Space (U+0085 in, U+FEFF out). tokenizers.js
// translates \s that way in Split patterns, but not in this built-in one; the differential fuzzer found it
// (scripts/byte-level-tokenizer-fuzz.sh: "  \u0085x" on a GPT-2-style tokenizer).
//
// Added tokens' lstrip/rstrip take the whitespace beside them with String.prototype.trimEnd/trimStart, JavaScript's
// whitespace again, where the Rust library uses char::is_whitespace (White_Space). Only these two calls and components
// the compared tokenizers lack (the Strip normalizer, remove_space, some decoders) use them in tokenizers.js, so within
// the comparing process they are redefined as White_Space (found by the fuzzer: "٢\u0085[MASK]", "<sep>\uFEFF x").
const GPT2_ONIGURUMA = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

String.prototype.trimEnd = function () { return String(this).replace(/\p{White_Space}+$/u, ""); };
String.prototype.trimStart = function () { return String(this).replace(/^\p{White_Space}+/u, ""); };

export function fixTokenizersJs(tokenizer) {
  const visit = (p) => {
    if (!p) return;
    if (p.constructor?.name === "ByteLevel" && p.pattern instanceof RegExp) p.pattern = new RegExp(GPT2_ONIGURUMA);
    for (const inner of p.tokenizers ?? []) visit(inner);
  };
  visit(tokenizer.pre_tokenizer);
  return tokenizer;
}
