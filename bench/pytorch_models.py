#!/usr/bin/python3
"""Side-by-side training throughput: StepML (`stepml bench-neural`) against Debian's PyTorch on one thread.

Both sides read the same IDX files (Fashion-MNIST by default), take the first --rows images, and time the same
computation per mini-batch: forward, mean cross-entropy, backward, SGD step w -= 0.01 g, for
  mlp: 784 -> 128 ReLU -> 10
  cnn: conv3x3(16) ReLU maxpool2 -> conv3x3(32) ReLU maxpool2 -> dense(10), "same" padding
  resnet20: the CIFAR ResNet-20 (He et al. 2016 4.2; 16/32/64 channels, projection shortcuts), on 28x28x1
  mobilenet0.5: MobileNet v1 for 32x32 inputs, width multiplier 0.5, on 28x28x1
(convolutions before batch norm without bias, batch norm in training mode, as StepML builds them)
plus a 256x256x256 SGEMM. Throughput is per CPU second of the process (the machine is shared, so wall time would
measure the neighbours too). Prints one table with StepML/PyTorch ratios.

Usage: /usr/bin/python3 bench/pytorch_models.py [--rows 8192] [--batch 64] [--seconds 5] [--stepml path/to/stepml.dll]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = "/usr/share/datasets/fashion-mnist"


def ensure_torch():
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        # Debian's python3-torch lives in the system interpreter's dist-packages.
        probe = subprocess.run(["/usr/bin/python3", "-c", "import torch"], capture_output=True)
        if probe.returncode == 0:
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("installing python3-torch (apt-get)...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "python3-torch", "python3-numpy"], check=True)
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)


def read_idx(path):
    import numpy as np
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def cpu_rate(step, units_per_call, seconds):
    for _ in range(3):
        step()
    start = time.process_time()
    calls = 0
    while time.process_time() - start < seconds:
        step()
        calls += 1
    return units_per_call * calls / (time.process_time() - start)


def torch_figures(images, labels, rows, batch, seconds):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.manual_seed(1)
    x = torch.from_numpy(images[:rows].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[:rows].astype(np.int64))
    figures = {}

    a = torch.rand(256, 256)
    b = torch.rand(256, 256)
    figures["sgemm 256x256x256"] = cpu_rate(lambda: torch.mm(a, b), 2 * 256 ** 3, seconds / 2) / 1e9

    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    batches = rows // batch
    images4 = x.reshape(rows, 1, 28, 28)
    networks = (("mlp train", mlp, x.reshape(rows, 784)), ("cnn train", cnn, images4),
                ("resnet20 train", resnet(20, 1.0), images4), ("mobilenet0.5 train", mobilenet(0.5), images4))
    for name, model, xs in networks:
        figures[name.replace(" train", " parameters")] = sum(p.numel() for p in model.parameters())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        state = {"i": 0}

        def step():
            i = state["i"] % batches
            state["i"] += 1
            optimizer.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(xs[i * batch:(i + 1) * batch]), y[i * batch:(i + 1) * batch])
            loss.backward()
            optimizer.step()

        figures[name] = cpu_rate(step, batch, seconds)
    return figures


def conv_bn(nn, cin, cout, kernel, stride, groups=1):
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


def resnet(depth, width):
    import torch.nn as nn

    class Basic(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.main = nn.Sequential(*conv_bn(nn, cin, cout, 3, stride), nn.ReLU(), *conv_bn(nn, cout, cout, 3, 1))
            self.shortcut = nn.Sequential(*conv_bn(nn, cin, cout, 1, stride)) if stride != 1 or cin != cout else nn.Identity()

        def forward(self, x):
            return nn.functional.relu(self.main(x) + self.shortcut(x))

    n = (depth - 2) // 6
    widths = [max(1, round(c * width)) for c in (16, 32, 64)]
    layers = [*conv_bn(nn, 1, widths[0], 3, 1), nn.ReLU()]
    cin = widths[0]
    for s, cout in enumerate(widths):
        for b in range(n):
            layers.append(Basic(cin, cout, 2 if s > 0 and b == 0 else 1))
            cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))


def mobilenet(width):
    import torch.nn as nn
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
    cin = max(1, round(32 * width))
    layers = [*conv_bn(nn, 1, cin, 3, 1), nn.ReLU()]
    for filters, stride in blocks:
        cout = max(1, round(filters * width))
        layers += [*conv_bn(nn, cin, cin, 3, stride, groups=cin), nn.ReLU(), *conv_bn(nn, cin, cout, 1, 1), nn.ReLU()]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))


def stepml_figures(images_path, labels_path, rows, batch, seconds, dll):
    if not os.path.exists(dll):
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(REPO, "cli/StepML.Cli")], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(["dotnet", dll, "bench-neural", "--images", images_path, "--labels", labels_path,
                          "--rows", str(rows), "--batch", str(batch), "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True).stdout
    return {f["name"]: f["value"] for f in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default=os.path.join(FASHION, "train-images-idx3-ubyte.gz"))
    parser.add_argument("--labels", default=os.path.join(FASHION, "train-labels-idx1-ubyte.gz"))
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--stepml", default=os.path.join(REPO, "cli/StepML.Cli/bin/Release/net10.0/stepml.dll"),
                        help="the stepml.dll to time (default: this checkout's Release build, built if missing)")
    args = parser.parse_args()
    ensure_torch()
    import torch
    images, labels = read_idx(args.images), read_idx(args.labels)
    ours = stepml_figures(args.images, args.labels, args.rows, args.batch, args.seconds, args.stepml)
    theirs = torch_figures(images, labels, args.rows, args.batch, args.seconds)
    units = {"sgemm 256x256x256": "GFLOP/cpu-s", "mlp train": "samples/cpu-s", "cnn train": "samples/cpu-s",
             "resnet20 train": "samples/cpu-s", "mobilenet0.5 train": "samples/cpu-s"}
    print(f"same data: {args.images} (first {args.rows} images), batch {args.batch}, one thread; PyTorch {torch.__version__}")
    print(f"{'figure':<20} {'StepML':>12} {'PyTorch':>12} {'ratio':>7}  unit")
    for name in units:
        print(f"{name:<20} {ours[name]:>12.1f} {theirs[name]:>12.1f} {ours[name] / theirs[name]:>7.2f}  {units[name]}")
    for name in ("resnet20", "mobilenet0.5"):
        key = name + " parameters"
        print(f"{key:<20} {ours.get(key, float('nan')):>12.0f} {theirs[key]:>12.0f}          trained (StepML's count adds the batch-norm running E[x], E[x2]: state)")


if __name__ == "__main__":
    main()
