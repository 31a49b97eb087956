#!/usr/bin/python3
"""Why Deqn's polish is Levenberg–Marquardt and not L-BFGS: both from the same Adam solution of Brock–Mirman.

Trains the deterministic Brock–Mirman model (δ = 1, K ∈ [0.1, 1], 1 → 50 swish → 50 swish → 1, float64) with the
PyTorch peer's DEQN loop (bench/solve/torch_growth.py) for a few hundred Adam episodes, then continues from the same
weights with either
  - L-BFGS with a strong-Wolfe line search (torch.optim.LBFGS, history 50) on a fixed sample of states, or
  - Levenberg–Marquardt (the damped Gauss–Newton step Deqn takes, with the full Jacobian of the residuals),
and prints the policy's max relative error against the closed form (αβ) on 30 grid points after every round, with the
training seconds so far. See docs/solve-defaults.md, section 5. Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn.utils.stateless import functional_call

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_growth as tg  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["lbfgs", "lm"], required=True)
    ap.add_argument("--adam-episodes", type=int, default=400)
    ap.add_argument("--states", type=int, default=1024, help="states in each round's fixed sample")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=250, help="L-BFGS iterations per round (LM: 3 steps per round)")
    a = ap.parse_args()

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = tg.parse_args(["--deterministic", "--episodes", str(a.adam_episodes), "--activation", "swish", "--lr", "3e-3",
                          "--schedule", "cosine", "--redraw", "--episode-length", "1"])
    net = tg.make_network(1, args.layers, args.activation)
    model = tg.Growth(args, net)
    grid = tg.evaluation_grid(args, False)
    seconds = 0.0

    def report(label):
        r = tg.evaluate(model, grid, args)
        print(f"{label}: {seconds:.1f} s  max rel. error {r['policy_max_rel_err']:.2e}  mean {r['policy_mean_rel_err']:.2e}",
              flush=True)

    adam = torch.optim.Adam(net.parameters(), lr=args.lr, eps=1e-8)
    for episode in range(1, a.adam_episodes + 1):
        t0 = time.perf_counter()
        for group in adam.param_groups:
            group["lr"] = tg.learning_rate(args, episode)
        x = model.draw(args.trajectories)
        loss = model.euler_error(x).square().mean()
        adam.zero_grad()
        loss.backward()
        adam.step()
        seconds += time.perf_counter() - t0
    report(f"Adam, {a.adam_episodes} episodes")

    names = [n for n, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]
    sizes = [p.numel() for p in net.parameters()]

    def residuals(theta, data):
        params, at = {}, 0
        for n, s, z in zip(names, shapes, sizes):
            params[n] = theta[at:at + z].reshape(s)
            at += z
        saved, model.net = model.net, (lambda u: functional_call(net, params, (u,)))
        try:
            return model.euler_error(data)
        finally:
            model.net = saved

    for rnd in range(1, a.rounds + 1):
        data = model.draw(a.states)
        t0 = time.perf_counter()
        if a.method == "lbfgs":
            opt = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=a.iterations, history_size=50,
                                    line_search_fn="strong_wolfe", tolerance_grad=0, tolerance_change=0)

            def closure():
                opt.zero_grad()
                l = model.euler_error(data).square().mean()
                l.backward()
                return l
            opt.step(closure)
        else:
            theta = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
            damping = 1e-3
            for _ in range(3):
                r = residuals(theta, data)
                jac = torch.autograd.functional.jacobian(lambda th: residuals(th, data), theta)
                scale = jac.square().sum() / jac.shape[1]
                while damping < 1e15:
                    gram = jac @ jac.T + damping * scale * torch.eye(jac.shape[0])
                    step = -(jac.T @ torch.linalg.solve(gram, r))
                    if residuals(theta + step, data).square().sum() < r.square().sum():
                        theta, damping = theta + step, damping / 3
                        break
                    damping *= 4
            with torch.no_grad():
                at = 0
                for p, z in zip(net.parameters(), sizes):
                    p.copy_(theta[at:at + z].reshape(p.shape))
                    at += z
        seconds += time.perf_counter() - t0
        with torch.no_grad():
            fit = model.euler_error(data).square().mean().item()
        report(f"{a.method} round {rnd} (loss on its sample {fit:.2e})")


if __name__ == "__main__":
    main()
