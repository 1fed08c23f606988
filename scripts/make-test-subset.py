#!/usr/bin/env python3
"""Writes a committed test subset: the first 30 images of each class of a test split (300 images, in
test-split order), as gzip IDX files. Input files raw or gzip. Standard library only.
Usage: scripts/make-test-subset.py DATA_DIR OUT_DIR   (e.g. /usr/share/datasets/fashion-mnist)"""
import gzip, struct, sys, os

src, out = sys.argv[1], sys.argv[2]
def opener(name):
    path = os.path.join(src, name)
    return gzip.open(path + ".gz") if os.path.exists(path + ".gz") else open(path, "rb")

with opener("t10k-images-idx3-ubyte") as f:
    magic, n, h, w = struct.unpack(">IIII", f.read(16)); images = f.read()
with opener("t10k-labels-idx1-ubyte") as f:
    magic_l, n_l = struct.unpack(">II", f.read(8)); labels = f.read()
assert magic == 0x803 and magic_l == 0x801 and n == n_l
per_class, picked = {}, []
for i in range(n):
    c = labels[i]
    if per_class.get(c, 0) < 30:
        per_class[c] = per_class.get(c, 0) + 1
        picked.append(i)
os.makedirs(out, exist_ok=True)
size = h * w
# mtime=0 keeps the gzip output byte-identical across runs
with open(os.path.join(out, "images-idx3-ubyte.gz"), "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(struct.pack(">IIII", 0x803, len(picked), h, w))
        f.write(b"".join(images[i * size:(i + 1) * size] for i in picked))
with open(os.path.join(out, "labels-idx1-ubyte.gz"), "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(struct.pack(">II", 0x801, len(picked)))
        f.write(bytes(labels[i] for i in picked))
print(len(picked), "images written to", out)
