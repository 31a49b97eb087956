#!/usr/bin/python3
"""Deep Equilibrium Nets for the Brock–Mirman growth model (log utility), in plain PyTorch.

The peer of Deqn's C#/TorchSharp solver in a speed comparison: the same algorithm, written the way a PyTorch user
would write it. One network maps the normalized state to a savings rate s = sigmoid(raw); the loss is the mean squared
relative Euler error, with the expectation over next period's shock taken by Gauss–Hermite quadrature. Training runs in
episodes: simulate the economy under the current policy (no gradients), then a few epochs of Adam over the visited states.

Prints one JSON line per evaluation and a JSON summary as the last line. See bench/solve/README.md.
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn


def parse_range(text):
    lo, hi = (float(v) for v in text.split(","))
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"range {text!r}: need lo < hi")
    return lo, hi


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    m = p.add_argument_group("model")
    m.add_argument("--alpha", type=float, default=0.36)
    m.add_argument("--beta", type=float, default=0.99)
    m.add_argument("--delta", type=float, default=1.0, help="depreciation; 1.0 has a closed form")
    m.add_argument("--rho", type=float, default=0.9)
    m.add_argument("--sigma", type=float, default=0.04)
    m.add_argument("--deterministic", action="store_true", help="no shocks: state is K only, z = 1")
    m.add_argument("--k-range", type=parse_range, default=(0.1, 1.0), help="initial K ~ U(lo, hi); input normalization")
    m.add_argument("--z-range", type=parse_range, default=(0.8, 1.2), help="initial z ~ U(lo, hi); input normalization")
    m.add_argument("--nodes", type=int, default=5, help="Gauss-Hermite nodes for the expectation")
    n = p.add_argument_group("network")
    n.add_argument("--layers", default="50,50", help="hidden widths, comma-separated")
    n.add_argument("--activation", choices=["tanh", "relu", "swish"], default="tanh")
    t = p.add_argument_group("training")
    t.add_argument("--episodes", type=int, default=1000)
    t.add_argument("--trajectories", type=int, default=64, help="T simulated economies")
    t.add_argument("--episode-length", type=int, default=10, help="L periods simulated per episode")
    t.add_argument("--redraw", action="store_true", help="draw fresh initial states every episode")
    t.add_argument("--epochs", type=int, default=1, help="passes over the T*L states per episode")
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                   help="cosine: episode e (1-based) of E trains with lr*(1 + cos(pi*min(e-1, E)/E))/2, as Deqn's")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    t.add_argument("--max-seconds", type=float, default=None, help="stop once training time exceeds this")
    t.add_argument("--target-max-rel-err", type=float, default=None,
                   help="stop at the first evaluation whose policy max relative error is <= this (delta = 1 only)")
    e = p.add_argument_group("evaluation (not timed)")
    e.add_argument("--eval-every", type=int, default=100, help="episodes between evaluations (0: only at the end)")
    e.add_argument("--grid-k", type=parse_range, default=(0.1, 1.0), help="evaluation grid for K")
    e.add_argument("--grid-z", type=parse_range, default=(0.8, 1.2), help="evaluation grid for z")
    e.add_argument("--grid-points", type=int, default=30,
                   help="points per state, ends included: n x n (n when deterministic)")
    a = p.parse_args(argv)
    a.layers = [int(w) for w in a.layers.split(",") if w.strip()]
    if a.grid_points < 2:
        p.error("--grid-points needs at least 2")
    if a.target_max_rel_err is not None and a.delta != 1.0:
        p.error("--target-max-rel-err needs --delta 1 (the closed form)")
    return a


ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "swish": nn.SiLU}


def make_network(n_in, widths, activation):
    layers, prev = [], n_in
    for w in widths:
        layers += [nn.Linear(prev, w), ACTIVATIONS[activation]()]
        prev = w
    layers.append(nn.Linear(prev, 1))
    net = nn.Sequential(*layers)
    for mod in net:
        if isinstance(mod, nn.Linear):
            nn.init.xavier_uniform_(mod.weight)
            nn.init.zeros_(mod.bias)
    return net


class Growth:
    """The model's equations on batches of states x = (K, z) (or (K) when deterministic)."""

    def __init__(self, a, net):
        self.alpha, self.beta, self.delta, self.rho, self.sigma = a.alpha, a.beta, a.delta, a.rho, a.sigma
        self.stochastic = not a.deterministic
        self.net = net
        ranges = [a.k_range, a.z_range] if self.stochastic else [a.k_range]
        self.lo = torch.tensor([r[0] for r in ranges])
        self.hi = torch.tensor([r[1] for r in ranges])
        self.center = (self.lo + self.hi) / 2
        self.half_width = (self.hi - self.lo) / 2
        if self.stochastic:
            t, w = np.polynomial.hermite.hermgauss(a.nodes)
            self.eps = torch.from_numpy(math.sqrt(2.0) * a.sigma * t).to(torch.get_default_dtype())
            self.weights = torch.from_numpy(w / math.sqrt(math.pi)).to(torch.get_default_dtype())
        else:
            self.eps = torch.zeros(1)
            self.weights = torch.ones(1)

    def savings(self, x):
        return torch.sigmoid(self.net((x - self.center) / self.half_width)).squeeze(-1)

    def split(self, x):
        K = x[:, 0]
        z = x[:, 1] if self.stochastic else torch.ones_like(K)
        return K, z

    def wealth(self, K, z):
        return z * K.pow(self.alpha) + (1 - self.delta) * K

    def draw(self, n):
        return self.lo + (self.hi - self.lo) * torch.rand(n, self.lo.numel())

    def step(self, x):
        """Next period's states under the current policy, with a fresh shock (no gradients wanted)."""
        K, z = self.split(x)
        Kp = self.savings(x) * self.wealth(K, z)
        if not self.stochastic:
            return Kp.unsqueeze(-1)
        zp = torch.exp(self.rho * torch.log(z) + self.sigma * torch.randn_like(z))
        return torch.stack([Kp, zp], dim=-1)

    def euler_error(self, x):
        """Relative Euler error 1 - 1/(beta C E[(1-delta+r')/C']) for each state; all B*n next states in one pass."""
        B, n = x.shape[0], self.eps.numel()
        K, z = self.split(x)
        s = self.savings(x)
        W = self.wealth(K, z)
        C = (1 - s) * W
        Kp = (s * W).unsqueeze(1).expand(B, n)                           # (B, n)
        if self.stochastic:
            zp = torch.exp(self.rho * torch.log(z).unsqueeze(1) + self.eps)  # (B, n)
            xp = torch.stack([Kp, zp], dim=-1).reshape(B * n, 2)
        else:
            zp = torch.ones_like(Kp)
            xp = Kp.reshape(B * n, 1)
        sp = self.savings(xp).reshape(B, n)
        Cp = (1 - sp) * self.wealth(Kp, zp)
        rp = self.alpha * zp * Kp.pow(self.alpha - 1)
        expectation = ((1 - self.delta + rp) / Cp) @ self.weights
        return 1 - 1 / (self.beta * C * expectation)


