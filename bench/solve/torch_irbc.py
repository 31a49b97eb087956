#!/usr/bin/python3
"""Deep Equilibrium Nets for Brumm and Scheidegger's IRBC with N countries, in plain PyTorch.

The peer of `deqn solve irbc --set countries=N` (issue 20): the same model, written the way a PyTorch user writes a
DEQN from the published recipe. States k_j and z_j (log TFP); the network maps the states, scaled from the box
[0.8, 1.2]^N x [-0.16, 0.16]^N to [-1, 1], to k'_j and the multiplier lambda (softplus); the loss is the mean square of
the N relative Euler errors and the relative world resource residual. Expectations over the N + 1 independent shocks
(z'_j = rho z_j + sigma (e_j + e_0)) by the degree-3 monomial rule, 2(N + 1) nodes (22 for N = 10, as published).
Training in episodes: 64 continuing trajectories x 10 periods simulated under the current policy (no gradients), one
pass of Adam over the visited states in minibatches of 64; a trajectory whose capital leaves [0.5, 1.5] restarts
from the box. No perturbation start and no second-order polish: what a DEQN without them reaches.

Accuracy on a fresh path of --eval-periods periods (after --eval-burn-in) with the degree-5 monomial rule on the
N + 1 shocks (the origin, +-sqrt(d + 2) on each axis, and the pairs), and on --eval-box uniform states of the box.
Prints a JSON summary as the last line. Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import math
import resource
import sys
import time

import numpy as np
import torch
from torch import nn


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--countries", type=int, default=2)
    p.add_argument("--layers", default="50,50", help="hidden widths, comma-separated")
    p.add_argument("--activation", choices=["swish", "relu", "tanh", "selu"], default="swish")
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--trajectories", type=int, default=64)
    p.add_argument("--episode-length", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=["constant", "cosine"], default="cosine")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-periods", type=int, default=10000)
    p.add_argument("--eval-burn-in", type=int, default=500)
    p.add_argument("--eval-box", type=int, default=10000)
    return p.parse_args(argv)


class Irbc:
    """Brumm-Scheidegger calibration: k = 1, lambda = 1, c_j = A - delta at the steady state."""

    def __init__(self, n, dtype):
        self.n, self.dtype = n, dtype
        self.beta, self.zeta, self.delta, self.rho, self.sigma, self.kappa = 0.99, 0.36, 0.01, 0.95, 0.01, 0.5
        self.a = (1 - self.beta * (1 - self.delta)) / (self.zeta * self.beta)
        gam = [0.25 if n == 1 else 0.25 + 0.75 * j / (n - 1) for j in range(n)]
        self.gamma = torch.tensor(gam, dtype=dtype)
        self.tau = (self.a - self.delta) ** (1 / self.gamma)

    def consumption(self, lam):
        return (lam / self.tau).pow(-self.gamma)

    def next_z(self, z, eps):
        """z [B, N], eps [..., N + 1] standard normal: country shocks, then the common one."""
        return self.rho * z + self.sigma * (eps[..., :self.n] + eps[..., self.n:])

    def residuals(self, policy, x, nodes, weights):
        """Euler errors [B, N] and the relative resource residual [B] at states x [B, 2N]."""
        n, d = self.n, self.delta
        k, z = x[:, :n], x[:, n:]
        out = policy(x)
        kn, lam = out[:, :n], out[:, n]
        g = kn / k - 1
        y = self.a * z.exp() * k.pow(self.zeta)
        c = self.consumption(lam[:, None])
        resources = (y + (1 - d) * k).sum(1)
        resource = 1 - (kn + self.kappa / 2 * k * g * g + c).sum(1) / resources
        m = nodes.shape[0]
        zn = self.next_z(z[:, None, :], nodes[None, :, :])                       # [B, M, N]
        xn = torch.cat([kn[:, None, :].expand(-1, m, -1), zn], 2).reshape(-1, 2 * n)
        out_n = policy(xn).reshape(-1, m, n + 1)
        knn, lamn = out_n[..., :n], out_n[..., n]
        gn = knn / kn[:, None, :] - 1
        rn = self.zeta * self.a * zn.exp() * kn[:, None, :].pow(self.zeta - 1) + 1 - d + self.kappa / 2 * gn * (gn + 2)
        expect = (weights[None, :, None] * lamn[..., None] * rn).sum(1)
        euler = self.beta * expect / (lam[:, None] * (1 + self.kappa * g)) - 1
        return euler, resource


def monomial3(dim, dtype):
    nodes = math.sqrt(dim) * torch.cat([torch.eye(dim), -torch.eye(dim)]).to(dtype)
    return nodes, torch.full((2 * dim,), 1 / (2 * dim), dtype=dtype)


def monomial5(dim, dtype):
    s = math.sqrt(dim + 2)
    nodes = [torch.zeros(dim)]
    weights = [2 / (dim + 2)]
    for i in range(dim):
        for sign in (1, -1):
            v = torch.zeros(dim); v[i] = sign * s; nodes.append(v); weights.append((4 - dim) / (2 * (dim + 2) ** 2))
    t = math.sqrt((dim + 2) / 2)
    for i in range(dim):
        for j in range(i + 1, dim):
            for si in (1, -1):
                for sj in (1, -1):
                    v = torch.zeros(dim); v[i] = si * t; v[j] = sj * t; nodes.append(v); weights.append(1 / (dim + 2) ** 2)
    return torch.stack(nodes).to(dtype), torch.tensor(weights, dtype=dtype)


class Policy(nn.Module):
    def __init__(self, n, widths, activation):
        super().__init__()
        act = {"swish": nn.SiLU, "relu": nn.ReLU, "tanh": nn.Tanh, "selu": nn.SELU}[activation]
        layers, width = [], 2 * n
        for w in widths:
            layers += [nn.Linear(width, w), act()]
            width = w
        layers.append(nn.Linear(width, n + 1))
        self.net = nn.Sequential(*layers)
        self.n = n

    def forward(self, x):
        k, z = x[:, :self.n], x[:, self.n:]
        scaled = torch.cat([(k - 1) / 0.2, z / 0.16], 1)
        return nn.functional.softplus(self.net(scaled))


def draw_box(rows, n, gen, dtype):
    k = 0.8 + 0.4 * torch.rand(rows, n, generator=gen, dtype=dtype)
    z = -0.16 + 0.32 * torch.rand(rows, n, generator=gen, dtype=dtype)
    return torch.cat([k, z], 1)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    n = args.countries
    model = Irbc(n, dtype)
    policy = Policy(n, [int(w) for w in args.layers.split(",") if w], args.activation).to(dtype)
    opt = torch.optim.Adam(policy.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.episodes) if args.schedule == "cosine" else None
    nodes, weights = monomial3(n + 1, dtype)
    gen = torch.Generator().manual_seed(args.seed)
    states = draw_box(args.trajectories, n, gen, dtype)
    restarts = 0
    start = time.perf_counter()
    for episode in range(args.episodes):
        visited = []
        with torch.no_grad():
            for _ in range(args.episode_length):
                visited.append(states)
                kn = policy(states)[:, :n]
                eps = torch.randn(args.trajectories, n + 1, generator=gen, dtype=dtype)
                states = torch.cat([kn, model.next_z(states[:, n:], eps)], 1)
                stray = ~torch.isfinite(states).all(1) | (states[:, :n] < 0.5).any(1) | (states[:, :n] > 1.5).any(1)
                if stray.any():
                    restarts += int(stray.sum())
                    states[stray] = draw_box(int(stray.sum()), n, gen, dtype)
        data = torch.cat(visited)
        order = torch.randperm(data.shape[0], generator=gen)
        for b in range(0, data.shape[0], args.batch):
            x = data[order[b:b + args.batch]]
            euler, resource_ = model.residuals(policy, x, nodes, weights)
            loss = euler.square().mean() * n / (n + 1) + resource_.square().mean() / (n + 1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if sched:
            sched.step()
        if not torch.isfinite(loss):
            print(json.dumps({"error": f"non-finite loss at episode {episode}"}))
            return 1
    seconds = time.perf_counter() - start

    # Evaluation (not timed): a fresh path and uniform states of the box, degree-5 monomial expectations.
    e_nodes, e_weights = monomial5(n + 1, dtype)
    eval_gen = torch.Generator().manual_seed(20261127)
    with torch.no_grad():
        x = torch.cat([torch.ones(1, n, dtype=dtype), torch.zeros(1, n, dtype=dtype)], 1)
        path = []
        for t in range(args.eval_burn_in + args.eval_periods):
            if t >= args.eval_burn_in:
                path.append(x)
            eps = torch.randn(1, n + 1, generator=eval_gen, dtype=dtype)
            x = torch.cat([policy(x)[:, :n], model.next_z(x[:, n:], eps)], 1)
        path = torch.cat(path)
        result = {"peer": "pytorch", "countries": n, "episodes": args.episodes, "training_seconds": round(seconds, 2),
                  "seconds_per_episode": seconds / args.episodes, "training_nodes": int(nodes.shape[0]),
                  "restarts": restarts, "torch": torch.__version__, "threads": args.threads, "dtype": args.dtype}
        for name, xs in (("path", path), ("box", draw_box(args.eval_box, n, eval_gen, dtype))):
            euler, res = [], []
            for b in range(0, xs.shape[0], 1000):
                e, r = model.residuals(policy, xs[b:b + 1000], e_nodes, e_weights)
                euler.append(e.abs()); res.append(r.abs())
            euler, res = torch.cat(euler), torch.cat(res)
            result[name] = {"euler_mean": float(euler.mean()), "euler_max": float(euler.max()),
                            "resource_mean": float(res.mean()), "resource_max": float(res.max())}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
