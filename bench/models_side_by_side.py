#!/usr/bin/python3
"""StepML vs PyTorch, single thread, same data: the linear (dense), sparse and KMeans kernels of issue 4.

Runs `stepml bench-models --out DIR` (which measures StepML and writes its exact inputs as raw little-endian
arrays plus manifest.json), then runs the same computations in Debian's PyTorch (python3-torch, installed with
apt-get if `import torch` fails) with torch.set_num_threads(1), and prints StepML/PyTorch throughput ratios
(> 1: StepML is faster). The target is >= 1 for every kernel here.

Usage: bench/models_side_by_side.py [--quick] [--stepml PATH] [--out-dir DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        print("python3-torch is missing: apt-get install -y python3-torch", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "python3-torch"], check=True)


def best_seconds(fn, repetitions):
    fn()
    best = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repetitions")
    parser.add_argument("--stepml", default=os.path.join(ROOT, "cli/StepML.Cli/bin/Release/net10.0/stepml"),
                        help="the stepml executable (built with `dotnet build -c Release cli/StepML.Cli` if missing)")
    parser.add_argument("--out-dir", help="where the shared data files go (default: a temporary folder)")
    args = parser.parse_args()

    ensure_torch()
    import numpy as np
    import torch
    torch.set_num_threads(1)

    if not os.path.exists(args.stepml):
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "cli/StepML.Cli")], check=True)
    out = args.out_dir or tempfile.mkdtemp(prefix="stepml-models-bench-")
    command = [args.stepml, "bench-models", "--out", out] + (["--quick"] if args.quick else [])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "manifest.json")) as f:
        stepml = json.load(f)
    repetitions = stepml["repetitions"]

    def load(name, dtype):
        return torch.from_numpy(np.fromfile(os.path.join(out, name), dtype=dtype))

    def dense(prefix, features):
        x = load(f"{prefix}.x.f32", np.float32).reshape(-1, features)
        return x, load(f"{prefix}.labels.f32", np.float32), load(f"{prefix}.parameters.f32", np.float32)

    def csr(prefix, features):
        offsets = load(f"{prefix}.offsets.i32", np.int32).to(torch.int64)
        indices = load(f"{prefix}.indices.i32", np.int32).to(torch.int64)
        values = load(f"{prefix}.values.f32", np.float32)
        rows = offsets.numel() - 1
        # Debian's PyTorch is built without MKL, which its CSR matrix-vector product needs on the CPU; sparse COO
        # products run natively. X^T is built as its own coalesced matrix outside the timing (PyTorch's best case).
        row_ids = torch.repeat_interleave(torch.arange(rows), offsets[1:] - offsets[:-1])
        where = torch.stack([row_ids, indices])
        x = torch.sparse_coo_tensor(where, values, size=(rows, features)).coalesce()
        xt = x.t().coalesce()
        sq = torch.sparse_coo_tensor(where, values * values, size=(rows, features)).coalesce()
        return x, xt, sq, load(f"{prefix}.labels.f32", np.float32), load(f"{prefix}.parameters.f32", np.float32)

    def logistic(mv, mtv, y, w, n):
        z = mv(w[:-1]) + w[-1]
        loss = (torch.nn.functional.softplus(z) - y * z).mean()
        s = torch.sigmoid(z) - y
        return loss, mtv(s) / n, s.mean()

    def hinge(mv, mtv, y, w, n):
        z = mv(w[:-1]) + w[-1]
        sign = 2 * y - 1
        margin = 1 - sign * z
        loss = margin.clamp(min=0).mean()
        s = torch.where(margin > 0, -sign, torch.zeros_like(sign))
        return loss, mtv(s) / n, s.mean()

    results = []

    def record(name, unit, stepml_rate, seconds, amount, torch_loss=None, stepml_loss=None):
        torch_rate = amount / seconds
        check = "" if torch_loss is None else f"loss rel. diff {abs(torch_loss - stepml_loss) / max(abs(stepml_loss), 1e-12):.1e}"
        results.append((name, unit, stepml_rate, torch_rate, stepml_rate / torch_rate, check))

    x, y, w = dense("dense", 28)
    n = x.shape[0]
    for key, fn in (("denseLogistic", logistic), ("denseHinge", hinge)):
        out_loss = fn(lambda v: x @ v, lambda s: x.t() @ s, y, w, n)[0].item()
        seconds = best_seconds(lambda: fn(lambda v: x @ v, lambda s: x.t() @ s, y, w, n), repetitions)
        record(key, "rows/s", stepml[key]["rowsPerSecond"], seconds, n, out_loss, stepml[key]["loss"])

    xs, xts, sq, ys, ws = csr("sparse", 47236)
    nnz = xs.values().numel()
    n = xs.shape[0]
    for key, fn in (("sparseLogistic", logistic), ("sparseHinge", hinge)):
        mv = lambda v: torch.sparse.mm(xs, v.unsqueeze(1)).squeeze(1)  # noqa: E731
        mtv = lambda s: torch.sparse.mm(xts, s.unsqueeze(1)).squeeze(1)  # noqa: E731
        out_loss = fn(mv, mtv, ys, ws, n)[0].item()
        seconds = best_seconds(lambda: fn(mv, mtv, ys, ws, n), repetitions)
        record(key, "non-zeros/s", stepml[key]["nonZerosPerSecond"], seconds, nnz, out_loss, stepml[key]["loss"])

    kx, _, kc = dense("kmeans", 32)
    kc = kc.reshape(16, 32)

    def assign_dense():
        d = (kx * kx).sum(1, keepdim=True) - 2 * (kx @ kc.t()) + (kc * kc).sum(1)
        return d.min(1)

    inertia = assign_dense().values.clamp(min=0).mean().item()
    seconds = best_seconds(assign_dense, repetitions)
    record("kmeansDense", "rows/s", stepml["kmeansDense"]["rowsPerSecond"], seconds, kx.shape[0], inertia, stepml["kmeansDense"]["meanInertia"])

    sx, _, ssq, _, sc = csr("kmeans_sparse", 47236)
    sc = sc.reshape(16, 47236)
    sct = sc.t().contiguous()
    ones = torch.ones(47236, 1)

    def assign_sparse():
        d = torch.sparse.mm(ssq, ones) - 2 * torch.sparse.mm(sx, sct) + (sc * sc).sum(1)
        return d.min(1)

    inertia = assign_sparse().values.clamp(min=0).mean().item()
    seconds = best_seconds(assign_sparse, repetitions)
    record("kmeansSparse", "rows/s", stepml["kmeansSparse"]["rowsPerSecond"], seconds, sx.shape[0], inertia, stepml["kmeansSparse"]["meanInertia"])

    print(f"StepML vs PyTorch {torch.__version__}, 1 thread, data in {out}")
    print(f"{'kernel':16} {'unit':12} {'StepML':>14} {'PyTorch':>14} {'ratio':>7}  check")
    for name, unit, a, b, ratio, check in results:
        print(f"{name:16} {unit:12} {a:14,.0f} {b:14,.0f} {ratio:7.2f}  {check}")
    print(json.dumps({name: round(ratio, 3) for name, _, _, _, ratio, _ in results}))


if __name__ == "__main__":
    main()
