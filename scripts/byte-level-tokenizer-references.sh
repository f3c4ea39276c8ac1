#!/usr/bin/env bash
# Regenerates the byte-level BPE test tokenizers and reference encodings (see byte-level-tokenizer-references.mjs).
# Needs Node.js and npm; installs @huggingface/tokenizers into a temporary folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
fixtures="${ESTUARY_FIXTURES:-$repo/../shared/fixtures}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm install --silent --no-save --prefix "$work" @huggingface/tokenizers@0.2.0 >/dev/null
node "$here/byte-level-tokenizer-references.mjs" "$work/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs" \
  "$fixtures" "$repo/tests/Estuary.Tokenization.Tests/Data"
