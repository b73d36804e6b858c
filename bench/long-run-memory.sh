#!/usr/bin/env bash
# Peak resident memory of `stepml run` over long runs of a tiny job (issue 7: memory must stay flat over rounds).
# Runs the same job for each round count (default 300 1200 3000) in a fresh store under /usr/bin/time -v and prints
# rounds, executions (continue-as-new), wall seconds and peak RSS. Not a test: the figures go to the README.
# Usage: bench/long-run-memory.sh [ROUNDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=("${@:-300 1200 3000}")
read -r -a rounds <<< "${rounds[*]}"
dotnet build cli/StepML.Cli -c Release -nologo -v quiet > /dev/null
stepml="$PWD/cli/StepML.Cli/bin/Release/net10.0/stepml"
work="$(mktemp -d /tmp/stepml-longrun-XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$stepml" data generate higgs --rows 2000 --features 4 --seed 1 --out "$work/tiny.libsvm" > /dev/null
printf '%8s %11s %9s %12s\n' rounds executions wall_s peak_rss_mb
for n in "${rounds[@]}"; do
  store="$work/store-$n"
  cat > "$work/job-$n.json" <<JOB
{ "name": "longrun", "runId": "longrun-$n", "dataset": { "path": "$work/tiny.libsvm", "partitions": 2 },
  "algorithm": { "type": "ga-sgd", "learningRate": 0.1, "batchSize": 100 },
  "stop": { "maxRounds": $n, "tolerance": 0, "maxSeconds": 36000 } }
JOB
  /usr/bin/time -v "$stepml" run "$work/job-$n.json" --store "$store" --quiet --concurrency 2 > "$work/out-$n.txt" 2> "$work/time-$n.txt"
  rss_kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/time-$n.txt")
  wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$work/time-$n.txt")
  executions=$(ls "$store/runs/longrun-$n/history" | wc -l)
  printf '%8s %11s %9s %12.1f\n' "$n" "$executions" "$wall" "$(echo "$rss_kb / 1024" | bc -l)"
done
