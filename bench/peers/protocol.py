"""The line protocol the driver speaks to every worker (the C# one included), one JSON line per command:

    run <contender> <batch> <epochs>  ->  {"ok": true, "network_steps": .., "seconds": .., "cpu_seconds": .., ...}
    info                              ->  {"ok": true, versions, threads, BLAS in use}
    quit                              ->  {"ok": true}
"""
import json
import sys
import time

import numpy as np


def load(path):
    """x1,x2,x3,y rows with a header, as float32 arrays X [n, 3] and y [n, 1]."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return data[:, :3].astype(np.float32), data[:, 3:4].astype(np.float32)


def steps_per_epoch(n, batch):
    return 1 if batch <= 0 or batch >= n else -(-n // batch)


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl sees them (library, version, architecture, threads)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer", "num_threads", "filepath")
    return [{k: v for k, v in d.items() if k in keep} for d in threadpool_info()]


class Clock:
    """Wall and process CPU time of one block (CPU time leaves out what other processes took from us)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self, steps):
        return steps, time.perf_counter() - self.wall, time.process_time() - self.cpu


def serve(make_contender, info):
    """Answers commands from stdin until quit; one contender object per (name, batch) keeps its weights between blocks."""
    contenders = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "quit":
                reply = {"ok": True}
            elif parts[0] == "info":
                reply = dict(ok=True, **info())
            elif parts[0] == "run" and len(parts) == 4:
                name, batch, epochs = parts[1], int(parts[2]), int(parts[3])
                key = (name, batch)
                if key not in contenders:
                    contenders[key] = make_contender(name)
                steps, seconds, cpu_seconds = contenders[key](batch, epochs)
                reply = dict(ok=True, contender=name, batch=batch, epochs=epochs, networks=1,
                             network_steps=steps, seconds=seconds, cpu_seconds=cpu_seconds)
            else:
                raise ValueError(f"bad command {line.strip()!r}")
        except Exception as e:  # the driver reports it and goes on with the other contenders
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)
        if parts[0] == "quit":
            break
