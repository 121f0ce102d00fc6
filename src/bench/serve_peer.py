"""The yardstick for `npm run bench -- --serve`: a minimal Python server around
the PyTorch peer, answering the same request (POST /api/predict with a PNG)
with the same model file and the same preparation recipe as nn predict
(grey, ink polarity from the border, crop to the ink, fit into 20x20 with
Lanczos, centre of mass at the centre of 28x28), then a forward pass of a
torch.nn.Sequential on one thread. It returns the digit and the ten
probabilities only: no saliency (nn serve also computes integrated gradients).

    python3 serve_peer.py MODEL.safetensors   # prints "PORT n" once listening on 127.0.0.1
"""
import io
import json
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import torch
from PIL import Image

torch.set_num_threads(1)


def load(path):
    """Our safetensors file: an 8-byte header length, a JSON header, float32 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__")
    t = {k: torch.from_numpy(np.frombuffer(data, np.float32, int(np.prod(v["shape"])), v["data_offsets"][0]).reshape(v["shape"]).copy()) for k, v in header.items()}
    layers = []
    for i, l in enumerate(json.loads(meta["config"])["layers"]):
        if l["type"] == "dense":
            lin = torch.nn.Linear(t[f"layers.{i}.weight"].shape[1], l["units"])
            lin.weight.data, lin.bias.data = t[f"layers.{i}.weight"], t[f"layers.{i}.bias"]
            layers.append(lin)
            if l["activation"] == "relu":
                layers.append(torch.nn.ReLU())
    norm = json.loads(meta["normalization"])
    return torch.nn.Sequential(*layers).eval(), norm


def digit(png):
    g = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)
    ring = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    bg = int(np.sort(ring)[(len(ring) + 1) // 2 - 1])
    d = g - bg
    if -d[d < 0].sum() > d[d > 0].sum():  # dark ink on light paper
        g = 255 - g
        bg = 255 - bg
    ink = g - bg
    peak = ink.max()
    if peak < 24:
        raise ValueError("no ink")
    keep = ink >= max(1, int(np.ceil(peak * 0.25)))
    ys, xs = np.nonzero(keep)
    crop = np.where(keep, ink, 0)[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.uint8)
    h, w = crop.shape
    s = 20 / max(h, w)
    fit = np.asarray(Image.fromarray(crop).resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS), dtype=np.float64)
    fit = np.round(fit * 255 / fit.max()) if fit.max() > 0 else fit
    total = fit.sum()
    cy, cx = ((np.arange(fit.shape[0])[:, None] * fit).sum() / total, (np.arange(fit.shape[1])[None, :] * fit).sum() / total)
    oy = int(min(28 - fit.shape[0], max(0, round(14 - cy))))
    ox = int(min(28 - fit.shape[1], max(0, round(14 - cx))))
    out = np.zeros((28, 28))
    out[oy : oy + fit.shape[0], ox : ox + fit.shape[1]] = fit
    return out.reshape(784)


net, norm = load(sys.argv[1])
mean = np.asarray(norm["mean"], dtype=np.float32)
std = np.asarray(norm["std"], dtype=np.float32)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            x = torch.from_numpy(((digit(body) / 255 - mean) / std).astype(np.float32))[None]
            with torch.no_grad():
                p = torch.softmax(net(x), 1)[0]
            out, code = {"digit": int(p.argmax()), "probabilities": [round(float(v), 6) for v in p]}, 200
        except Exception as e:  # noqa: BLE001 (the yardstick answers every request)
            out, code = {"error": {"code": "bad_image", "message": str(e)}}, 400
        data = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