def evaluation_grid(a, stochastic):
    K = torch.linspace(*a.grid_k, a.grid_points)
    if not stochastic:
        return K.unsqueeze(-1)
    z = torch.linspace(*a.grid_z, a.grid_points)
    KK, zz = torch.meshgrid(K, z, indexing="ij")
    return torch.stack([KK.reshape(-1), zz.reshape(-1)], dim=-1)


@torch.no_grad()
def evaluate(model, grid, a):
    out = {}
    if a.delta == 1.0:
        # With delta = 1, K' = s z K^alpha and the closed form is K' = alpha beta z K^alpha: the relative error of K'
        # is that of s against alpha beta.
        rel = (model.savings(grid) / (a.alpha * a.beta) - 1).abs()
        out["policy_mean_rel_err"] = rel.mean().item()
        out["policy_max_rel_err"] = rel.max().item()
    else:
        out["policy_mean_rel_err"] = out["policy_max_rel_err"] = None
    ree = model.euler_error(grid).abs()
    out["ree_mean"] = ree.mean().item()
    out["ree_max"] = ree.max().item()
    return out


def learning_rate(a, episode):
    """The rate for the whole of episode `episode` (1-based), Deqn's schedule evaluated at epoch episode - 1."""
    if a.schedule == "constant":
        return a.lr
    E = a.episodes
    return a.lr * (1 + math.cos(math.pi * min(episode - 1, E) / E)) / 2


