#!/usr/bin/env bash
# Partitioning benchmark (issue 8 §1): the same generated LIBSVM file through the state machine's Partition Map
# and through the one-process partitioner, in one run. Not a timed test: it prints figures for the README.
#
#   bench/partition_map.sh [ROWS] [WORKDIR]      (defaults: 13,000,000 rows = 4.3 GB; a temporary folder)
#
# Measured: wall time and peak resident memory (/usr/bin/time -v) of
#   1. `stepml data partition` (one process, streaming, spill files);
#   2. `stepml run` of a one-round job at --concurrency 1: the engine runs one task at a time, so the process's
#      peak resident set bounds every single task's (Partition range, Assemble, Worker with STEPML_CACHE_MB=0);
#   3. the same at --concurrency 2 (this machine's cores) on a fresh store, for the wall time;
#   4. every task of the partitioning on its own, each in a fresh process (`stepml invoke`, one event per process as
#      Lambda runs one per sandbox): Prepare, each Partition range, Summarize, each Assemble output, Commit. Peak
#      resident memory per task kind (max over its tasks) and /tmp per task (a range task's pieces; an Assemble
#      task's partition file: exactly what each writes through /tmp), and a byte comparison of the partitions with
#      the state machine's.
# Per-state durations come from the run's history (stepml history). Everything is deleted at the end.
set -euo pipefail
ROWS=${1:-13000000}
WORK=${2:-$(mktemp -d /tmp/stepml-partition-bench-XXXX)}
PARTITIONS=${PARTITIONS:-64}
RANGE_MB=${RANGE_MB:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STEPML="$ROOT/cli/StepML.Cli/bin/Release/net10.0/stepml"
[ -x "$STEPML" ] || dotnet build -c Release "$ROOT/cli/StepML.Cli" >/dev/null
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

# The file, its pieces, the partitions of both partitioners and a second store: about 3.5x the file.
NEED_GB=$(( ROWS * 330 * 35 / 10 / 1000000000 + 1 ))
AVAIL_GB=$(df -BG --output=avail "$WORK" | tail -1 | tr -dc 0-9)
if [ "$AVAIL_GB" -lt "$NEED_GB" ]; then echo "need about ${NEED_GB} GB free in $WORK, have ${AVAIL_GB} GB" >&2; exit 2; fi

measure() { # label, command...: prints wall seconds and peak RSS in MB
  local label=$1; shift
  /usr/bin/time -v "$@" > "$WORK/$label.out" 2> "$WORK/$label.time"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$WORK/$label.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$WORK/$label.time" | awk '{print $NF}')
  printf '%-34s wall %10s   peak RSS %6d MB\n' "$label" "$wall" $(( rss / 1024 ))
}

echo "generating $ROWS rows -> $WORK/higgs.libsvm"
"$STEPML" data generate higgs --rows "$ROWS" --out "$WORK/higgs.libsvm" >/dev/null
SIZE=$(stat -c %s "$WORK/higgs.libsvm")
echo "file: $SIZE bytes; $PARTITIONS partitions; ranges of $RANGE_MB MiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"

measure one-process "$STEPML" data partition "$WORK/higgs.libsvm" --partitions "$PARTITIONS" --features 28 --out "$WORK/one-process"
rm -rf "$WORK/one-process"

cat > "$WORK/job.json" <<JOB
{ "name": "partition-bench", "runId": "partition-bench",
  "dataset": { "path": "datasets/higgs.libsvm", "partitions": $PARTITIONS, "features": 28 },
  "algorithm": { "type": "ga-sgd", "batchSize": 1000 }, "stop": { "maxRounds": 1 } }
JOB
for concurrency in 1 2; do
  store="$WORK/store-$concurrency"
  mkdir -p "$store/datasets"
  ln "$WORK/higgs.libsvm" "$store/datasets/higgs.libsvm"
  STEPML_PARTITION_RANGE_MB=$RANGE_MB STEPML_CACHE_MB=0 measure "state-machine-concurrency-$concurrency" \
    "$STEPML" run "$WORK/job.json" --store "$store" --concurrency "$concurrency" --quiet
  "$STEPML" history partition-bench --store "$store" > "$WORK/history-$concurrency.txt"
  echo "  per state (from stepml history):"
  grep -E "^\s*(Prepare|Partition|Summarize|Assemble|Commit)\b" "$WORK/history-$concurrency.txt" | sed 's/^/    /' || true
  python3 - "$store/runs/partition-bench/history" <<'PY'
import glob, json, os, sys
from datetime import datetime
# The run's history: segments runs/<id>/history/<start>-<execution>/<n>.json, the first execution's in order.
first = sorted(glob.glob(os.path.join(sys.argv[1], "*")))[0]
segments = sorted(glob.glob(os.path.join(first, "*.json")), key=lambda f: int(os.path.basename(f)[:-5]))
events = [e for f in segments for e in json.load(open(f))["events"]]
t = lambda e: datetime.fromisoformat(e["timestamp"])
after = {}  # an event's id -> the event that names it as previous
for e in events:
    after.setdefault(e["previousEventId"], []).append(e)
def finish(scheduled):
    for started in after.get(scheduled["id"], []):
        if started["type"] == "LambdaFunctionStarted":
            for done in after.get(started["id"], []):
                if done["type"] == "LambdaFunctionSucceeded":
                    return t(done)
tasks = {}
for e in events:
    details = e.get("lambdaFunctionScheduledEventDetails")
    if e["type"] == "LambdaFunctionScheduled" and details["resource"].endswith("stepml-Partition"):
        kind = "range" if '"range"' in details["input"] else "assemble" if '"output"' in details["input"] else "summarize"
        end = finish(e)
        if end: tasks.setdefault(kind, []).append((end - t(e)).total_seconds())
for kind, durations in tasks.items():
    print(f"    {kind:9} tasks {len(durations):4}  mean {sum(durations)/len(durations):6.2f} s  max {max(durations):6.2f} s")
entered = {e["stateEnteredEventDetails"]["name"]: t(e) for e in events if "stateEnteredEventDetails" in e}
exited = {e["stateExitedEventDetails"]["name"]: t(e) for e in events if "stateExitedEventDetails" in e}
if "Prepare" in entered and "Commit" in exited:
    print(f"    partitioning (Prepare entered -> Commit exited): {(exited['Commit'] - entered['Prepare']).total_seconds():.1f} s")
PY
  if [ "$concurrency" = 1 ]; then mv "$store/partitions" "$WORK/reference-partitions"; fi
  rm -rf "$store"
done

echo "per task, one process each (stepml invoke; STEPML_CACHE_MB=0):"
store="$WORK/store-tasks"
mkdir -p "$store/datasets"
ln "$WORK/higgs.libsvm" "$store/datasets/higgs.libsvm"
python3 -c "import json,sys; print(json.dumps({'input': json.load(open(sys.argv[1])), 'executionId': 'arn:aws:states:local:0:execution:train:partition-bench'}))" \
  "$WORK/job.json" > "$WORK/prepare.json"
invoke() { # kind, payload file: runs one task, appends "kind wall_s rss_kb" to tasks.txt, prints its output
  local kind=$1 payload=$2
  STEPML_PARTITION_RANGE_MB=$RANGE_MB STEPML_CACHE_MB=0 /usr/bin/time -f "$kind %e %M" -a -o "$WORK/tasks.txt" \
    "$STEPML" invoke "$kind" --payload "$payload" --store "$store"
}
started=$(date +%s.%N)
invoke Prepare "$WORK/prepare.json" > "$WORK/state.json"
SET=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['partitioning']['set'])" "$WORK/state.json")
RANGES=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['partitioning']['ranges']))" "$WORK/state.json")
for ((r = 0; r < RANGES; r++)); do
  echo "{\"set\": \"$SET\", \"range\": $r}" > "$WORK/task.json"
  invoke Partition "$WORK/task.json" > /dev/null
  sed -i '$ s/^Partition/Range/' "$WORK/tasks.txt"
  du -cb "$store/partitions/$SET/pieces/$r" | tail -1 | awk '{print "Range-tmp", $1}' >> "$WORK/tmp.txt"
