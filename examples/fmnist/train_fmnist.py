#!/usr/bin/python3
"""Trains Kaiwu's small Fashion-MNIST example network and exports it to ONNX.

Network: conv3x3(1->16)-BN-ReLU-maxpool, conv3x3(16->32)-BN-ReLU-maxpool, one residual block
(conv-BN-ReLU-conv-BN + identity, ReLU), global average pool, linear(32->10).

Writes into this directory (or --out):
  fmnist_small.onnx      opset 13, input `input` Nx1x28x28 float32 normalized as (pixel/255 - 0.2860)/0.3530,
                         output `logits` Nx10
  sample_0..3.npy        1x1x28x28 float32 normalized test-set images (the first test image of 4 distinct classes)
  samples.txt            file, true label, true class name, class predicted by the trained torch model (tab-separated)
  classes.txt            the 10 class names, one per line, in label order
  README.md              the results block (train/test accuracy, time) is rewritten between its markers

Needs Debian's python3-torch and dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Runs in about a minute on
2 cores:  /usr/bin/python3 examples/fmnist/train_fmnist.py
"""
import argparse
import gzip
import os
import re
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    """Reads a gzipped IDX file (the MNIST format) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(prefix):
    """Normalized Nx1x28x28 float32 images and int64 labels of 'train' or 't10k'."""
    x = read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32)
    y = read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    x = ((x / 255.0 - MEAN) / STD)[:, None, :, :]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.a = conv_bn(ch, ch)
        self.b = conv_bn(ch, ch)

    def forward(self, x):
        return F.relu(x + self.b(F.relu(self.a(x))))


class SmallNet(nn.Module):
    def __init__(self, c1=16, c2=32, classes=10):
        super().__init__()
        self.stage1 = nn.Sequential(conv_bn(1, c1), nn.ReLU(), nn.MaxPool2d(2))   # 28 -> 14
        self.stage2 = nn.Sequential(conv_bn(c1, c2), nn.ReLU(), nn.MaxPool2d(2))  # 14 -> 7
        self.res = ResidualBlock(c2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c2, classes)

    def forward(self, x):
        x = self.res(self.stage2(self.stage1(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


@torch.no_grad()
def predict(model, x, batch=1000):
    model.eval()
    return torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])


def train(model, x, y, epochs, batch, lr, seed):
    """Adam with a one-cycle learning rate over all steps; prints the running loss/accuracy per epoch."""
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = (len(x) + batch - 1) // batch
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        t0, loss_sum, correct = time.time(), 0.0, 0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5  # horizontal flips: clothes are roughly symmetric
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        print(f"epoch {ep + 1}/{epochs}: loss {loss_sum / len(x):.4f}, running train acc {correct / len(x):.4f}, "
              f"{time.time() - t0:.1f}s", flush=True)


def export_onnx(model, path):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True)


def write_samples(model, x_test, y_test, out_dir, count=4):
    """Saves the first test image of `count` distinct classes and a table of their labels."""
    picked, seen = [], set()
    for i in range(len(y_test)):
        if int(y_test[i]) not in seen:
            seen.add(int(y_test[i]))
            picked.append(i)
        if len(picked) == count:
            break
    preds = predict(model, x_test[picked])
    lines = ["# file\ttrue_label\ttrue_class\ttorch_predicted_label\ttest_set_index"]
    for k, i in enumerate(picked):
        name = f"sample_{k}.npy"
        np.save(os.path.join(out_dir, name), x_test[i:i + 1].numpy().astype(np.float32))
        label = int(y_test[i])
        lines.append(f"{name}\t{label}\t{CLASSES[label]}\t{int(preds[k])}\t{i}")
    with open(os.path.join(out_dir, "samples.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")


def update_readme(path, block):
    """Replaces the text between the results markers of README.md (appends the block if they are missing)."""
    begin, end = "<!-- results: written by train_fmnist.py -->", "<!-- /results -->"
    text = open(path).read() if os.path.exists(path) else "# Fashion-MNIST example\n"
    new = f"{begin}\n{block}\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: new, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()

    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    model = SmallNet()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"train {len(x_train)}, test {len(x_test)} images; {n_params} parameters", flush=True)
    train(model, x_train, y_train, args.epochs, args.batch, args.lr, args.seed)
    train_acc = (predict(model, x_train) == y_train).float().mean().item()
    test_acc = (predict(model, x_test) == y_test).float().mean().item()
    elapsed = time.time() - t_start
    print(f"train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}, {elapsed:.0f}s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "fmnist_small.onnx")
    export_onnx(model, onnx_path)
    write_samples(model, x_test, y_test, args.out)
    size_kb = os.path.getsize(onnx_path) / 1024
    print(f"wrote {onnx_path} ({size_kb:.0f} KB), samples and samples.txt", flush=True)
    update_readme(os.path.join(args.out, "README.md"), "\n".join([
        f"- Training: {args.epochs} epochs, batch {args.batch}, Adam + one-cycle (max lr {args.lr}), seed {args.seed}, "
        f"torch {torch.__version__} on {args.threads} threads, {elapsed:.0f} s",
        f"- Parameters: {n_params}; fmnist_small.onnx: {size_kb:.0f} KB",
        f"- Train accuracy (60000 images, eval mode): {100 * train_acc:.2f}%",
        f"- Test accuracy (10000 images): {100 * test_acc:.2f}%"]))


if __name__ == "__main__":
    main()