def emit(obj):
    print(json.dumps(obj), flush=True)


def main(argv=None):
    a = parse_args(argv)
    torch.set_default_dtype(getattr(torch, a.dtype))
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    try:
        # Debian's PyTorch calls the system BLAS (OpenBLAS), whose thread pool torch.set_num_threads does not reach.
        from threadpoolctl import threadpool_limits
        threadpool_limits(a.threads)
    except ImportError:
        pass
    torch.manual_seed(a.seed)

    net = make_network(1 if a.deterministic else 2, a.layers, a.activation)
    model = Growth(a, net)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    grid = evaluation_grid(a, model.stochastic)

    state = model.draw(a.trajectories)
    train_seconds, steps, episodes_done = 0.0, 0, 0
    last_loss = float("nan")
    last_eval_episode, reached = -1, None
    result = {}

    def run_eval(episode):
        nonlocal last_eval_episode, result
        result = {"episode": episode, "seconds": train_seconds, "lr": opt.param_groups[0]["lr"],
                  "loss": None if math.isnan(last_loss) else last_loss, **evaluate(model, grid, a)}
        emit(result)
        last_eval_episode = episode
        return result

    for episode in range(1, a.episodes + 1):
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = learning_rate(a, episode)
        if a.redraw:
            state = model.draw(a.trajectories)
        with torch.no_grad():
            visited = []
            for _ in range(a.episode_length):
                visited.append(state)
                state = model.step(state)
            data = torch.cat(visited)
        n_data = data.shape[0]
        loss_sum, n_steps = torch.zeros(()), 0
        for _ in range(a.epochs):
            order = torch.randperm(n_data)
            for start in range(0, n_data, a.batch):
                x = data[order[start:start + a.batch]]
                loss = model.euler_error(x).square().mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.detach()
                n_steps += 1
        last_loss = (loss_sum / n_steps).item()
        train_seconds += time.perf_counter() - t0
        steps += n_steps
        episodes_done = episode

        if a.eval_every > 0 and episode % a.eval_every == 0:
            r = run_eval(episode)
            if a.target_max_rel_err is not None and r["policy_max_rel_err"] <= a.target_max_rel_err:
                reached = True
                break
        if a.max_seconds is not None and train_seconds >= a.max_seconds:
            break

    if last_eval_episode != episodes_done:
        r = run_eval(episodes_done)
        if a.target_max_rel_err is not None and r["policy_max_rel_err"] <= a.target_max_rel_err:
            reached = True
    if a.target_max_rel_err is not None and reached is None:
        reached = False

    emit({
        "summary": True,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "dtype": a.dtype,
        "schedule": a.schedule,
        "grid_points": grid.shape[0],
        "train_seconds": train_seconds,
        "steps": steps,
        "seconds_per_step": train_seconds / steps if steps else None,
        "episodes": episodes_done,
        "target_reached": reached,
        "final": {k: result.get(k) for k in ("policy_mean_rel_err", "policy_max_rel_err", "ree_mean", "ree_max")},
    })


if __name__ == "__main__":
    sys.exit(main())
