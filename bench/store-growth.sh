#!/usr/bin/env bash
# What a run leaves in its store, by kind, after R rounds (issue 13's leftover: statistics grew the store by ~10 MB a
# round until stepml gc). Trains an MLP (28-256-256-2, 73,986 floats) with Adam (optimizer state twice the model) on 8
# partitions of generated Higgs-shaped data, and an ADMM logistic model (worker state), each for every round count
# given (default 10 40), in fresh folder stores; prints the bytes under model/, rounds/ (statistics, merged shards,
# optimizer state), workers/ and the whole run. Not a test: the figures go to the README ("Store growth").
# Usage: bench/store-growth.sh [ROUNDS...]   STEPML=path/to/stepml to measure another build
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=("${@:-10 40}")
read -r -a rounds <<< "${rounds[*]}"
if [[ -z "${STEPML:-}" ]]; then
  dotnet build cli/StepML.Cli -c Release -nologo -v quiet > /dev/null
  STEPML="$PWD/cli/StepML.Cli/bin/Release/net10.0/stepml"
fi
work="$(mktemp -d /tmp/stepml-growth-XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$STEPML" data generate higgs --rows 16000 --features 28 --seed 1 --out "$work/higgs.libsvm" > /dev/null
# Object bytes (files); the folder store leaves the emptied round folders behind (4 KiB each on ext4).
bytes() { if [[ -d "$1" ]]; then find "$1" -type f -printf "%s\n" | awk "{ s += \$1 } END { print s + 0 }"; else echo 0; fi; }
printf '%-6s %6s %12s %12s %12s %12s\n' job rounds model_B rounds_B workers_B run_B
for job in mlp-adam admm; do
  for n in "${rounds[@]}"; do
    id="growth-$job-$n"
    case $job in
      mlp-adam) model='{ "type": "mlp", "hidden": [256, 256] }'
                algorithm='{ "type": "ga-sgd", "optimizer": "adam", "learningRate": 0.001, "batchSize": 64 }' ;;
      admm)     model='{ "type": "logistic", "l2": 0.001 }'
                algorithm='{ "type": "admm", "rho": 0.02, "localEpochs": 1, "learningRate": 0.5, "batchSize": 200 }' ;;
    esac
    cat > "$work/$id.json" <<JOB
{ "name": "$id", "runId": "$id", "dataset": { "path": "$work/higgs.libsvm", "partitions": 8 },
  "model": $model, "algorithm": $algorithm, "stop": { "maxRounds": $n, "tolerance": 0 } }
JOB
    store="$work/store-$id"
    "$STEPML" run "$work/$id.json" --store "$store" --quiet --concurrency 2 > "$work/$id.out"
    run="$store/runs/$id"
    printf '%-6s %6s %12s %12s %12s %12s\n' "$job" "$n" "$(bytes "$run/model")" "$(bytes "$run/rounds")" "$(bytes "$run/workers")" "$(bytes "$run")"
  done
done
