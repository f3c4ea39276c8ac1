// Writes the byte-level BPE test tokenizers and their reference encodings for tests/Estuary.Tokenization.Tests:
//   Data/byte-level/llama3-style/  Llama 3's layout: Split with Llama 3's pattern, ByteLevel without its own split,
//                                  ignore_merges, merges as pairs, special added tokens, BOS from TemplateProcessing
//   Data/byte-level/gpt2-style/    GPT-2's layout: ByteLevel with add_prefix_space and its own split, merges as "a b",
//                                  added tokens with lstrip / rstrip and one that is not special, no BOS
//   Data/byte-level/qwen2-style/   Qwen2's layout: an NFC normalizer, Qwen2's pattern (single digits), ByteLevel without its
//                                  own split, a ByteLevel post-processor (no BOS), ChatML added tokens, and normalized added
//                                  tokens (matched in the NFC text after the raw ones), one of them written un-normalized
//   Data/byte_level_references.json  ids (with and without the added BOS), pieces and decodings of every case string,
//                                  computed by Hugging Face's tokenizers.js (an independent implementation)
// The merges are trained here, by a plain BPE trainer, on the fixtures' held-out Bible and Chinese text (public domain).
// Run with scripts/byte-level-tokenizer-references.sh, which installs tokenizers.js into a temporary folder.
import fs from "fs";
import path from "path";
import { fixTokenizersJs } from "./tokenizers-js-fixes.mjs";

const [tokenizersModule, fixtures, testsData] = process.argv.slice(2);
const { Tokenizer } = await import(tokenizersModule);

const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const NUM_MERGES = 1200;

// GPT-2's byte alphabet.
const charOfByte = [];
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    charOfByte.push(String.fromCharCode(printable ? b : next++));
  }
}
const toAlphabet = (s) => Array.from(new TextEncoder().encode(s), (b) => charOfByte[b]).join("");

// Plain BPE training: words from Llama 3's pattern (JavaScript's u flag gives \p{L}; the inline (?i:) group is spelled out),
// the most frequent adjacent pair merged each round, ties to the smallest pair in code-unit order.
function train(text) {
  const split = new RegExp("'s|'t|'re|'ve|'m|'ll|'d|'S|'T|'RE|'VE|'M|'LL|'D|" + LLAMA3_PATTERN.slice(LLAMA3_PATTERN.indexOf(")|") + 2), "gu");
  const counts = new Map();
  for (const m of text.matchAll(split)) {
    const w = toAlphabet(m[0]);
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts].map(([w, c]) => ({ symbols: [...w], count: c }));
  const vocab = new Map(charOfByte.map((c, i) => [c, i]));
  const merges = [];
  for (let round = 0; round < NUM_MERGES; round++) {
    const pairs = new Map();
    for (const { symbols, count } of words)
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + "\u0000" + symbols[i + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    let best = null, bestCount = 0;
    for (const [key, c] of pairs) if (c > bestCount || (c === bestCount && key < best)) [best, bestCount] = [key, c];
    if (best === null || bestCount < 2) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
    for (const w of words) {
      const out = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === a && w.symbols[i + 1] === b) { out.push(a + b); i++; }
        else out.push(w.symbols[i]);
      }
      w.symbols = out;
    }
  }
  return { vocab: Object.fromEntries(vocab), merges };
}

const added = (id, content, special, extra = {}) =>
  ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special, ...extra });

function llama3Style({ vocab, merges }) {
  const n = Object.keys(vocab).length;
  const specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|python_tag|>"];
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: specials.map((s, i) => added(n + i, s, true)),
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: LLAMA3_PATTERN }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: "Sequence", processors: [
      { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
      { type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
        pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
               { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
        special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [n], tokens: ["<|begin_of_text|>"] } } }] },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges },
  };
}

function gpt2Style({ vocab, merges }) {
  const n = Object.keys(vocab).length;
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [added(n, "<|endoftext|>", true), added(n + 1, "[MASK]", false, { lstrip: true }),
                   added(n + 2, "<sep>", true, { rstrip: true }), added(n + 3, "<|endoftext|>x", false)],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}

