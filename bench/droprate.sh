#!/usr/bin/env bash
# Seed 003's experiment (Yu et al.: training converges when each worker -> server message is dropped with
# probability p, and the drop matters less as the number of servers grows) on the demo data: `stepml demo`'s
# 200,000 Higgs-shaped rows in 8 partitions, logistic regression, 30 rounds, for communication.dropRate
# p in {0, 0.1, 0.3, 0.5} x communication.shards S in {1, 2, 4, 8} (scatter-reduce: each (worker, shard) message
# is drawn separately). Prints a Markdown table of the final training loss's gap to the Newton optimum and writes
# bench/results/droprate-<algorithm>.{md,svg,tsv}.
# Usage: bench/droprate.sh [admm|ga-sgd]   (default admm, the demo's algorithm)
set -euo pipefail
cd "$(dirname "$0")/.."
algorithm="${1:-admm}"
case "$algorithm" in
  admm)   spec='{ "type": "admm", "learningRate": 1.0, "batchSize": 1000, "localEpochs": 3, "rho": 0.02 }' ;;
  ga-sgd) spec='{ "type": "ga-sgd", "learningRate": 1.0, "momentum": 0.8, "batchSize": 0 }' ;;
  *) echo "usage: bench/droprate.sh [admm|ga-sgd]" >&2; exit 2 ;;
esac
dotnet build cli/StepML.Cli -c Release -nologo -v quiet > /dev/null
stepml="dotnet cli/StepML.Cli/bin/Release/net10.0/stepml.dll"
out="bench/results/droprate-$algorithm"
rm -rf "$out"
mkdir -p "$out"
store="$out/store"

# The demo generates the data and prints the single-machine optimum of the same objective and partitions.
$stepml demo --store "$store" --algorithm "$algorithm" --rounds 30 > "$out/demo.txt"
optimum=$(sed -n 's/.*single-machine optimum.*: loss \([0-9.]*\);.*/\1/p' "$out/demo.txt")
dataset=$(ls "$store/datasets")

printf 'p\tshards\tloss\tgap\n' > "$out/results.tsv"
for shards in 1 2 4 8; do
  for p in 0 0.1 0.3 0.5; do
    pattern=$([ "$shards" = 1 ] && echo all-reduce || echo scatter-reduce)
    run="drop-$algorithm-p${p/./}-s$shards"
    cat > "$out/$run.json" <<JOB
{
  "name": "droprate", "runId": "$run", "seed": 42,
  "dataset": { "path": "datasets/$dataset", "format": "libsvm", "features": 28, "partitions": 8, "validationFraction": 0.1 },
  "model": { "type": "logistic", "l2": 0.0001 },
  "algorithm": $spec,
  "communication": { "pattern": "$pattern", "shards": $shards, "dropRate": $p },
  "stop": { "maxRounds": 30, "tolerance": 0 }
}
JOB
    $stepml run "$out/$run.json" --store "$store" --quiet > /dev/null
    loss=$(sed -n 's/.*"trainLoss":\([-0-9.eE+]*\).*/\1/p' "$store/runs/$run/model/final.json")
    gap=$(python3 -c "print(($loss - $optimum) / $optimum * 100)")
    printf '%s\t%s\t%s\t%s\n' "$p" "$shards" "$loss" "$gap" >> "$out/results.tsv"
    echo "p=$p S=$shards loss=$loss gap=${gap}%" >&2
  done
done

python3 - "$out" "$algorithm" "$optimum" <<'PY'
import sys
out, algorithm, optimum = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = [line.split('\t') for line in open(f"{out}/results.tsv").read().split('\n')[1:] if line]
ps = sorted({float(r[0]) for r in rows}); ss = sorted({int(r[1]) for r in rows})
gap = {(float(r[0]), int(r[1])): float(r[3]) for r in rows}
md = [f"Gap of the final training loss to the Newton optimum ({optimum:.6f}), {algorithm}, 30 rounds, 8 workers:", "",
      "| dropRate p | " + " | ".join(f"S = {s}" for s in ss) + " |", "|---|" + "---|" * len(ss)]
for p in ps:
    md.append(f"| {p:g} | " + " | ".join(f"{gap[(p, s)]:.3f}%" for s in ss) + " |")
open(f"{out}.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
# A small line plot, one line per shard count, as self-contained SVG.
W, H, L, B = 520, 320, 60, 40
top = max(gap.values()) * 1.1 or 1
colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
def x(p): return L + (W - L - 20) * p / max(ps)
def y(g): return H - B - (H - B - 20) * g / top
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<line x1="{L}" y1="{H-B}" x2="{W-20}" y2="{H-B}" stroke="black"/><line x1="{L}" y1="20" x2="{L}" y2="{H-B}" stroke="black"/>',
       f'<text x="{(W+L)/2}" y="{H-8}" text-anchor="middle">dropRate p</text>',
       f'<text x="14" y="{(H-B)/2}" transform="rotate(-90 14 {(H-B)/2})" text-anchor="middle">gap to optimum (%)</text>']
for p in ps: svg.append(f'<text x="{x(p)}" y="{H-B+16}" text-anchor="middle">{p:g}</text>')
for k in range(5):
    g = top * k / 4
    svg.append(f'<text x="{L-6}" y="{y(g)+4}" text-anchor="end">{g:.2f}</text>')
for i, s in enumerate(ss):
    pts = " ".join(f"{x(p):.1f},{y(gap[(p, s)]):.1f}" for p in ps)
    svg.append(f'<polyline fill="none" stroke="{colors[i % 4]}" stroke-width="2" points="{pts}"/>')
    svg.append(f'<text x="{W-90}" y="{30 + 16*i}" fill="{colors[i % 4]}">S = {s}</text>')
svg.append("</svg>")
open(f"{out}.svg", "w").write("\n".join(svg) + "\n")
PY
