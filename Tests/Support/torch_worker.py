"""PyTorch baseline worker for the Swift tests.

Reads one JSON request per line on stdin: {"code": str, "inputs": path|null, "outputs": path}.
Runs `code` with `torch`, `F` (torch.nn.functional), `math`, `I` (the input tensors) and an
empty dict `O` in scope, saves `O` as safetensors at `outputs`, and answers one JSON line:
{"ok": true} or {"ok": false, "error": traceback}. The test's code is printed to stderr, never
to the protocol stream.
"""
import json
import math
import os
import sys
import traceback

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
sys.stdout = sys.stderr

# readline, not iteration: iteration may read ahead and wait for lines not yet sent.
while True:
    line = sys.stdin.readline()
    if not line:
        break
    request = json.loads(line)
    try:
        inputs = load_file(request["inputs"]) if request.get("inputs") else {}
        scope = {"torch": torch, "F": F, "math": math, "I": inputs, "O": {}}
        exec(request["code"], scope)
        outputs = {k: (v if isinstance(v, torch.Tensor) else torch.tensor(v)).detach().contiguous()
                   for k, v in scope["O"].items()}
        save_file(outputs, request["outputs"])
        protocol.write(json.dumps({"ok": True}) + "\n")
    except Exception:
        protocol.write(json.dumps({"ok": False, "error": traceback.format_exc()}) + "\n")
