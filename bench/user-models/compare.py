#!/usr/bin/env python3
"""How wrong is a DEQN solution? Compares a `solve` run folder with an independent reference solution.

    /usr/bin/python3 bench/user-models/compare.py <run folder> [--model NAME] [--json FILE] [--n 10000] [--seed 1]

The trained network is evaluated here in numpy, from the run folder alone: weights from policy.safetensors (parsed by
hand: an 8-byte little-endian header length, a JSON header, raw little-endian data), the input scaling and the
policies' output transforms from model.json inside policy.deqn (a zip). Before anything is compared, the forward pass
is checked against the run's own path.csv (states and transformed policies) to 1e-12.

Then, on (a) the reference's ergodic sample and (b) a uniform sample of the initial distribution's support (the box
the network's inputs are scaled by), it reports the max and mean relative errors of

  * growth models (ramsey, growth-crra5): the savings rate s (a share of resources) and consumption C;
  * IRBC models (irbc, irbc-irreversible): consumption c_j and investment I_j per country, and k′_j and λ;
    investment's error is measured relative to replacement investment δ·k_j (investment itself is near zero, or
    exactly zero where the irreversibility constraint binds, so |ΔI|/|I| has no scale);
  * irbc-irreversible, on both samples: the share of (state, country) pairs, and of states, where DEQN and the
    reference agree on whether the constraint binds.

It prints one Markdown table line per sample and writes everything as JSON (default: <run folder>/compare.json).

References plug in as Python modules in bench/user-models/reference/ (or --reference-dir): for a model `name`, the
module `name` with '-' → '_' if it exists, else the family module (growth.py for ramsey and growth-crra5, irbc.py for
the IRBC models). A module either exposes `reference(model, calibration) -> object` (calibration: the run's parameters
by name) whose object has the two functions below, or exposes them itself:

  policy(states: ndarray[n, d]) -> dict[str, ndarray[n]]   growth: keys s, C;  IRBC: k_next_j, lambda and optionally
                                                           c_j, i_j (computed from k_next_j and lambda if missing),
                                                           mu_j (irreversible: binds where (1 − β(1 − δ))·μ_j/λ > I_j/k_j;
                                                           without mu_j, where I_j ≤ --bind-tol·k_j)
  ergodic_sample(n, seed) -> ndarray[n, d]

with the states' columns in the network's input order: (K) for ramsey, (K, z) with z the level of TFP for
growth-crra5, (k_1 … k_N, z_1 … z_N) with z the log of TFP for the IRBC models.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import math
import os
import re
import struct
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FAMILY = {"ramsey": "growth", "growth-crra5": "growth", "irbc": "irbc", "irbc-irreversible": "irbc"}


# --- the network, from the run folder ------------------------------------------------------------------------------
def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length].decode("utf-8"))
    dtypes = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        data = np.frombuffer(blob, dtype=dtypes[info["dtype"]], count=(end - start) // np.dtype(dtypes[info["dtype"]]).itemsize,
                             offset=8 + length + start)
        tensors[name] = data.reshape(info["shape"]).astype(np.float64)
    return tensors


def _activation(name):
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))
    table = {
        "linear": lambda x: x,
        "relu": lambda x: np.maximum(x, 0.0),
        "tanh": np.tanh,
        "sigmoid": sigmoid,
        "swish": lambda x: x * sigmoid(x),
        "softplus": _softplus,
        "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    }
    if name not in table:
        raise SystemExit(f"compare.py: activation '{name}' is not implemented here")
    return table[name]


def _softplus(x):
    # torch.nn.functional.softplus (β = 1, threshold 20): x itself above the threshold
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


class Network:
    """The trained policy network of a run folder: raw states in, transformed policies out (as the model reads them)."""

    def __init__(self, run):
        with zipfile.ZipFile(os.path.join(run, "policy.deqn")) as z:
            self.meta = json.loads(z.read("model.json"))
        self.weights = read_safetensors(os.path.join(run, "policy.safetensors"))
        spec = self.meta["network"]
        if any(h.get("batch_norm") for h in spec["hidden"]):
            raise SystemExit("compare.py: batch normalization is not implemented here")
        self.activations = [_activation(h["activation"]) for h in spec["hidden"]]
        self.output_activation = _activation(spec.get("output_activation", "linear"))
        norm = self.meta["input_normalizer"]
        self.offset = np.asarray(norm["offset"], float)
        self.scale = np.asarray(norm["scale"], float)
        self.features = list(self.meta["features"])
        self.targets = list(self.meta["targets"])
        prov = self.meta.get("provenance", {})
        self.model = prov.get("deqn-model")
        self.calibration = {k: float(v) for k, v in (kv.split("=", 1) for kv in prov.get("calibration", "").split(";") if kv)}
        self.transforms = self._parse_outputs(prov.get("outputs", ""))
        self.linear = self._parse_linear(prov.get("linear-part"))

    @staticmethod
    def _parse_linear(text):
        # "columns=0,1;center=…;anchor=…;slopes=… (row-major [policy elements, columns]);reach=10"
        # (--warm-start correction): raw = network + clip(anchor + slopes·(x[columns] − center), anchor ± reach)
        if not text:
            return None
        fields = dict(f.split("=", 1) for f in text.split(";") if f)
        vec = lambda k: np.array([float(v) for v in fields[k].split(",") if v], float)
        columns = vec("columns").astype(int)
        anchor = vec("anchor")
        return columns, vec("center"), anchor, vec("slopes").reshape(len(anchor), len(columns)), float(fields["reach"])

    @staticmethod
    def _parse_outputs(text):
        # "raw network outputs; the policies apply s: implied [0, 1], mu: softplus [0, ∞]"
        out = {}
        body = text.split("apply", 1)[-1]
        for m in re.finditer(r"([^\s,:]+): (linear|implied|softplus|exp)(?: \[([^,\]]+), ([^\]]+)\])?", body):
            name, kind, lo, hi = m.groups()
            num = lambda s: None if s is None or s.strip() in ("−∞", "∞", "-∞") else float(s.replace("−", "-"))
            out[name] = (kind, num(lo), num(hi))
        return out

    def raw(self, states):
        x = (np.asarray(states, float) - self.offset) / self.scale
        n_hidden = len(self.activations)
        for i, act in enumerate(self.activations, start=1):
            x = act(x @ self.weights[f"dense_{i}.weight"].T + self.weights[f"dense_{i}.bias"])
        assert n_hidden == len([k for k in self.weights if k.startswith("dense_") and k.endswith(".weight")])
        out = self.output_activation(x @ self.weights["output.weight"].T + self.weights["output.bias"])
        if self.linear is not None:
            columns, center, anchor, slopes, reach = self.linear
            part = anchor + (np.asarray(states, float)[:, columns] - center) @ slopes.T
            out = out + np.clip(part, anchor - reach, anchor + reach)
        return out

    def __call__(self, states):
        """Policies by target column name ("s", "k_next[1]", "lambda", …): each policy's transform, then its bounds."""
        raw = self.raw(states)
        result = {}
        for j, target in enumerate(self.targets):
            policy = target.split("[", 1)[0]
            kind, lo, hi = self.transforms.get(policy, ("linear", None, None))
            r = raw[:, j]
            if kind == "implied":
                v = 1.0 / (1.0 + np.exp(-r))
                if not (lo == 0 and hi == 1):
                    v = v * (hi - lo) + lo
            elif kind == "softplus":
                v = _softplus(r)
            elif kind == "exp":
                v = np.exp(r)
            else:
                v = r
            if kind != "implied" and (lo is not None or hi is not None):
                v = np.clip(v, lo, hi)   # the value a model reads is clipped into its declared bounds
            result[target] = v
        return result


