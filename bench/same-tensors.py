#!/usr/bin/env python3
"""Compares the checkpoints of two sets of runs tensor by tensor.

usage: same-tensors.py BASE_DIR NEW_DIR
Each subdirectory of BASE_DIR holding checkpoint/*.safetensors is compared with the same-named one in NEW_DIR:
the safetensors headers without __metadata__ (names, dtypes, shapes, offsets) and the data bytes must be equal.
Used to show a refactor changes no bit of what training produces (the run description in __metadata__ may differ).
"""
import json
import os
import struct
import sys


def tensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    return header, raw[8 + n:]


def main(base, new):
    different = 0
    for run in sorted(os.listdir(base)):
        d = os.path.join(base, run, 'checkpoint')
        if not os.path.isdir(d):
            continue
        for name in sorted(f for f in os.listdir(d) if f.endswith('.safetensors')):
            same = tensors(os.path.join(d, name)) == tensors(os.path.join(new, run, 'checkpoint', name))
            different += not same
            print(f"{run}/{name}: {'identical tensors' if same else 'DIFFERENT'}")
    return 1 if different else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
