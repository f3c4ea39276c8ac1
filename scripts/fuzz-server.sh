#!/usr/bin/env bash
# Long server fuzzing: runs ServerFuzzTests (tests/Estuary.Server.Tests/Fuzzing) for several seeds with many requests each,
# against the embedded stories260K, a byte-level model with a chat template and a reasoning model, and keeps a log of every request's outcome.
# Usage: scripts/fuzz-server.sh [FIRST_SEED] [SEEDS] [REQUESTS_PER_SERVER] [CONCURRENCY]   (defaults: 1 5 5000 4)
# ESTUARY_FUZZ_STORIES_TOOL_PARSER=llama3_json (any --tool-call-parser name) serves stories260K with that parser instead of
# the constrained default.
# A failure prints the broken rule and the request (seed, index, mutations, body); rebuild it with ServerFuzzer.Build(seed, index).
set -euo pipefail
cd "$(dirname "$0")/.."
first=${1:-1}; seeds=${2:-5}; count=${3:-5000}; concurrency=${4:-4}
logs=${ESTUARY_FUZZ_LOG:-$(mktemp -d /tmp/estuary-fuzz-XXXXXX)}
mkdir -p "$logs"
export ESTUARY_FIXTURES=${ESTUARY_FIXTURES:-$(pwd)/../shared/fixtures}
dotnet build tests/Estuary.Server.Tests -c Release -v q -nologo
status=0
for ((seed = first; seed < first + seeds; seed++)); do
  echo "== seed $seed: $count requests per server, $concurrency at a time"
  if ! ESTUARY_FUZZ_SEED=$seed ESTUARY_FUZZ_COUNT=$count ESTUARY_FUZZ_CONCURRENCY=$concurrency ESTUARY_FUZZ_LOG=$logs \
    dotnet test tests/Estuary.Server.Tests -c Release --no-build --filter "FullyQualifiedName~ServerFuzzTests.Seeded_fuzzing" \
    --logger "console;verbosity=detailed" > "$logs/seed-$seed.out" 2>&1; then
    status=1
  fi
  grep -E "^ .*requests:|broke a rule|    request: #|^[0-9a-z].* (answered|with|whose|without|the |a |no )" "$logs/seed-$seed.out" | sort -u || true
done
echo "logs (one line per request: index, time, path, outcome, mutations, error body): $logs"
exit $status