def check_against_path(net, run, tolerance=1e-12):
    """Max relative gap between this forward pass and the policies in the run's path.csv."""
    path = os.path.join(run, "path.csv")
    if not os.path.exists(path):
        raise SystemExit(f"compare.py: {path} is missing (did the run finish its diagnostics?)")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], np.array([[float(v) for v in r] for r in rows[1:]])
    col = {name: i for i, name in enumerate(header)}
    states = data[:, [col[name] for name in net.features]]
    policies = net(states)
    gap = max(float(np.max(np.abs(policies[t] - data[:, col[t]]) / np.maximum(1.0, np.abs(data[:, col[t]])))) for t in net.targets)
    if not gap <= tolerance:
        raise SystemExit(f"compare.py: the numpy forward pass differs from path.csv by {gap:.2e} (> {tolerance:g}); not trusting it")
    return gap, len(data)


# --- the models: what is compared ----------------------------------------------------------------------------------
def growth_quantities(net, states):
    p = net(states)
    c = net.calibration
    k = states[:, 0]
    z = states[:, 1] if states.shape[1] > 1 else np.ones_like(k)
    w = z * k ** c["alpha"] + (1 - c["delta"]) * k
    return {"s": p["s"], "C": (1 - p["s"]) * w}


def irbc_parameters(c):
    n = int(c.get("countries", 2))
    beta, zeta, delta = c["beta"], c["zeta"], c["delta"]
    a = (1 - beta * (1 - delta)) / (zeta * beta)
    lo, hi = c.get("gamma_low", 0.25), c.get("gamma_high", 1.0)
    gammas = np.array([lo if n == 1 else lo + (hi - lo) * j / (n - 1) for j in range(n)])
    taus = (a - delta) ** (1 / gammas)
    return n, delta, gammas, taus


