"""PyTorch's dynamic int8 quantization on nn's own weights, for npm run bench -- --quantize.

Loads a float model.safetensors written by nn train (read here by hand: an 8-byte header length,
a JSON header, then little-endian float32 data; `safetensors.torch.load_file` reads it the same),
rebuilds it as torch.nn.Sequential (dense layers with ReLU and dropout, as configs/mlp.yaml and the
wide network), runs the test images whose indices nn wrote (into the pool of 70,000: the training
files' images, then the test files'), and then the same after
torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8): accuracy, the size of
each state_dict as torch.save writes it, and the time of a pass over the test images in batches of
500 (as nn eval), median of --repeats. Prints RESULT {json}.

  /usr/bin/python3 quantize_peer.py MODEL.safetensors INDICES.u32 --threads N [--repeats K]
"""
import argparse, io, json, os, struct, sys, time

import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop('__metadata__', {})
    data = buf[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t['dtype'] != 'F32':
            raise SystemExit(f'{path}: tensor {name} is {t["dtype"]}; this peer takes float models')
        a, b = t['data_offsets']
        tensors[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(t['shape']).copy())
    return tensors, meta


def build(tensors, meta):
    config = json.loads(meta['config'])
    mods = []
    for i, layer in enumerate(config['layers']):
        if layer['type'] == 'dense':
            w = tensors[f'layers.{i}.weight']
            lin = nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data.copy_(w)
            lin.bias.data.copy_(tensors[f'layers.{i}.bias'])
            mods.append(lin)
            if layer['activation'] == 'relu':
                mods.append(nn.ReLU())
            elif layer['activation'] != 'softmax':
                raise SystemExit(f'activation {layer["activation"]}: this peer builds ReLU networks')
        elif layer['type'] == 'dropout':
            mods.append(nn.Dropout(layer['rate']))
        else:
            raise SystemExit(f'layer type {layer["type"]}: this peer builds dense networks')
    return nn.Sequential(*mods).eval()


def read_idx(path):
    with open(path, 'rb') as f:
        buf = f.read()
    (magic,) = struct.unpack('>I', buf[:4])
    ndim = magic & 0xFF
    dims = struct.unpack('>' + 'I' * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('indices')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--data', default=os.environ.get('MNIST_DIR'))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tensors, meta = read_safetensors(a.model)
    norm = json.loads(meta['normalization'])
    if isinstance(norm['mean'], list) or isinstance(norm['std'], list):
        raise SystemExit('per-pixel normalization: this peer takes a global mean and std')
    d = a.data
    images = np.concatenate([read_idx(f'{d}/train-images-idx3-ubyte'), read_idx(f'{d}/t10k-images-idx3-ubyte')]).reshape(70000, 784)
    labels = np.concatenate([read_idx(f'{d}/train-labels-idx1-ubyte'), read_idx(f'{d}/t10k-labels-idx1-ubyte')]).astype(np.int64)
    idx = np.fromfile(a.indices, dtype='<u4').astype(np.int64)
    x = torch.from_numpy(((images[idx].astype(np.float32) / np.float32(255) - np.float32(norm['mean'])) / np.float32(norm['std'])).astype(np.float32))
    y = torch.from_numpy(labels[idx])

    def measure(model):
        def run():
            with torch.no_grad():
                return torch.cat([model(x[s:s + 500]) for s in range(0, len(x), 500)])
        for _ in range(3):
            out = run()
        times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        return {
            'accuracy': float((out.argmax(1) == y).float().mean()),
            'ms': round(1000 * sorted(times)[len(times) // 2], 2),
            'bytes': len(buf.getvalue()),
            'guesses': out.argmax(1),
        }

    model = build(tensors, meta)
    f = measure(model)
    q = measure(torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8))
    changed = int((f.pop('guesses') != q.pop('guesses')).sum())
    print('RESULT ' + json.dumps({'torch': torch.__version__, 'engine': torch.backends.quantized.engine, 'threads': a.threads, 'samples': len(idx), 'float': f, 'int8': q, 'changed': changed}), flush=True)


if __name__ == '__main__':
    main()