function qwen2Style({ vocab, merges }) {
  const n = Object.keys(vocab).length;
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [added(n, "<|endoftext|>", true), added(n + 1, "<|im_start|>", true), added(n + 2, "<|im_end|>", true),
                   added(n + 3, "<tool_call>", false),
                   // normalized: matched in the NFC text, so "cafe\u0301!" and "café!" both contain it; the second is written
                   // with the Angstrom sign, which NFC turns into Å, so only its NFC spelling (or the sign itself) matches
                   added(n + 4, "café!", false, { normalized: true }), added(n + 5, "\u212Bngstr\u00F6m", false, { normalized: true }),
                   // overlap "<tool_call>": the raw tokens are split out first, so these match only where that one does not
                   added(n + 6, "call>x", false, { normalized: true }), added(n + 7, "x <tool", false, { normalized: true })],
    normalizer: { type: "NFC" },
    pre_tokenizer: { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: QWEN2_PATTERN }, behavior: "Isolated", invert: false }, byteLevel] },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

// The held-out text, plus lines that teach merges across a character beyond U+FFFF and its neighbours (Oniguruma matches
// code points; a UTF-16 matcher would cut these words apart).
const corpus = fs.readFileSync(path.join(fixtures, "baichuan2-bible-256", "heldout.txt"), "utf8");
const trained = train(corpus + "\n" + "😀abc a𝐀b 𝐀𝐁c 𠀀𠀁ab x\u{1D7D9}\u{1D7DA}y 12\u{1D7D9}\n".repeat(40));
// Whole words in the vocabulary that no merge makes, as real vocabularies have: with ignore_merges a word equal to one is
// that token, without it BPE splits the word.
for (const word of [" Jerusalem", " firmament", "平方", " unmerged"]) {
  const w = toAlphabet(word);
  if (!(w in trained.vocab)) trained.vocab[w] = Object.keys(trained.vocab).length;
}
const variants = {
  "llama3-style": [llama3Style(trained), { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", clean_up_tokenization_spaces: false, tokenizer_class: "PreTrainedTokenizerFast" }],
  "gpt2-style": [gpt2Style(trained), { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", clean_up_tokenization_spaces: false, tokenizer_class: "GPT2TokenizerFast" }],
  "qwen2-style": [qwen2Style(trained), { bos_token: null, eos_token: "<|im_end|>", pad_token: "<|endoftext|>", clean_up_tokenization_spaces: false, tokenizer_class: "Qwen2Tokenizer" }],
};

// Case strings: the fixtures' tricky tokenizer strings, lines of the training text, and strings aimed at each component.
const texts = [];
const addText = (t) => { if (!texts.includes(t)) texts.push(t); };
for (const t of JSON.parse(fs.readFileSync(path.join(fixtures, "tokenizers", "reference.json"), "utf8")).tokenizers)
  for (const c of t.cases) addText(c.text);
corpus.split("\n").filter((l, i) => i % 37 === 5 && l.length > 0).slice(0, 20).forEach(addText);
[
  "😀abc 𝐀𝐁c", "I'LL be there, you're ALL'S", "Hello\r\n\r\nWorld\n\n\n  x", "12345678901 3.14159 ١٢٣٤",
  "<|eot_id|>hi<|start_header_id|>user<|end_header_id|>\n\nWhat is it?<|eot_id|>", "<|begin_of_text|><|begin_of_text|>", "<|eot_id",
  "a".repeat(300), " ".repeat(40) + "x", "\t\t\tdef f(x):\n\t\treturn x**2  # 平方", "naïve café — “quoted” …", "𠀀𠀁 chinese ext-b 𠀂abc",
  "👩‍👩‍👧‍👦 family", "\u00a0nbsp\u3000ideographic", "don't\u2019t", "x\u2028y\u2029z\u0085w", "日本語のテキストです。", "한국어 텍스트",
  "Ünïcödé ÀÉÎ", "$$$ %%% ^^^ ~~~", "http://example.com/path?q=1&r=2#frag", "And God said, Let there be light: and there was light.",
  "the LORD   said unto Moses", "hello [MASK] world", "a   [MASK]b", "x<sep>   y", "<sep>\n\nz", "<|endoftext|>x and <|endoftext|> y",
  "<|endoftext|>", "[MASK][MASK]", "  leading spaces", "trailing spaces   ", "\u{1F600}\u{1F600}\u{1F600}",
  "😀abc a𝐀b 𝐀𝐁c 𠀀𠀁ab x\u{1D7D9}\u{1D7DA}y 12\u{1D7D9}", "in Jerusalem the firmament was unmerged, 平方",
  // Text whose NFC differs from it (only characters of Unicode 9 or earlier, the version of the Rust tokenizers' tables):
  // decomposed accents, conjoining Hangul jamo, CJK compatibility ideographs, singletons, composition exclusions,
  // combining marks out of order, non-starter decompositions, marks after added tokens
  "cafe\u0301 nai\u0308ve re\u0301sume\u0301", "\u1100\u1161\u11A8 \u1112\u1161\u11AB\u1100\u1173\u11AF \uAC00\u11A8", "\uF900\uF901 \uFA10 \u{2F800}",
  "\u212B \u2126 \u212A \u1FFD \u0340\u0341", "\u0958\u0959 \u0F43 \u{1D15E}", "a\u0301\u0323 e\u0323\u0302 o\u031B\u0300\u0323",
  "\u0344 \u0F73 \u0F75", "<|im_start|>\u0301x<|im_end|>\u0308", "\uFB01 \u2460 \u00BD \uFF21\uFF22 \u2126",
  "<|im_start|>user\ncafe\u0301!<|im_end|>\n<|im_start|>assistant\n", "café! cafe\u0301! \u212Bngstr\u00F6m \u00C5ngstro\u0308m A\u030Angstrom",
  "<tool_call>x <tool_call x call>x", "x <tool_call> x <tool",
  // found by scripts/byte-level-tokenizer-fuzz.sh: a precomposed Latin letter whose mark must be reordered after a lower class
  "c\u0303\u011B\u302C\u032D\u033A \u00E9\u0323 \u0105\u0304\u0303",
  // found by scripts/byte-level-tokenizer-fuzz.sh: U+0085 and U+FEFF are and are not whitespace to Oniguruma's \s
  "  \u0085x \uFEFF\uFEFF  \uFEFFy\t\u0085\u0085 z", "\u0662\u0085[MASK] <sep>\uFEFF x don't\uFEFF [MASK] <sep>\u0085 y", "3.14159 x\u00B2 \u0661\u0662\u0663 1000000",
].forEach(addText);

const references = { format: "byte-level-references/1", generator: "scripts/byte-level-tokenizer-references.mjs with @huggingface/tokenizers", tokenizers: [] };
for (const [name, [json, config]] of Object.entries(variants)) {
  const dir = path.join(testsData, "byte-level", name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(json, null, 1) + "\n");
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config, null, 1) + "\n");
  const tokenizer = fixTokenizersJs(new Tokenizer(json, config));
  const decode = (ids, skip) => (ids.length ? tokenizer.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false }) : "");
  const cases = texts.map((text) => {
    const withSpecial = tokenizer.encode(text).ids;
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    return { text, ids, ids_with_special: withSpecial, pieces: tokenizer.encode(text, { add_special_tokens: false }).tokens,
             decoded: decode(ids, false), decoded_skip_special: decode(ids, true) };
  });
  references.tokenizers.push({ name, vocab_size: Object.keys(json.model.vocab).length + json.added_tokens.length, merges: json.model.merges.length, cases });
  console.log(`${name}: ${json.model.merges.length} merges, ${cases.length} cases`);
}
fs.writeFileSync(path.join(testsData, "byte_level_references.json"), JSON.stringify(references, null, 1) + "\n");
