// Writes seeded random strings for differential fuzzing of the byte-level BPE tokenizers (byte-level-tokenizer-fuzz.sh),
// one JSON string a line: mixed scripts, decomposed accents and combining marks out of order, conjoining Hangul jamo,
// CJK compatibility ideographs, singletons and composition exclusions, compatibility characters, emoji with ZWJ,
// skin tones, flags and keycaps, astral letters and digits, whitespace runs (\r\n, \t, U+00A0, U+3000, U+0085, U+2028),
// digit runs, long runs of one piece, contractions, and special-token text (<|im_start|>, <|eot_id|>, …) alone, inside words or cut short.
// Combining marks and normalization-sensitive characters come only from Unicode 9.0 or earlier: Hugging Face's Rust
// tokenizers normalizes with Unicode 9.0 tables, Estuary with 14.0 (Python 3.11), tokenizers.js with Node's ICU, so later
// characters would measure the versions, not the implementations. Lone surrogates are left out (JSON from JS cannot carry them).
// Usage: node byte-level-tokenizer-fuzz-strings.mjs SEED COUNT > strings.jsonl
const [seedArg = "1", countArg = "1000"] = process.argv.slice(2);
let state = Number(seedArg) >>> 0;
const rand = () => { // mulberry32
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const below = (n) => Math.floor(rand() * n);
const pick = (a) => a[below(a.length)];
const cp = (lo, hi) => String.fromCodePoint(lo + below(hi - lo + 1));
const repeat = (n, f) => Array.from({ length: n }, f).join("");

const marks = [[0x300, 0x36F], [0x591, 0x5C7], [0x610, 0x61A], [0x64B, 0x65F], [0x93C, 0x94D], [0x1DC0, 0x1DF5], [0x20D0, 0x20F0],
               [0x302A, 0x302F], [0x3099, 0x309A], [0xFE20, 0xFE2F]];
const letters = [[0x41, 0x5A], [0x61, 0x7A], [0xC0, 0x17F], [0x391, 0x3C9], [0x410, 0x44F], [0x5D0, 0x5EA], [0x627, 0x64A],
                 [0x905, 0x939], [0xE01, 0xE2E], [0x4E00, 0x9FA5], [0x3041, 0x3096], [0x30A1, 0x30FA], [0xAC00, 0xD7A3], [0x1E00, 0x1EFF]];
const singletons = [0x212B, 0x2126, 0x212A, 0x1FFD, 0x340, 0x341, 0x343, 0x374, 0x37E, 0x387, 0x1F71, 0x1FEE, 0x2000, 0x2001, 0x2329, 0x232A];
const exclusions = [0x958, 0x959, 0x95A, 0x95F, 0x9DC, 0x9DD, 0x9DF, 0xA33, 0xA36, 0xA59, 0xA5E, 0xB5C, 0xF43, 0xF52, 0xF69, 0xF73,
                    0xF75, 0xF76, 0xF81, 0xFB1D, 0xFB2A, 0xFB4E, 0x2ADC, 0x1D15E, 0x1D164, 0x1D1BB, 0x344];
const compat = [0xFB01, 0xFB02, 0x2460, 0x2461, 0xBD, 0xB2, 0xB3, 0xFF21, 0xFF41, 0xFF10, 0x3000, 0x2122, 0x2153, 0x3300, 0x1D400,
                0x1D7D9, 0x2FA1D, 0xA0, 0x2002, 0x2024, 0x2025, 0x2026, 0x33C4, 0xFE30, 0xFDFA];
const specials = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|begin_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<think>", "</think>", "<tool_call>", "[MASK]", "<sep>", "<|endoftext|>x", "<|im_", "<|eot_id",
                  "|>", "<|", "café!", "x <tool", "call>x"];
const emoji = ["😀", "👍🏽", "👩‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇺🇸🇬🇧", "1️⃣", "#️⃣", "❤️", "🧑🏿‍🚀", "👨‍💻", "✌🏻", "🫠", "☕"];
const whitespace = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00A0", "\u3000", "\u0085", "\u2028", "\u2029", " \n ",
                    "\t\t", "\u200B", "\uFEFF", "\u2009", "\u202F", "\f", "\v"];
const contractions = ["'s", "'S", "'LL", "'ll", "'t", "'re", "'Ve", "'M", "'D", "’s", "n't", "'", "''"];
const words = ["the", "The", "LORD", "hello", "world", "naïve", "café", "Straße", "東京", "日本語", "한국어", "Привет", "Ελλάδα",
               "مرحبا", "שלום", "नमस्ते", "ไทย", "über", "l'été", "don't", "I'm", "def", "return", "x**2", "http://a.b/c?d=1"];

const parts = [
  () => pick(words),
  () => repeat(1 + below(6), () => cp(...pick(letters))),
  () => cp(...pick(letters)) + repeat(1 + below(4), () => cp(...pick(marks))),           // marks after a letter, any order
  () => pick(["e", "a", "o", "u", "A", "O", "n", "c"]) + pick(["\u0301", "\u0300", "\u0308", "\u0302", "\u0303", "\u0327", "\u030A"]),
  () => cp(0x1100, 0x1112) + cp(0x1161, 0x1175) + (below(2) ? cp(0x11A8, 0x11C2) : ""),  // conjoining jamo
  () => cp(0xAC00, 0xD7A3) + (below(2) ? cp(0x11A8, 0x11C2) : ""),                       // syllable (+ trailing jamo)
  () => cp(0xF900, 0xFA2D) + (below(3) ? "" : String.fromCodePoint(0x2F800 + below(0x21D))),
  () => String.fromCodePoint(pick(singletons)),
  () => String.fromCodePoint(pick(exclusions)),
  () => String.fromCodePoint(pick(compat)),
  () => pick(emoji),
  () => String.fromCodePoint(pick([0x1D400 + below(0x3FF), 0x20000 + below(0xA6D6), 0x1F300 + below(0x34F), 0x10000 + below(0x7F), 0x1D7CE + below(0x31)])),
  () => pick(whitespace),
  () => repeat(1 + below(3), () => pick(whitespace)),
  () => repeat(1 + below(12), () => String(below(10))),
  () => repeat(1 + below(5), () => pick(["\u0661", "\u0662", "\u06F3", "\u0967", "\uFF11", "\u00B2", "\u2460", "\u{1D7D9}"])),
  () => pick(contractions),
  () => pick(specials),
  () => pick(words) + pick(specials) + pick(words),
  () => pick(["a", "ab", " ", "\n", "0", "😀", "e\u0301", "的", "-", " the"]).repeat(20 + below(300)),   // long runs (word cache, merge loop)
  () => repeat(1 + below(4), () => pick([".", ",", "!", "?", "...", "—", "“", "”", "(", ")", "{", "}", "$", "%", "#", "@", "\\", "`"])),
];

const count = Number(countArg);
const out = [];
for (let i = 0; i < count; i++) {
  const n = 1 + below(10);
  let s = "";
  for (let j = 0; j < n; j++) s += pick(parts)() + (below(3) ? "" : " ");
  out.push(JSON.stringify(s));
}
process.stdout.write(out.join("\n") + "\n");
