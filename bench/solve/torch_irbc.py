#!/usr/bin/python3
"""Deep Equilibrium Nets for Brumm and Scheidegger's IRBC with N countries, in plain PyTorch.

The peer of `deqn solve irbc --set countries=N` (issue 20): the same model, written the way a PyTorch user writes a
DEQN. States k_j and z_j (log TFP); the network maps the scaled states to k'_j and the multiplier lambda; the loss
combines the squares of the N relative Euler errors and of the relative world resource residual. Expectations over the
N + 1 independent shocks (z'_j = rho z_j + sigma (e_j + e_0)) by the degree-3 monomial rule, 2(N + 1) nodes (22 for
N = 10). Training in episodes of continuing trajectories simulated under the current policy (no gradients), then Adam
over the visited states. No perturbation start and no second-order polish: what a DEQN without them reaches.

Two recipes (`--recipe`); every option below can still be set by hand, the recipe only supplies the defaults.

published (default): the settings of Simon Scheidegger's course notebook, repository sischei/deep_learning_padova_0926,
  path day1/code/05_irbc/05_01_IRBC_DEQN_smooth.ipynb, commit d0fc8f5436278f2e40af69872d3b0ad056671ac7 ("teaching"
  preset, TensorFlow, float32), whose stored run reports a mean relative Euler error of 2.1e-5 (max 3.5e-4, resource
  4.7e-5) on its ergodic set and 2.7e-4 (max 3.0e-3) on the box [0.8, 1.2]^N x [-0.16, 0.16]^N. Re-implemented here:
  2 x 128 tanh, Glorot-uniform weights and zero biases, the output layer initialised to zero; inputs log(k)/0.5 and
  z/(3 sd(z)) = z/0.136; outputs k' = k exp(0.1 tanh r_k) and lambda = exp(1.25 tanh r_lambda), so the untrained policy
  is k' = k, lambda = 1; 401 episodes ("segments") of 10 continuing trajectories x 256 periods, 4 shuffled passes in
  minibatches of 512 (8,020 Adam steps, eps 1e-7 as Keras); learning rate 1e-3, 1e-4 from 40 % of the episodes and
  1e-5 from 80 %; global gradient-norm clipping at 10; loss mean(euler^2) + mean(resource^2) (equal weights);
  trajectories start with log k uniform on [log 0.65, log 1.45] and z uniform on +-1.5 sd(z), and one whose state is
  non-finite, has k outside [0.275, 3.6] or |z| > 8 sd(z) restarts from that initial box (counted in `restarts`).
plain: the earlier peer (its rows in the table of docs/solve-defaults.md section 7): 50 x 50 swish with PyTorch's
  default initialisation, inputs (k - 1)/0.2 and z/0.16, outputs softplus(r) as k' and lambda; 1,000 episodes of 64
  trajectories x 10 periods, one pass in minibatches of 64, Adam 1e-3 with a cosine decay over the episodes, no
  clipping, loss N/(N+1) mean(euler^2) + 1/(N+1) mean(resource^2), float64; trajectories start on the box, and one whose
  capital leaves [0.5, 1.5] restarts from the box.

Evaluation (not timed), both recipes, both measures:
  path, box (the earlier measure; keys kept): a fresh path of --eval-periods periods from the steady state after
  --eval-burn-in, and --eval-box uniform states of the box, with the degree-5 monomial rule on the N + 1 shocks (the
  origin, +-sqrt(d + 2) on each axis, and the pairs).
  ergodic, paper_box (the published measure): 32 trajectories from the published initial box, 256 periods each kept
  after a 512-period burn-in (8,192 states), and 8,192 uniform states of the box, with the degree-3 training rule.
Prints a JSON summary as the last line. Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
from torch import nn

RECIPES = {
    "published": dict(layers="128,128", activation="tanh", episodes=401, trajectories=10, episode_length=256,
                      batch=512, passes=4, clip_norm=10.0, growth_cap=0.1, lr=1e-3, schedule="steps",
                      dtype="float32"),
    "plain": dict(layers="50,50", activation="swish", episodes=1000, trajectories=64, episode_length=10,
                  batch=64, passes=1, clip_norm=0.0, growth_cap=0.1, lr=1e-3, schedule="cosine", dtype="float64"),
}

SD_Z = 0.01 * math.sqrt(2 / (1 - 0.95 ** 2))          # stationary sd of z (sigma sqrt(2 / (1 - rho^2))) = 0.0453


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where it does not come from the recipe."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=Help)
    p.add_argument("--recipe", choices=sorted(RECIPES), default="published",
                   help="published: Scheidegger's 05_01 notebook (d0fc8f5); plain: the earlier peer")
    p.add_argument("--countries", type=int, default=2)
    # Recipe defaults, "published / plain".
    p.add_argument("--layers", help="hidden widths, comma-separated: 128,128 / 50,50")
    p.add_argument("--activation", choices=["swish", "relu", "tanh", "selu"], help="tanh / swish")
    p.add_argument("--episodes", type=int, help="401 / 1000")
    p.add_argument("--trajectories", type=int, help="10 / 64")
    p.add_argument("--episode-length", type=int, help="256 / 10")
    p.add_argument("--batch", type=int, help="512 / 64")
    p.add_argument("--passes", type=int, help="shuffled passes over an episode's states: 4 / 1")
    p.add_argument("--clip-norm", type=float, help="global gradient-norm clipping, 0 for none: 10 / 0")
    p.add_argument("--growth-cap", type=float, help="the published head's |log(k'/k)| bound: 0.1 / unused")
    p.add_argument("--lr", type=float, help="Adam's learning rate: 1e-3 / 1e-3")
    p.add_argument("--schedule", choices=["constant", "cosine", "steps"],
                   help="steps: lr, lr/10 from 40 %% of the episodes, lr/100 from 80 %%: steps / cosine")
    p.add_argument("--dtype", choices=["float64", "float32"], help="float32 / float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-periods", type=int, default=10000)
    p.add_argument("--eval-burn-in", type=int, default=500)
    p.add_argument("--eval-box", type=int, default=10000)
    args = p.parse_args(argv)
    for key, value in RECIPES[args.recipe].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


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
    """published: k' = k exp(cap tanh r_k), lambda = exp(1.25 tanh r_lambda) on inputs (log k / 0.5, z / 3 sd(z)),
    Glorot-uniform hidden layers, output layer zero (k' = k, lambda = 1 at the start). plain: softplus(r) on
    ((k - 1) / 0.2, z / 0.16), PyTorch's default initialisation."""

    def __init__(self, n, widths, activation, recipe, growth_cap):
        super().__init__()
        act = {"swish": nn.SiLU, "relu": nn.ReLU, "tanh": nn.Tanh, "selu": nn.SELU}[activation]
        layers, width = [], 2 * n
        for w in widths:
            layers += [nn.Linear(width, w), act()]
            width = w
        layers.append(nn.Linear(width, n + 1))
        self.net = nn.Sequential(*layers)
        self.n, self.published, self.growth_cap = n, recipe == "published", growth_cap
        if self.published:
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)
            nn.init.zeros_(self.net[-1].weight)

    def forward(self, x):
        k, z = x[:, :self.n], x[:, self.n:]
        if not self.published:
            return nn.functional.softplus(self.net(torch.cat([(k - 1) / 0.2, z / 0.16], 1)))
        raw = self.net(torch.cat([k.clamp_min(1e-12).log() / 0.5, z / (3 * SD_Z)], 1))
        kn = k * (self.growth_cap * raw[:, :self.n].tanh()).exp()
        lam = (1.25 * raw[:, self.n:].tanh()).exp()
        return torch.cat([kn, lam], 1)