def irbc_quantities(net, states):
    n, delta, gammas, taus = irbc_parameters(net.calibration)
    p = net(states)
    lam = p["lambda"]
    out = {"lambda": lam}
    for j in range(n):
        k_next = p[f"k_next[{j + 1}]"]
        out[f"k_next_{j + 1}"] = k_next
        out[f"c_{j + 1}"] = (lam / taus[j]) ** (-gammas[j])
        out[f"i_{j + 1}"] = k_next - (1 - delta) * states[:, j]
        if f"mu[{j + 1}]" in p:
            out[f"mu_{j + 1}"] = p[f"mu[{j + 1}]"]
    return out


def irbc_reference_quantities(ref, states, calibration):
    n, delta, gammas, taus = irbc_parameters(calibration)
    r = {k: np.asarray(v, float) for k, v in ref.policy(states).items()}
    for j in range(n):
        if f"c_{j + 1}" not in r:
            r[f"c_{j + 1}"] = (r["lambda"] / taus[j]) ** (-gammas[j])
        if f"i_{j + 1}" not in r:
            r[f"i_{j + 1}"] = r[f"k_next_{j + 1}"] - (1 - delta) * states[:, j]
    return r


def _err(d, r, scale=None):
    e = np.abs(d - r) / (np.abs(r) if scale is None else scale)
    return {"max": float(np.max(e)), "mean": float(np.mean(e))}


def growth_euler(net, states, nodes=10):
    """The DEQN policy's own relative Euler error 1 − (β E[C′^(−γ) R′])^(−1/γ)/C at these states (Gauss–Hermite 10, as
    `solve` evaluates): the report's statistic, but on the reference's samples instead of the network's own path."""
    c = net.calibration
    alpha, beta, delta, gamma = c["alpha"], c["beta"], c["delta"], c["gamma"]
    stochastic = states.shape[1] > 1
    k = states[:, 0]
    z = states[:, 1] if stochastic else np.ones_like(k)
    q = growth_quantities(net, states)
    k_next = q["s"] * (z * k ** alpha + (1 - delta) * k)
    if stochastic:
        x, w = np.polynomial.hermite.hermgauss(nodes)
        eps, weights = np.sqrt(2.0) * c["sigma"] * x, w / np.sqrt(np.pi)
    else:
        eps, weights = np.zeros(1), np.ones(1)
    expectation = np.zeros_like(k)
    for e, w in zip(eps, weights):
        zn = np.exp(c.get("rho", 0.0) * np.log(z) + e)
        nxt = np.column_stack([k_next, zn]) if stochastic else k_next[:, None]
        cn = growth_quantities(net, nxt)["C"]
        expectation += w * cn ** (-gamma) * (alpha * zn * k_next ** (alpha - 1) + 1 - delta)
    return 1 - (beta * expectation) ** (-1 / gamma) / q["C"]


def compare_growth(net, ref, states, args):
    d = growth_quantities(net, states)
    r = ref.policy(states)
    e = np.abs(growth_euler(net, states))
    return {"s": _err(d["s"], np.asarray(r["s"])), "C": _err(d["C"], np.asarray(r["C"])),
            "deqn_euler": {"max": float(e.max()), "mean": float(e.mean())}}


