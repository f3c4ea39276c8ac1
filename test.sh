#!/usr/bin/env bash
# The test command: builds the solution and runs every test project (Release, so kernels run at speed).
set -euo pipefail
cd "$(dirname "$0")"
dotnet test Estuary.slnx -c Release "$@"
