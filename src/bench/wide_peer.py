"""Peers for the wide benchmark network (784-1024-1024-10): the shared peer scripts in
../shared/bench/peers train 784-128-64-10 only. This mirrors their code (same data and
split through their common.py, dropout 0.2, Adam 0.001, batch 64) with wider layers.
Usage: OPENBLAS_NUM_THREADS=1 python3 wide_peer.py --peer torch|numpy [--epochs N] [--peers DIR]"""
import argparse, os, sys, time

ap = argparse.ArgumentParser()
ap.add_argument('--peer', choices=['torch', 'numpy'], required=True)
ap.add_argument('--epochs', type=int, default=3)
ap.add_argument('--batch', type=int, default=64)
ap.add_argument('--hidden', default='1024,1024')
ap.add_argument('--peers', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'bench', 'peers'))
a = ap.parse_args()
sys.path.insert(0, os.path.abspath(a.peers))
from common import load_split, report  # noqa: E402
import numpy as np  # noqa: E402

sizes = [784] + [int(h) for h in a.hidden.split(',')] + [10]
(xtr, ytr), (xva, yva), (xte, yte) = load_split()
n = xtr.shape[0]
times = []

if a.peer == 'torch':
    import torch, torch.nn as nn  # noqa: E402
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = []
    for i, o in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(i, o), nn.ReLU(), nn.Dropout(0.2)]
    model = nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    Xtr, Ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for ep in range(a.epochs):
        t = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            lossf(model(Xtr[idx]), Ytr[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - t)
        print(f'epoch {ep + 1}: {times[-1]:.3f}s', flush=True)
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    version = torch.__version__
else:
    rng = np.random.default_rng(0)
    W = [rng.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), (i, o)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [np.zeros(o, np.float32) for o in sizes[1:]]
    params = W + b
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    for ep in range(a.epochs):
        t0 = time.perf_counter()
        idx = rng.permutation(n)
        for i in range(0, n, a.batch):
            bi = idx[i:i + a.batch]
            h = [xtr[bi]]
            masks = []
            for l in range(len(W)):
                z = h[-1] @ W[l] + b[l]
                if l < len(W) - 1:
                    mask = (rng.random(z.shape, dtype=np.float32) < 0.8).astype(np.float32) / np.float32(0.8)
                    masks.append((z > 0, mask))
                    z = np.maximum(z, 0) * mask
                h.append(z)
            e = np.exp(h[-1] - h[-1].max(1, keepdims=True))
            dz = e / e.sum(1, keepdims=True)
            dz[np.arange(len(bi)), ytr[bi]] -= 1
            dz /= np.float32(len(bi))
            gW, gb = [None] * len(W), [None] * len(W)
            for l in range(len(W) - 1, -1, -1):
                gW[l] = h[l].T @ dz
                gb[l] = dz.sum(0)
                if l > 0:
                    pos, mask = masks[l - 1]
                    dz = (dz @ W[l].T) * mask * pos
            step += 1
            lr_t = 1e-3 * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
            for p, g, mm, vv in zip(params, gW + gb, m, v):
                mm *= 0.9; mm += 0.1 * g
                vv *= 0.999; vv += 0.001 * g * g
                p -= (lr_t * mm / (np.sqrt(vv) + 1e-7)).astype(np.float32)
        times.append(time.perf_counter() - t0)
        print(f'epoch {ep + 1}: {times[-1]:.3f}s', flush=True)
    hh = xte
    for l in range(len(W)):
        hh = hh @ W[l] + b[l]
        if l < len(W) - 1:
            hh = np.maximum(hh, 0)
    acc = (hh.argmax(1) == yte).mean()
    version = np.__version__

med = float(np.median(times[1:])) if len(times) > 1 else times[0]
report(f'{a.peer}-wide', version=version, sizes=sizes, epoch_times=[round(x, 3) for x in times],
       median_s_epoch_2_to_N=round(med, 3), samples_per_s=round(n / med), test_acc=round(float(acc), 4))
