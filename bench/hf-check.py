#!/usr/bin/env python3
"""Checks that Hugging Face transformers loads Accrue's GPT-2 directories as they are and computes Accrue's logits.

Usage: . scripts/jdk.sh; PYTHON bench/hf-check.py DIR [DIR ...]   (after building cli/target/accrue.jar, e.g. by
./accrue --help; PYTHON with torch and transformers, e.g. ~/.cache/accrue-torch2/bin/python)

Each DIR is an Accrue checkpoint directory (RUN/checkpoint, RUN/checkpoint-best), a directory written by
`accrue export`, or any Hugging Face GPT-2 directory. For each, GPT2LMHeadModel.from_pretrained(DIR) must report no
missing, unexpected or mismatched tensors, and its logits on a fixed batch (B 2, T min(32, n_positions), ids
(7919*i + 13) mod V, eval mode) must agree with Accrue's (bench/HfLogits.java, the same directory imported by Accrue)
to 1e-5 of the largest |logit|. Prints one line per directory; exits 1 if any fails.
"""
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
JAR = os.path.join(HERE, "..", "cli", "target", "accrue.jar")
TOLERANCE = 1e-5
# a JDK 25: $JAVA_HOME's (`. scripts/jdk.sh` sets it), else java on the PATH
JAVA = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"


def accrue_logits(directory):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.safetensors")
        subprocess.run([JAVA, "--add-modules", "jdk.incubator.vector", "-cp", JAR,
                        os.path.join(HERE, "HfLogits.java"), directory, out],
                       check=True)
        return load_file(out)["logits"]


def check(directory):
    # float32 whatever the files hold: Accrue reads F16 and BF16 weights as F32 too
    model, info = GPT2LMHeadModel.from_pretrained(directory, output_loading_info=True, dtype=torch.float32)
    problems = {k: v for k, v in info.items() if v}
    model.eval()
    cfg = model.config
    t = min(32, cfg.n_positions)
    ids = torch.tensor([(7919 * i + 13) % cfg.vocab_size for i in range(2 * t)]).reshape(2, t)
    with torch.no_grad():
        theirs = model(ids).logits
    ours = accrue_logits(directory)
    rel = ((theirs - ours).abs().max() / theirs.abs().max()).item()
    ok = not problems and rel <= TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {directory}: from_pretrained loading info {problems or 'clean'}; "
          f"L={cfg.n_layer} NH={cfg.n_head} C={cfg.n_embd} T={cfg.n_positions} V={cfg.vocab_size}; "
          f"logits max |Accrue - transformers| / max |logit| = {rel:.2e}")
    return ok


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [check(d) for d in sys.argv[1:]]
    sys.exit(0 if all(results) else 1)
