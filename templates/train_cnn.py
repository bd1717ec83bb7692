#!/usr/bin/env python3
"""A 4-layer CNN on CIFAR-10: the research guide's demo, as HPC Relay's cnn_train template runs it.

Outputs, in --output_dir:
  metrics.csv      one row per epoch: epoch,train_loss,train_acc,val_loss,val_acc (written as it goes)
  best_model.pth   the state_dict of the epoch with the best val_acc (plus a little metadata)
  summary.json     best val_acc and its epoch, the final epoch's metrics, what data and device were used

Data: CIFAR-10 in its python format (cifar-10-batches-py/) under --data_dir. When it is not there,
or with --synthetic, a small generated data set is used instead (1024 train / 256 val images of
ten learnable classes). Nothing is ever downloaded.

Each epoch prints one line: `epoch=1 train_loss=... train_acc=... val_loss=... val_acc=... seconds=...`.
"""
import argparse
import csv
import json
import math
import os
import pickle
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

CIFAR_DIR = "cifar-10-batches-py"
METRIC_FIELDS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--data_dir", default="./data")
    p.add_argument("--output_dir", default="./results")
    p.add_argument("--synthetic", dest="synthetic", action="store_true", default=False,
                   help="use generated data even if CIFAR-10 is on disk")
    p.add_argument("--no-synthetic", dest="synthetic", action="store_false",
                   help="use CIFAR-10 when it is on disk (the default)")
    p.add_argument("--synthetic_train", type=int, default=1024)
    p.add_argument("--synthetic_val", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--num_workers", type=int, default=0)
    a = p.parse_args(argv)
    if a.epochs < 1:
        p.error("--epochs must be at least 1")
    if a.batch_size < 1:
        p.error("--batch_size must be at least 1")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        p.error("--lr must be a positive number")
    a.data_dir = os.path.expanduser(a.data_dir)
    a.output_dir = os.path.expanduser(a.output_dir)
    return a


class CNN(nn.Module):
    """Four convolutional layers (32, 32, 64, 64 channels) and a linear classifier."""

    def __init__(self, classes=10):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(3, 32), *block(32, 32), nn.MaxPool2d(2),
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def _load_batch(path):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    images = torch.frombuffer(bytearray(d[b"data"]), dtype=torch.uint8).view(-1, 3, 32, 32)
    labels = torch.tensor(d[b"labels"], dtype=torch.long)
    return images, labels


def find_cifar(data_dir):
    """The cifar-10-batches-py directory under (or at) data_dir, or None."""
    for d in (os.path.join(data_dir, CIFAR_DIR), data_dir):
        if all(os.path.isfile(os.path.join(d, n)) for n in ["test_batch"] + ["data_batch_%d" % i for i in range(1, 6)]):
            return d
    return None


def load_cifar(d):
    parts = [_load_batch(os.path.join(d, "data_batch_%d" % i)) for i in range(1, 6)]
    xtr = torch.cat([p[0] for p in parts])
    ytr = torch.cat([p[1] for p in parts])
    xva, yva = _load_batch(os.path.join(d, "test_batch"))
    norm = lambda x: (x.float() / 255.0 - MEAN) / STD  # noqa: E731
    return TensorDataset(norm(xtr), ytr), TensorDataset(norm(xva), yva)


def synthetic(n_train, n_val, seed):
    """Ten classes, each a fixed random low-frequency pattern, plus per-image noise: learnable in an epoch or two."""
    g = torch.Generator().manual_seed(seed)
    prototypes = torch.nn.functional.interpolate(torch.randn(10, 3, 8, 8, generator=g), size=32, mode="bilinear", align_corners=False)

    def make(n):
        y = torch.randint(0, 10, (n,), generator=g)
        x = prototypes[y] + 1.5 * torch.randn(n, 3, 32, 32, generator=g)
        return TensorDataset(x, y)

    return make(n_train), make(n_val)


def run_epoch(model, loader, device, optimizer=None):
    training = optimizer is not None
    model.train(training)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total, correct, loss_sum = 0, 0, 0.0
    with torch.set_grad_enabled(training):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss = loss_fn(out, y)
            if training:
                optimizer.zero_grad()
                (loss / x.size(0)).backward()
                optimizer.step()
            loss_sum += loss.item()
            correct += (out.argmax(1) == y).sum().item()
            total += x.size(0)
    return loss_sum / total, correct / total


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def finite_or_none(v):
    """JSON has no NaN or inf: such a metric is written as null (metrics.csv and the log keep `nan`)."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


def main(argv):
    a = parse_args(argv)
    torch.manual_seed(a.seed)
    cpus = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if cpus.isdigit() and int(cpus) > 0:
        torch.set_num_threads(int(cpus))
    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(a.device)

    cifar = None if a.synthetic else find_cifar(a.data_dir)
    if cifar is not None:
        train_set, val_set = load_cifar(cifar)
        data = "cifar10"
        print("data: CIFAR-10 from %s (%d train / %d val)" % (cifar, len(train_set), len(val_set)), flush=True)
    else:
        train_set, val_set = synthetic(a.synthetic_train, a.synthetic_val, a.seed)
        data = "synthetic"
        why = "--synthetic" if a.synthetic else "CIFAR-10 not found under %r" % a.data_dir
        print("data: synthetic (%s): %d train / %d val, nothing downloaded" % (why, len(train_set), len(val_set)), flush=True)
    print("device: %s  torch %s  threads %d" % (device, torch.__version__, torch.get_num_threads()), flush=True)

    os.makedirs(a.output_dir, exist_ok=True)
    metrics_path = os.path.join(a.output_dir, "metrics.csv")
    model_path = os.path.join(a.output_dir, "best_model.pth")
    summary_path = os.path.join(a.output_dir, "summary.json")

    train_loader = DataLoader(train_set, batch_size=a.batch_size, shuffle=True, num_workers=a.num_workers,
                              generator=torch.Generator().manual_seed(a.seed))
    val_loader = DataLoader(val_set, batch_size=max(a.batch_size, 256), num_workers=a.num_workers)
    model = CNN().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=a.epochs)

    summary = {
        "complete": False,
        "best_val_acc": None,
        "best_epoch": None,
        "final": None,
        "epochs": a.epochs,
        "data": data,
        "device": str(device),
        "args": vars(a),
        "seconds": 0.0,
    }
    started = time.time()
    with open(metrics_path, "w", newline="") as mf:
        writer = csv.writer(mf, lineterminator="\n")
        writer.writerow(METRIC_FIELDS)
        mf.flush()
        for epoch in range(1, a.epochs + 1):
            t0 = time.time()
            train_loss, train_acc = run_epoch(model, train_loader, device, optimizer)
            val_loss, val_acc = run_epoch(model, val_loader, device)
            scheduler.step()
            row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}
            writer.writerow([epoch, "%.6f" % train_loss, "%.6f" % train_acc, "%.6f" % val_loss, "%.6f" % val_acc])
            mf.flush()
            print("epoch=%d train_loss=%.6f train_acc=%.6f val_loss=%.6f val_acc=%.6f seconds=%.2f"
                  % (epoch, train_loss, train_acc, val_loss, val_acc, time.time() - t0), flush=True)
            if math.isfinite(val_acc) and (summary["best_val_acc"] is None or val_acc > summary["best_val_acc"]):
                summary["best_val_acc"] = val_acc
                summary["best_epoch"] = epoch
                torch.save({"epoch": epoch, "val_acc": val_acc, "model": model.state_dict()}, model_path)
            summary["final"] = {k: finite_or_none(v) for k, v in row.items()}
            summary["seconds"] = round(time.time() - started, 3)
            write_json(summary_path, summary)

    summary["complete"] = True
    write_json(summary_path, summary)
    print("best val_acc=%s at epoch %s; results in %s" % (summary["best_val_acc"], summary["best_epoch"], a.output_dir), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
