"""PyTorch side of `nanowm-bench`: times snippets in this same machine and thread setting.

Reads one JSON object on stdin: {"threads": n, "cases": [{"name", "setup", "stmt", "iters",
"repeats"}]}. For each case runs `setup` once, then `stmt` `iters` times per repeat, and
prints one JSON object mapping name -> best seconds per iteration. Extra "measure": "rss"
cases report the peak resident set size (bytes) after running `stmt` once instead.
"""
import json
import resource
import sys
import time
import timeit

import torch

spec = json.load(sys.stdin)
torch.set_num_threads(spec["threads"])
results = {}
for case in spec["cases"]:
    scope = {"torch": torch, "F": torch.nn.functional}
    exec(case.get("setup", ""), scope)
    if case.get("measure") == "rss":
        start = time.perf_counter()
        exec(case["stmt"], scope)
        results[case["name"]] = {"seconds": time.perf_counter() - start,
                                 "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
        continue
    # timeit inlines `stmt` into its loop, so the Python side pays no extra call per iteration.
    timer = timeit.Timer(case["stmt"], globals=scope)
    results[case["name"]] = min(timer.repeat(repeat=case.get("repeats", 5), number=case["iters"])) / case["iters"]
print(json.dumps(results))