done
echo "{\"set\": \"$SET\", \"summarize\": true}" > "$WORK/task.json"
invoke Partition "$WORK/task.json" > /dev/null; sed -i '$ s/^Partition/Summarize/' "$WORK/tasks.txt"
for ((o = 0; o <= PARTITIONS; o++)); do
  echo "{\"set\": \"$SET\", \"output\": $o}" > "$WORK/task.json"
  invoke Partition "$WORK/task.json" > /dev/null; sed -i '$ s/^Partition/Assemble/' "$WORK/tasks.txt"
done
python3 -c "import json,sys; print(json.dumps({'commit': json.load(open(sys.argv[1]))}))" "$WORK/state.json" > "$WORK/commit.json"
invoke Prepare "$WORK/commit.json" > /dev/null; sed -i '$ s/^Prepare/Commit/' "$WORK/tasks.txt"
finished=$(date +%s.%N)
find "$store/partitions/$SET" -name '*.part' -printf 'Assemble-tmp %s\n' >> "$WORK/tmp.txt"
python3 - "$WORK/tasks.txt" "$WORK/tmp.txt" "$started" "$finished" <<'PY'
import sys, collections
tasks = collections.defaultdict(list)
for line in open(sys.argv[1]):
    kind, wall, rss = line.split()
    tasks[kind].append((float(wall), int(rss)))
tmp = collections.defaultdict(list)
for line in open(sys.argv[2]):
    kind, size = line.split()
    tmp[kind[:-4]].append(int(size))
for kind in ["Prepare", "Range", "Summarize", "Assemble", "Commit"]:
    runs = tasks[kind]
    extra = f"   /tmp max {max(tmp[kind]) / 2**20:7.1f} MiB" if kind in tmp else ""
    print(f"    {kind:9} tasks {len(runs):4}  wall mean {sum(w for w, _ in runs) / len(runs):6.2f} s  max {max(w for w, _ in runs):6.2f} s"
          f"   peak RSS max {max(r for _, r in runs) // 1024:5d} MB{extra}")
print(f"    all tasks one after another: {float(sys.argv[4]) - float(sys.argv[3]):.1f} s wall")
PY
if diff -r -q "$WORK/reference-partitions/$SET" "$store/partitions/$SET" -x pending -x 'dataset*' > "$WORK/diff.txt"; then
  echo "    partitions byte-identical to the state machine's (concurrency 1)"
else
  echo "    partitions DIFFER from the state machine's:"; sed 's/^/      /' "$WORK/diff.txt"
fi