def draw_box(rows, n, gen, dtype):
    k = 0.8 + 0.4 * torch.rand(rows, n, generator=gen, dtype=dtype)
    z = -0.16 + 0.32 * torch.rand(rows, n, generator=gen, dtype=dtype)
    return torch.cat([k, z], 1)


def draw_initial(rows, n, gen, dtype):
    """The published trajectory starts: log k uniform on [log 0.65, log 1.45], z uniform on +-1.5 sd(z)."""
    lo, hi = math.log(0.65), math.log(1.45)
    k = (lo + (hi - lo) * torch.rand(rows, n, generator=gen, dtype=dtype)).exp()
    z = 1.5 * SD_Z * (2 * torch.rand(rows, n, generator=gen, dtype=dtype) - 1)
    return torch.cat([k, z], 1)


def strays(states, n, published):
    """Trajectories to restart: non-finite, or outside the recipe's guard."""
    k, z = states[:, :n], states[:, n:]
    bad = ~torch.isfinite(states).all(1)
    if published:
        return bad | (k < 0.275).any(1) | (k > 3.6).any(1) | (z.abs() > 8 * SD_Z).any(1)
    return bad | (k < 0.5).any(1) | (k > 1.5).any(1)


def score(model, policy, xs, nodes, weights):
    euler, res = [], []
    for b in range(0, xs.shape[0], 1000):
        e, r = model.residuals(policy, xs[b:b + 1000], nodes, weights)
        euler.append(e.abs()); res.append(r.abs())
    euler, res = torch.cat(euler), torch.cat(res)
    n = model.n
    return {"euler_mean": float(euler.mean()), "euler_max": float(euler.max()),
            "resource_mean": float(res.mean()), "resource_max": float(res.max()), "states": int(xs.shape[0]),
            "k_min": float(xs[:, :n].min()), "k_max": float(xs[:, :n].max())}


