#!/usr/bin/env python3
"""PyTorch's loss at each of 8 AdamW steps on the golden batch of core/src/test/resources/hf-gpt2-tiny, the
trajectory HuggingFaceGpt2GoldenTest#eightTrainerStepsFollowPyTorchsLosses holds Accrue's Trainer to.

  ~/.cache/accrue-torch2/bin/python bench/hf-multistep.py core/src/test/resources/hf-gpt2-tiny [LR]

AdamW betas (0.9, 0.999), eps 1e-8, weight decay 0.1 on 2-D weights (embeddings included), constant LR (default
1e-3), no clipping; the mean loss over the counted targets (-100 ignored), printed before each step's update.
"""
import sys

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel

fixture = sys.argv[1]
lr = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-3
model = GPT2LMHeadModel.from_pretrained(fixture)
golden = load_file(fixture + "/golden.safetensors")
x, y = golden["input_ids"], golden["targets"]
count = int((y != -100).sum())
params = dict(model.transformer.named_parameters())
opt = torch.optim.AdamW([{"params": [p for p in params.values() if p.dim() >= 2], "weight_decay": 0.1},
                         {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0}],
                        lr=lr, betas=(0.9, 0.999), eps=1e-8)
model.train()
for step in range(8):
    opt.zero_grad()
    logits = model(x).logits
    loss_sum = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                 ignore_index=-100, reduction="sum")
    (loss_sum / count).backward()
    opt.step()
    print(f"{step + 1} {loss_sum.item() / count:.7f}")
