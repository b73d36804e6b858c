#!/usr/bin/env bash
# Builds stepml in Release and runs `stepml bench` N times (default 3), keeping every JSON document under
# bench/results/ and printing one line per run with the figures the targets are about.
# Usage: bench/run.sh [RUNS] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
shift || true
dotnet build cli/StepML.Cli -c Release -nologo -v quiet
mkdir -p bench/results
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
for i in $(seq 1 "$runs"); do
  out="bench/results/bench-$stamp-$i.json"
  dotnet cli/StepML.Cli/bin/Release/net10.0/stepml.dll bench --out "$out" "$@" > /dev/null
  if command -v jq > /dev/null; then
    jq -r '"load \(.machine.loadAverage1m)  parse \(.libsvmParse.megabytesPerSecond) MB/s  codec w \(.tensorCodec.writeGigabytesPerSecond) r \(.tensorCodec.readGigabytesPerSecond) GB/s  gradient \(.logisticGradient.gradientGigabytesPerSecond)/\(.logisticGradient.memoryReadGigabytesPerSecond) GB/s = \(.logisticGradient.ratio)  engine \(.engineOverhead[0].millisecondsPerRound) / \(.engineOverhead[1].millisecondsPerRound) ms  requests match: \(.targetsMet.storageRequests)"' "$out"
  else
    echo "wrote $out"
  fi
done
