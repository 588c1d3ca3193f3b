"""The PyTorch peer of sbench_bench_train (Debian's python3-torch 1.13.1): a Dataset that reads one
np.savez_compressed npz per example (as the DHS release ships them), normalizes with SustainBench's
DHS constants (DMSP or VIIRS night lights by year) and applies a random flip / quarter turn, under
a DataLoader with worker processes; and one epoch of a torchvision-layout ResNet-18 with Adam.

usage: train_torch.py loader LIST WORKERS BATCH PASSES   -> "samples/s (best pass)"
       train_torch.py epoch  LIST WORKERS BATCH THREADS EPOCHS -> "seconds of the last epoch"
LIST: lines "npz_path label year".
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

# SB:sustainbench/datasets/poverty_dataset.py MEANS, STD_DEVS (SUSTAINBENCH.md 2.A)
MEAN = [0.06547681, 0.09543012, 0.10692262, 0.22902039, 0.15596166, 298.51077, 0.2542566]
STD = [0.031534348, 0.04290699, 0.06305032, 0.09461683, 0.08886013, 8.608657, 0.06909249]
DMSP = (41.69006032536221, 109.7289863161683)
VIIRS = (3.443405293536357, 10.97284745670896)


class Tiles(Dataset):
    def __init__(self, rows, label_mean, label_std):
        self.rows = rows
        self.label_mean, self.label_std = label_mean, label_std

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        path, label, year = self.rows[i]
        x = np.load(path)["x"]
        nl = DMSP if year <= 2011 else VIIRS
        mean = np.array(MEAN + [nl[0]], dtype=np.float32)[:, None, None]
        std = np.array(STD + [nl[1]], dtype=np.float32)[:, None, None]
        x = np.nan_to_num((x - mean) / std, nan=0.0)
        op = np.random.randint(8)
        if op & 4:
            x = x[:, :, ::-1]
        x = np.ascontiguousarray(np.rot90(x, op & 3, axes=(1, 2)))
        y = np.float32((label - self.label_mean) / self.label_std)
        return torch.from_numpy(x), torch.tensor(y)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    def __init__(self, cin, outputs, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, c = [], width
        for s in range(4):
            out = width << s
            layers.append(nn.Sequential(Block(c, out, 1 if s == 0 else 2), Block(out, out, 1)))
            c = out
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, outputs)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.max_pool2d(y, 3, 2, 1)
        y = self.layers(y)
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(y, 1), 1))


def read_list(path):
    rows = []
    for line in open(path):
        p, label, year = line.split()
        rows.append((p, float(label), int(year)))
    return rows


def main():
    mode, rows = sys.argv[1], read_list(sys.argv[2])
    workers, batch = int(sys.argv[3]), int(sys.argv[4])
    labels = np.array([r[1] for r in rows])
    ds = Tiles(rows, labels.mean(), labels.std())
    loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
    if mode == "loader":
        best = 0.0
        for p in range(int(sys.argv[5]) + 1):  # the first pass warms the page cache and the workers
            t0 = time.perf_counter()
            n = 0
            for x, _ in loader:
                n += x.shape[0]
            rate = n / (time.perf_counter() - t0)
            if p > 0:
                best = max(best, rate)
        print(f"{best:.2f}")
        return
    torch.set_num_threads(int(sys.argv[5]))
    torch.manual_seed(0)
    model = ResNet18(8, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    seconds = 0.0
    for _ in range(int(sys.argv[6])):
        t0 = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x).squeeze(1), y)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - t0
    print(f"{seconds:.3f}")


if __name__ == "__main__":
    main()