def compare_irbc(net, ref, states, args):
    n, delta, _, _ = irbc_parameters(net.calibration)
    d = irbc_quantities(net, states)
    r = irbc_reference_quantities(ref, states, net.calibration)
    out = {}
    for j in range(1, n + 1):
        k = states[:, j - 1]
        out[f"c_{j}"] = _err(d[f"c_{j}"], r[f"c_{j}"])
        out[f"i_{j}"] = _err(d[f"i_{j}"], r[f"i_{j}"], scale=delta * k)       # |ΔI| / (δ·k): in units of replacement investment
        out[f"k_next_{j}"] = _err(d[f"k_next_{j}"], r[f"k_next_{j}"])
    out["lambda"] = _err(d["lambda"], r["lambda"])
    if (net.model or "").endswith("irbc-irreversible") or any(k.startswith("mu_") for k in d):
        agree = []
        deqn_binds, ref_binds = [], []
        for j in range(1, n + 1):
            k = states[:, j - 1]
            # DEQN: the active side of the model's FB(I/k, w·μ/λ), w = 1 − β(1 − δ): the multiplier's side is the larger
            # where the constraint binds
            w = 1 - net.calibration["beta"] * (1 - delta)
            b_d = w * d[f"mu_{j}"] / d["lambda"] > d[f"i_{j}"] / k
            if f"mu_{j}" in r:
                b_r = w * r[f"mu_{j}"] / r["lambda"] > r[f"i_{j}"] / k
            else:
                b_r = r[f"i_{j}"] <= args.bind_tol * k
            deqn_binds.append(b_d)
            ref_binds.append(b_r)
            agree.append(b_d == b_r)
        agree = np.array(agree)
        out["binding"] = {
            "agree_pairs": float(agree.mean()), "agree_states": float(agree.all(axis=0).mean()),
            "deqn_binds_pairs": float(np.mean(deqn_binds)), "reference_binds_pairs": float(np.mean(ref_binds)),
        }
    return out


MODELS = {
    "ramsey": compare_growth, "growth-crra5": compare_growth,
    "irbc": compare_irbc, "irbc-irreversible": compare_irbc,
}


# --- references ----------------------------------------------------------------------------------------------------
def load_reference(model, calibration, directory, module_name=None):
    sys.path.insert(0, directory)
    candidates = [module_name] if module_name else [model.replace("-", "_"), FAMILY.get(model)]
    last = None
    for name in [c for c in candidates if c]:
        if not os.path.exists(os.path.join(directory, name + ".py")):
            last = f"no {name}.py in {directory}"
            continue
        module = importlib.import_module(name)
        if hasattr(module, "reference"):
            return module.reference(model, calibration), name
        if hasattr(module, "policy") and hasattr(module, "ergodic_sample"):
            expected = getattr(module, "CALIBRATION", None)
            if expected:
                for k, v in expected.items():
                    if k in calibration and abs(float(v) - calibration[k]) > 1e-12 * max(1.0, abs(float(v))):
                        raise SystemExit(f"compare.py: the run has {k} = {calibration[k]}, {name}.py is solved at {v}")
            return module, name
        last = f"{name}.py has neither reference(model, calibration) nor policy and ergodic_sample"
    raise SystemExit(f"compare.py: no reference for model '{model}' ({last})")


def box_sample(net, n, seed):
    """Uniform on the initial distributions' support: the network scales its inputs by exactly that box (--input-scaling box)."""
    rng = np.random.default_rng(seed)
    return net.offset + net.scale * rng.uniform(-1.0, 1.0, (n, len(net.offset)))


# --- reporting -----------------------------------------------------------------------------------------------------
def state_ranges(columns, states):
    return {name: [float(states[:, j].min()), float(states[:, j].max())] for j, name in enumerate(columns)}


def path_states(net, run):
    path = os.path.join(run, "path.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        header = next(csv.reader(f))
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[header.index(c) for c in net.features], ndmin=2)
    return data


