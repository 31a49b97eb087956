"""PyTorch peer: the plain loop (nn.Sequential, torch.optim.Adam, randperm + index_select, backward, step), one thread.

Usage: /usr/bin/python3 torch_peer.py <data.csv>   (started by bench/driver.py, which speaks peers/protocol.py to it)
"""
import re
import sys

import torch
from threadpoolctl import threadpool_limits

import protocol

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
# PyTorch here calls the system BLAS (OpenBLAS); its own thread setting does not reach OpenBLAS's pool.
threadpool_limits(1)
torch.manual_seed(0)

X_np, y_np = protocol.load(sys.argv[1])
X, Y = torch.from_numpy(X_np), torch.from_numpy(y_np)
N = X.shape[0]


def make(name):
    if name != "pytorch":
        raise ValueError(f"unknown contender {name!r}")
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 64), torch.nn.Tanh(),
        torch.nn.Linear(64, 64), torch.nn.Tanh(),
        torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(7)
    mse = torch.nn.functional.mse_loss

    def step(x, y):
        opt.zero_grad()
        loss = mse(model(x), y)
        loss.backward()
        opt.step()

    def run(batch, epochs):
        full = batch <= 0 or batch >= N
        steps = 0
        clock = protocol.Clock()
        for _ in range(epochs):
            if full:
                step(X, Y)
                steps += 1
                continue
            order = torch.randperm(N, generator=gen)
            for start in range(0, N, batch):
                rows = order[start:start + batch]
                step(X.index_select(0, rows), Y.index_select(0, rows))
                steps += 1
        return clock.stop(steps)

    return run


def info():
    import numpy
    return {
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_blas_info": (re.findall(r"BLAS_INFO=(\w+)", torch.__config__.show()) or ["?"])[0],
        "blas": protocol.blas_info(),
    }


protocol.serve(make, info)
