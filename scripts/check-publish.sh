#!/usr/bin/env bash
# Publishes the lean self-contained CLI (publish profile linux-x64: one trimmed, compressed file) and checks that it answers
# exactly as the framework-dependent build does, run with no .NET on its PATH or in DOTNET_ROOT:
#   generation on the embedded model, make-model / make-lora / merge-lora / quantize (int8, awq) written byte for byte alike,
#   every HTTP API (plain and streaming; scripts/http-requests.cs) giving the same statuses and bodies, the same errors for
#   bad input,
#   and a bench compare run writing its files and chart.
# Trimming removes framework code that nothing references statically; this is the check that nothing Estuary reaches by
# reflection went with it. Usage: scripts/check-publish.sh (from anywhere); exit status 0 when every check holds.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build src/Estuary.Cli -c Release -v quiet -nologo >/dev/null
dotnet publish src/Estuary.Cli -c Release -p:PublishProfile=linux-x64 -v quiet -nologo >/dev/null
lean_binary=$PWD/publish/linux-x64/estuary
framework_dll=$PWD/artifacts/bin/Estuary.Cli/release/estuary.dll
size_mb=$(( $(stat -c %s "$lean_binary") / 1000000 ))
echo "published $lean_binary ($size_mb MB)"

work=$(mktemp -d)
servers=()
cleanup() { for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/lean" "$work/framework" "$work/home"

# Runs one CLI command with either build, in that build's folder: lean with an environment that has no .NET at all.
run_with() {
  local which=$1; shift
  if [ "$which" = lean ]; then
    (cd "$work/lean" && env -i HOME="$work/home" TMPDIR="$work/home" PATH=/nonexistent DOTNET_ROOT=/nonexistent "$lean_binary" "$@")
  else
    (cd "$work/framework" && dotnet "$framework_dll" "$@")
  fi
}

failures=0
check_same() { # name, then the two results to compare
  if [ "$2" == "$3" ]; then echo "ok    $1"; else echo "FAIL  $1"; diff <(echo "$2") <(echo "$3") | head -20 || true; failures=$((failures + 1)); fi
}
untimed() { sed -E 's/[0-9]+(\.[0-9]+)? ?(s|ms|tok\/s|tokens\/s)\b/N \2/g'; }
both() { # expected exit status, name, command: output (stdout, stderr, exit status; durations blanked) of each build compared
  local expected=$1 name=$2; shift 2
  local a b
  a=$( (run_with lean "$@" 2>&1; echo "exit $?") | untimed) || true
  b=$( (run_with framework "$@" 2>&1; echo "exit $?") | untimed) || true
  if [ "${a##*exit }" != "$expected" ]; then
    echo "FAIL  $name: exit ${a##*exit }, expected $expected"; echo "$a" | tail -5; failures=$((failures + 1)); return
  fi
  check_same "$name" "$a" "$b"
}
same_files() { # name, then paths relative to each build's folder whose bytes must be equal
  local name=$1; shift
  local a b
  a=$(cd "$work/lean" && sha256sum "$@" 2>&1) || true
  b=$(cd "$work/framework" && sha256sum "$@" 2>&1) || true
  check_same "$name" "$a" "$b"
}

both 0 "--version" --version
both 0 "tokenize (byte-level BPE, tokenizer.json)" tokenize --model "$PWD/tests/Estuary.Tokenization.Tests/Data/byte-level/llama3-style" \
  --pieces --text "And God said, Let there be light 😀 平方 <|eot_id|>"
both 0 "generate (embedded model, greedy)" generate --prompt "Once upon a time" --max-tokens 40 --temperature 0
both 0 "make-model" make-model --shape tiny-llama --dtype f32 -o m --seed 3
same_files "make-model bytes" m/model.safetensors m/config.json m/tokenizer.model
both 0 "make-lora" make-lora --model m -o adapter --rank 4 --seed 5
same_files "make-lora bytes" adapter/adapter_model.safetensors
both 0 "merge-lora" merge-lora --lora-model-dir adapter --base-model-dir m --merged-model-dir merged --dtype f32
same_files "merge-lora bytes" merged/model-00001-of-00001.safetensors merged/model.safetensors.index.json merged/config.json
both 0 "quantize int8" quantize --model-dir merged --output-dir q8 --method int8
same_files "quantize int8 bytes" q8/model.safetensors q8/config.json
both 0 "quantize awq" quantize --model-dir merged --output-dir q4 --method awq --calib-samples 4 --calib-seqlen 64 --threads 1
same_files "quantize awq bytes" q4/model.safetensors q4/config.json
both 0 "generate (awq model)" generate --model q4 --prompt "hello" --max-tokens 12 --temperature 0
both 0 "generate --json-schema" generate --prompt "Once upon a time" --max-tokens 60 --temperature 0 --json-schema '{"type":"object","properties":{"a":{"enum":["x","y"]},"b":{"type":"array","items":{"type":"boolean"},"maxItems":2}},"required":["a","b"]}'
both 0 "generate --regex" generate --prompt "Once upon a time" --max-tokens 20 --temperature 0 --regex ' [A-Z][a-z]+( [a-z]+){0,3}\.'
both 0 "generate --lora" generate --model m --lora a=adapter --use-lora a --prompt "hello" --max-tokens 12 --temperature 0
both 2 "bad input: missing model" generate --model does-not-exist --prompt hi
both 2 "bad input: unknown shape" make-model --shape no-such-shape -o x
both 2 "bad input: unsupported regex" generate --prompt hi --regex 'a(?=b)' 

# The HTTP APIs: one server per build, the same requests (scripts/http-requests.cs), answers compared with ids and times blanked.
start_server() { # which: starts it on a free port (--port 0)
  if [ "$1" = lean ]; then
    (cd "$work/lean" && exec env -i HOME="$work/home" TMPDIR="$work/home" PATH=/nonexistent DOTNET_ROOT=/nonexistent "$lean_binary" serve --port 0 >"$work/serve-$1.log" 2>&1) &
  else
    (cd "$work/framework" && exec dotnet "$framework_dll" serve --port 0 >"$work/serve-$1.log" 2>&1) &
  fi
  servers+=($!)
}
server_url() { # which: the address from its "serving … on URL" line, waiting up to 30 s
  local url
  for _ in $(seq 1 150); do
    url=$(grep -o 'on http://[^ ]*' "$work/serve-$1.log" 2>/dev/null | head -1 | cut -c4-)
    [ -n "$url" ] && { echo "$url"; return 0; }
    sleep 0.2
  done
  echo "the $1 server did not start:" >&2; tail -20 "$work/serve-$1.log" >&2; return 1
}
start_server lean
start_server framework
dotnet build scripts/http-requests.cs -v quiet -nologo >/dev/null
lean_answers=$(url=$(server_url lean) && dotnet run --no-build scripts/http-requests.cs -- "$url" 2>&1) || { echo "$lean_answers"; tail -20 "$work/serve-lean.log"; }
framework_answers=$(url=$(server_url framework) && dotnet run --no-build scripts/http-requests.cs -- "$url" 2>&1) || echo "$framework_answers"
if [[ "$lean_answers" != *"POST /v1/chat/completions → 200"* ]]; then
  echo "FAIL  HTTP APIs: the lean server did not answer a chat completion"; failures=$((failures + 1))
else
  check_same "HTTP APIs (/inference, /v1, /v2, errors, /metrics)" "$lean_answers" "$framework_answers"
fi

# bench compare: timings differ by nature; the lean build must finish and write its data and chart.
if run_with lean bench compare --model m --concurrency 1,2 --input-len 16 --output-lens 4 --out bench >"$work/bench.log" 2>&1 \
   && [ -s "$work/lean/bench/compare-16-4.png" ] && [ -s "$work/lean/bench/compare-16-4-continuous.json" ]; then
  echo "ok    bench compare (files and chart written)"
else
  echo "FAIL  bench compare"; tail -20 "$work/bench.log"; failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then echo "check-publish: $failures check(s) failed"; exit 1; fi
echo "check-publish: the published binary ($size_mb MB) answers as the framework-dependent build does"