def summary_of_run(run):
    path = os.path.join(run, "summary.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        s = json.load(f)
    return {"euler_errors": s.get("euler_errors"), "episodes": s.get("episodes"), "training_seconds": s.get("training_seconds"),
            "final_loss": s.get("final_loss"), "stop_message": s.get("stop_message")}


def markdown_line(model, run, sample, result):
    cells = [model, os.path.basename(os.path.normpath(run)), sample]
    for key, stats in result.items():
        if key == "binding":
            cells.append(f"binding agrees {100 * stats['agree_pairs']:.1f} % of pairs ({100 * stats['agree_states']:.1f} % of states)")
        elif key == "deqn_euler":
            cells.append(f"DEQN Euler error here max {stats['max']:.2e} mean {stats['mean']:.2e}")
        elif key.startswith(("k_next", "lambda")):
            continue
        else:
            cells.append(f"{key} max {stats['max']:.2e} mean {stats['mean']:.2e}")
    return "| " + " | ".join(cells) + " |"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("run", help="a run folder written by `solve`")
    ap.add_argument("--model", help="the model's name (default: the one the run folder names)")
    ap.add_argument("--json", help="where to write the numbers (default: <run>/compare.json)")
    ap.add_argument("--n", type=int, default=10_000, help="states in each sample (default 10,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reference-dir", default=os.path.join(HERE, "reference"))
    ap.add_argument("--reference", help="the reference module's name (default: by model)")
    ap.add_argument("--unchecked", action="store_true", help="compare a run without path.csv (its evaluation path failed): the forward pass goes unchecked")
    ap.add_argument("--bind-tol", type=float, default=1e-8, help="a reference without mu_j binds where I_j ≤ tol·k_j")
    args = ap.parse_args(argv)

    net = Network(args.run)
    model = args.model or net.model
    # "user-irbc" is the IRBC as a user writes it (three independent shocks); "irbc" the shipped one: one reference.
    kind = model[len("user-"):] if model.startswith("user-") else model
    if kind not in MODELS:
        raise SystemExit(f"compare.py: model '{model}' is not one compare.py knows ({', '.join(MODELS)}, and user-irbc, user-irbc-irreversible)")
    if net.model and net.model != model:
        raise SystemExit(f"compare.py: {args.run} is a solve of '{net.model}', not '{model}'")
    if os.path.exists(os.path.join(args.run, "path.csv")) or not args.unchecked:
        gap, rows = check_against_path(net, args.run)
    else:
        gap, rows = None, 0
        print(f"compare.py: {args.run} has no path.csv (the run's diagnostics did not finish): the forward pass is NOT checked", file=sys.stderr)
    ref, ref_name = load_reference(kind, net.calibration, args.reference_dir, args.reference)

    samples = {
        "ergodic": np.asarray(ref.ergodic_sample(args.n, args.seed), float),
        "box": box_sample(net, args.n, args.seed + 1),
    }
    result = {
        "model": model, "run": os.path.abspath(args.run), "reference": ref_name,
        "reference_method": ref.describe() if hasattr(ref, "describe") else None,
        "calibration": net.calibration, "forward_pass_vs_path_csv": {"max_relative_gap": gap, "rows": rows},
        "deqn_report": summary_of_run(args.run), "n": args.n, "seed": args.seed, "samples": {},
    }
    on_path = path_states(net, args.run)
    if model in ("ramsey", "growth-crra5") and on_path is not None:
        # this file's Euler error against the one solve wrote on its path: the same model, the same formula
        with open(os.path.join(args.run, "path.csv"), newline="") as f:
            header = next(csv.reader(f))
        written = np.loadtxt(os.path.join(args.run, "path.csv"), delimiter=",", skiprows=1, usecols=[header.index("error_euler")])
        result["euler_vs_path_csv"] = float(np.max(np.abs(growth_euler(net, on_path) - written)))
    result["state_ranges"] = {"deqn_path": state_ranges(net.features, on_path) if on_path is not None else None,
                              **{name: state_ranges(net.features, s) for name, s in samples.items()}}
    for name, states in samples.items():
        if states.shape[1] != len(net.features):
            raise SystemExit(f"compare.py: the {name} sample has {states.shape[1]} columns, the network takes {len(net.features)} ({', '.join(net.features)})")
        out = MODELS[kind](net, ref, states, args)
        result["samples"][name] = out
        print(markdown_line(model, args.run, name, out))
    target = args.json or os.path.join(args.run, "compare.json")
    with open(target, "w") as f:
        json.dump(result, f, indent=2)
    for name, ranges in result["state_ranges"].items():
        if ranges:
            print(f"{name:>8} states: " + ", ".join(f"{c} ∈ [{lo:.4g}, {hi:.4g}]" for c, (lo, hi) in ranges.items()), file=sys.stderr)
    if "euler_vs_path_csv" in result:
        print(f"Euler error computed here vs path.csv's error_euler: max gap {result['euler_vs_path_csv']:.1e}", file=sys.stderr)
    if gap is not None:
        print(f"forward pass vs path.csv: max relative gap {gap:.1e} over {rows} rows; numbers in {target}", file=sys.stderr)
    else:
        print(f"forward pass unchecked; numbers in {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