def main(argv=None):
    args = parse_args(argv)
    published = args.recipe == "published"
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    n = args.countries
    model = Irbc(n, dtype)
    policy = Policy(n, [int(w) for w in args.layers.split(",") if w], args.activation, args.recipe,
                    args.growth_cap).to(dtype)
    opt = torch.optim.Adam(policy.parameters(), lr=args.lr, eps=1e-7 if published else 1e-8)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.episodes) if args.schedule == "cosine" else None
    nodes, weights = monomial3(n + 1, dtype)
    draw = draw_initial if published else draw_box
    gen = torch.Generator().manual_seed(args.seed)
    states = draw(args.trajectories, n, gen, dtype)
    restarts, restart_episodes, steps = 0, [], 0
    start = time.perf_counter()
    for episode in range(args.episodes):
        if args.schedule == "steps":
            lr = args.lr if episode < int(0.4 * args.episodes) else (
                args.lr / 10 if episode < int(0.8 * args.episodes) else args.lr / 100)
            for group in opt.param_groups:
                group["lr"] = lr
        visited = []
        with torch.no_grad():
            for _ in range(args.episode_length):
                visited.append(states)
                kn = policy(states)[:, :n]
                eps = torch.randn(args.trajectories, n + 1, generator=gen, dtype=dtype)
                states = torch.cat([kn, model.next_z(states[:, n:], eps)], 1)
                stray = strays(states, n, published)
                if stray.any():
                    restarts += int(stray.sum())
                    if not restart_episodes or restart_episodes[-1] != episode:
                        restart_episodes.append(episode)
                    states[stray] = draw(int(stray.sum()), n, gen, dtype)
        data = torch.cat(visited)
        for _ in range(args.passes):
            order = torch.randperm(data.shape[0], generator=gen)
            for b in range(0, data.shape[0], args.batch):
                x = data[order[b:b + args.batch]]
                euler, resource_ = model.residuals(policy, x, nodes, weights)
                if published:
                    loss = euler.square().mean() + resource_.square().mean()
                else:
                    loss = euler.square().mean() * n / (n + 1) + resource_.square().mean() / (n + 1)
                opt.zero_grad()
                loss.backward()
                if args.clip_norm > 0:
                    nn.utils.clip_grad_norm_(policy.parameters(), args.clip_norm)
                opt.step()
                steps += 1
        if sched:
            sched.step()
        if not torch.isfinite(loss):
            print(json.dumps({"error": f"non-finite loss at episode {episode}"}))
            return 1
    seconds = time.perf_counter() - start

    e_nodes, e_weights = monomial5(n + 1, dtype)
    eval_gen = torch.Generator().manual_seed(20261127)
    result = {"peer": "pytorch", "recipe": args.recipe, "countries": n, "episodes": args.episodes, "steps": steps,
              "training_seconds": round(seconds, 2), "seconds_per_episode": seconds / args.episodes,
              "training_nodes": int(nodes.shape[0]), "restarts": restarts,
              "restart_episodes": len(restart_episodes),
              "last_restart_episode": restart_episodes[-1] if restart_episodes else None,
              "torch": torch.__version__, "threads": args.threads, "dtype": args.dtype,
              "settings": {k: getattr(args, k) for k in RECIPES["published"]}}
    with torch.no_grad():
        # The earlier measure: one path from the steady state and the box, degree-5 rule.
        x = torch.cat([torch.ones(1, n, dtype=dtype), torch.zeros(1, n, dtype=dtype)], 1)
        path = []
        for t in range(args.eval_burn_in + args.eval_periods):
            if t >= args.eval_burn_in:
                path.append(x)
            eps = torch.randn(1, n + 1, generator=eval_gen, dtype=dtype)
            x = torch.cat([policy(x)[:, :n], model.next_z(x[:, n:], eps)], 1)
        result["path"] = score(model, policy, torch.cat(path), e_nodes, e_weights)
        result["box"] = score(model, policy, draw_box(args.eval_box, n, eval_gen, dtype), e_nodes, e_weights)
        # The published measure: 32 paths from the initial box, 256 periods kept after 512, and 8,192 box states,
        # both with the degree-3 training rule.
        x, ergodic = draw_initial(32, n, eval_gen, dtype), []
        for t in range(512 + 256):
            if t >= 512:
                ergodic.append(x)
            eps = torch.randn(32, n + 1, generator=eval_gen, dtype=dtype)
            x = torch.cat([policy(x)[:, :n], model.next_z(x[:, n:], eps)], 1)
        result["ergodic"] = score(model, policy, torch.cat(ergodic), nodes, weights)
        result["paper_box"] = score(model, policy, draw_box(8192, n, eval_gen, dtype), nodes, weights)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
