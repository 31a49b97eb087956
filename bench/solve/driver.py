"""The solve benchmark: `deqn solve` against the same DEQN algorithm in PyTorch (bench/solve/torch_growth.py), and
Deqn alone on the models the peer does not implement.

Started by bench/solve/run (which installs the Debian packages first); see bench/solve/README.md. For each case it runs
Deqn on the case's config, then (for the growth cases) the PyTorch peer with the same settings (translated from the
settings Deqn resolved and wrote to its run folder), one after the other, and writes results/<date>.md and
results/<date>.csv; the run folders, logs and the peer's JSON lines go to results/<date>/. Deqn-only cases report the
training seconds until their targets are met and the final errors.
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON = "/usr/bin/python3"  # Debian's, with python3-torch; a pyenv python3 on PATH has no torch
TARGET = 1e-5                # policy max relative error on the grid that "solved" means for the δ = 1 cases (issue 11)
OUTPUT_SHARE_TARGET = 1e-3   # the output share against time iteration (see bench/solve/README.md for why not 1e-4)
GRID_POINTS = 30             # per state; Deqn's per-episode probe uses min(--eval-grid, 30), so both sides use 30
CASES = {
    "brock-mirman": "configs/solve-brock-mirman.yaml",
    "brock-mirman-stochastic": "configs/solve-brock-mirman-stochastic.yaml",
    "stochastic-growth": "configs/solve-stochastic-growth.yaml",
    "brock-mirman-labor": "configs/solve-brock-mirman-labor.yaml",
    "brock-mirman-labor-ceiling": "configs/solve-brock-mirman-labor-ceiling.yaml",
    "stochastic-growth-output-share": "configs/solve-stochastic-growth-output-share.yaml",
    "olg-analytic": "configs/solve-olg-analytic.yaml",
}
# The peer runs the workshop's algorithm, Adam alone, at the settings measured best for Adam alone (docs/solve-defaults.md,
# section 3: Deqn's recommendations before the Levenberg–Marquardt polish); Deqn's own Adam phase is shorter because its
# polish rounds follow. Everything else is translated from the settings Deqn resolved.
PEER_EPISODES = {"brock-mirman": 10_000, "brock-mirman-stochastic": 3_000, "stochastic-growth": 4_000}
# Where summary.json's policy comparison counts: the grid over the ergodic set, or, with more than three states (OLG),
# 10,000 states sampled from it.
COMPARED_ON = ("grid", "ergodic sample")
# Cases without a PyTorch peer (torch_growth.py implements the growth model with savings a share of resources only):
# Deqn alone, with its targets. "policy": the largest relative error of any policy against the closed form or reference
# on the grid over the reference's ergodic set — the seconds until it is first met come from history.csv;
# "residual": an equation's largest |residual| on the fresh 10,000-period evaluation path (summary.json, final only).
DEQN_ONLY = {
    "brock-mirman-labor": {"policy": 1e-4},
    "brock-mirman-labor-ceiling": {"policy": 1e-4, "residual": ("hours_ceiling", 1e-5)},
    "stochastic-growth-output-share": {"policy": OUTPUT_SHARE_TARGET},
    "olg-analytic": {"policy": 1e-3},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every case with its episodes divided by 10 (both tools)")
    ap.add_argument("--case", choices=list(CASES), action="append", help="run only this case (repeatable)")
    ap.add_argument("--out", default=str(HERE / "results"), help="folder for the reports (default bench/solve/results)")
    args = ap.parse_args()
    cases = args.case or list(CASES)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out).resolve()
    work = out / stamp
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()

    log("building deqn (Release) if needed...")
    subprocess.run([str(REPO / "deqn"), "models"], cwd=REPO, stdout=subprocess.DEVNULL, check=True)

    results = []
    for case in cases:
        results.append(run_case(case, args.quick, work))

    rows = csv_rows(results)
    csv_path, md_path = out / f"{stamp}.csv", out / f"{stamp}.md"
    write_csv(csv_path, rows)
    md = report(args, results, started, csv_path.name, work)
    md_path.write_text(md)
    print(md)
    log(f"wrote {md_path} and {csv_path.name} (run folders and logs in {work})")


# ---------------------------------------------------------------- one case

def run_case(case, quick, work):
    config_path = REPO / CASES[case]
    config = load_config(config_path)
    episodes = int(config.get("episodes", 1000))
    if quick:
        episodes = max(1, episodes // 10)

    deqn_dir = work / f"{case}-deqn"
    argv = ["./deqn", "solve", "--config", CASES[case], "--out", str(deqn_dir), "--quiet", "--threads", "1",
            "--eval-grid", str(GRID_POINTS)]
    if quick:
        argv += ["--episodes", str(episodes)]
    deqn = timed(argv, dict(os.environ), work / f"{case}-deqn.log", f"{case}: deqn")
    summary = json.loads((deqn_dir / "summary.json").read_text())
    history = read_history(deqn_dir / "history.csv")
    merged = read_flat_config(deqn_dir / "config.yaml")
    check_agrees(config, merged, case)
    deqn["command"] = " ".join(shlex.quote(a) for a in argv).replace(str(REPO) + "/", "")
    if case in DEQN_ONLY:
        return dict(case=case, config=CASES[case], quick=quick, episodes=episodes, closed_form=None,
                    targets=DEQN_ONLY[case], deqn=dict(timing=deqn, summary=summary, history=history, merged=merged,
                                                       folder=deqn_dir), pytorch=None)

    peer_episodes = PEER_EPISODES.get(case, episodes)
    peer_argv = peer_args(merged, summary, max(1, peer_episodes // 10) if quick else peer_episodes)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    jsonl = work / f"{case}-pytorch.jsonl"
    peer = timed([PYTHON, str(HERE / "torch_growth.py")] + peer_argv, env, jsonl, f"{case}: pytorch",
                 stderr_path=work / f"{case}-pytorch.log")
    peer["command"] = "/usr/bin/python3 bench/solve/torch_growth.py " + " ".join(shlex.quote(a) for a in peer_argv)
    lines = [json.loads(l) for l in jsonl.read_text().splitlines() if l.startswith("{")]
    peer_summary = next((l for l in lines if l.get("summary")), None)
    if peer_summary is None:
        sys.exit(f"{case}: the PyTorch peer wrote no summary line; see {jsonl}")
    peer_evals = [l for l in lines if not l.get("summary")]

    closed_form = summary.get("reference") == "closed form"
    return dict(case=case, config=CASES[case], quick=quick, episodes=episodes, closed_form=closed_form,
                deqn=dict(timing=deqn, summary=summary, history=history, merged=merged, folder=deqn_dir),
                pytorch=dict(timing=peer, summary=peer_summary, evals=peer_evals))


def peer_args(m, summary, episodes):
    """torch_growth.py options equal to the settings Deqn resolved (its run folder's config.yaml), for `episodes` episodes
    of Adam (the peer has no polish)."""
    def need(key, ok, what):
        if not ok(m.get(key)):
            sys.exit(f"the PyTorch peer cannot match {key} = {m.get(key)!r} ({what})")

    need("optimizer", lambda v: v == "adam", "it uses Adam")
    need("defaults", lambda v: v == "pytorch", "Adam at PyTorch's defaults")
    for key in ("beta1", "beta2", "epsilon", "weight-decay", "clip-value", "clip-norm", "cosine-epochs", "max-seconds",
                "target-loss", "target-euler", "target-policy-error"):
        need(key, lambda v: v is None, "not supported by the peer")
    need("epsilon-outside-sqrt", lambda v: v == "true", "PyTorch's ε is outside the root")
    need("schedule", lambda v: v in ("constant", "cosine"), "constant or cosine")
    need("min-lr", lambda v: float(v) == 0, "cosine to 0")
    need("warmup-epochs", lambda v: float(v) == 0, "no warm-up")
    need("quadrature", lambda v: v == "gauss-hermite", "Gauss–Hermite")
    need("init", lambda v: v == "glorot_uniform", "Glorot-uniform weights")
    need("bias-init", lambda v: v == "zeros", "zero biases")
    need("activation", lambda v: v in ("tanh", "relu", "swish"), "tanh, relu or swish, one for all layers")

    cal = dict(kv.split("=", 1) for kv in m["calibration"].split(";") if kv)
    deterministic = "z_low" not in cal
    trajectories, length = int(m["trajectories"]), int(m["episode-length"])
    batch = int(m["batch-size"]) or trajectories * length
    box = summary["grid_box"]
    argv = ["--alpha", cal["alpha"], "--beta", cal["beta"], "--delta", cal["delta"],
            "--k-range", f"{cal['k_low']},{cal['k_high']}"]
    if deterministic:
        argv += ["--deterministic"]
    else:
        argv += ["--rho", cal["rho"], "--sigma", cal["sigma"], "--z-range", f"{cal['z_low']},{cal['z_high']}"]
    argv += ["--nodes", m["nodes"], "--layers", m["layers"], "--activation", m["activation"], "--lr", m["lr"],
             "--schedule", m["schedule"], "--episodes", str(episodes), "--trajectories", str(trajectories),
             "--episode-length", str(length)]
    if m["redraw"] == "true":
        argv += ["--redraw"]
    argv += ["--epochs", m["epochs-per-episode"], "--batch", str(batch), "--seed", m["seed"], "--threads", "1",
             "--dtype", m["precision"], "--eval-every", m["log-every"],
             "--grid-k", ",".join(repr(float(x)) for x in box["K"]), "--grid-points", str(GRID_POINTS)]
    if not deterministic:
        argv += ["--grid-z", ",".join(repr(float(x)) for x in box["z"])]
    return argv


def check_agrees(config, merged, case):
    """The case's YAML and the settings Deqn resolved must agree (guards the translation and the YAML reader)."""
    for key, value in config.items():
        if key == "calibration":
            cal = dict(kv.split("=", 1) for kv in merged["calibration"].split(";") if kv)
            for k, v in value.items():
                if float(cal.get(k, "nan")) != float(v):
                    sys.exit(f"{case}: calibration {k} = {v} in the config but {cal.get(k)} in Deqn's run")
            continue
        if key == "episodes":
            continue  # --quick overrides it
        got = merged.get(key.replace("_", "-"))
        want = ",".join(str(x) for x in value) if isinstance(value, list) else value
        if isinstance(want, bool):
            want = str(want).lower()
        if got is None or (got != str(want) and not _same_number(got, want)):
            sys.exit(f"{case}: {key} = {want!r} in the config but {got!r} in Deqn's run folder")


def _same_number(a, b):
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- running and timing

def timed(argv, env, out_path, name, stderr_path=None):
    """Wall time of the whole process (start-up included), with the load average just before and after."""
    before = uptime_load()
    log(f"{name}: load average {before} before; " + " ".join(shlex.quote(a) for a in argv))
    t0 = time.perf_counter()
    with open(out_path, "w") as out:
        err = open(stderr_path, "w") if stderr_path else subprocess.STDOUT
        try:
            proc = subprocess.run(argv, env=env, cwd=REPO, stdout=out, stderr=err)
        finally:
            if stderr_path:
                err.close()
    wall = time.perf_counter() - t0
    after = uptime_load()
    if proc.returncode != 0:
        sys.stderr.write(Path(stderr_path or out_path).read_text()[-3000:])
        sys.exit(f"{name} failed with exit code {proc.returncode}")
    log(f"{name}: {wall:.1f} s wall")
    return {"wall_seconds": wall, "load_before": before, "load_after": after,
            "command": " ".join(shlex.quote(a) for a in argv)}


def uptime_load():
    """`uptime`'s load averages (1, 5, 15 min) as text."""
    text = cmd(["uptime"])
    m = re.search(r"load averages?:\s*(.*)$", text)
    return m.group(1).strip() if m else " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- reading

def load_config(path):
    """The case's YAML as one flat dict (sections only group keys), with `calibration` kept as its own dict."""
    text = path.read_text()
    try:
        import yaml
        data = yaml.safe_load(text) or {}
    except ImportError:
        data = parse_simple_yaml(text)
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "calibration":
            flat.update(value)
        else:
            flat[key] = value
    return flat


def parse_simple_yaml(text):
    """Enough YAML for the solve configs: `key: value`, one level of indented sections, `[a, b]` lists, comments."""
    data, section = {}, None
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        m = re.match(r"^(\s*)([\w-]+):\s*(.*)$", line)
        if not m:
            raise ValueError(f"cannot read YAML line {raw!r}")
        indent, key, value = m.groups()
        if not indent:
            section = None
            if value == "":
                section = data[key] = {}
                continue
            data[key] = scalar(value)
        elif section is not None:
            section[key] = scalar(value)
        else:
            raise ValueError(f"indented line outside a section: {raw!r}")
    return data


def scalar(text):
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [scalar(x) for x in text[1:-1].split(",") if x.strip()]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if text in ("~", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_flat_config(path):
    """The `key: 'value'` lines of the config.yaml Deqn writes into its run folder (~ is None)."""
    conf = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([\w-]+):\s*(.*?)\s*(#.*)?$", line)
        if m:
            v = m.group(2)
            conf[m.group(1)] = None if v == "~" else v.strip("'\"")
    return conf


def read_history(path):
    with open(path) as f:
        return [{k: (float(v) if v not in ("", None) else math.nan) for k, v in r.items()} for r in csv.DictReader(f)]


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


# ---------------------------------------------------------------- numbers

def deqn_numbers(r, target=TARGET):
    d = r["deqn"]
    s, h = d["summary"], d["history"]
    grids = [p for p in s.get("policy_errors", []) if p["where"] in COMPARED_ON]
    paths = [p for p in s.get("policy_errors", []) if p["where"] == "path"]
    hit = next((row for row in h if row.get("policy_max_rel_error", math.nan) <= target), None)
    steps = s["steps"]
    # Over all policies: the worst policy's mean and max (one policy in the growth cases).
    worst = lambda rows, key: max((p[key] for p in rows), default=None)
    return dict(episodes=s["episodes"], steps=steps, training_seconds=s["training_seconds"],
                seconds_per_step=s["training_seconds"] / steps if steps else math.nan,
                wall_seconds=d["timing"]["wall_seconds"],
                episode_to_target=int(hit["episode"]) if hit else None, seconds_to_target=hit["seconds"] if hit else None,
                policy_mean_grid=worst(grids, "mean"), policy_max_grid=worst(grids, "max"),
                policy_mean_path=worst(paths, "mean"), policy_max_path=worst(paths, "max"),
                euler_mean_path=s["euler_errors"]["euler"]["mean"], euler_max_path=s["euler_errors"]["euler"]["max"],
                ree_mean_grid=None, ree_max_grid=None)


def deqn_only_numbers(r):
    """A Deqn-only case: the common numbers, each policy's grid errors, each equation's path maximum, the targets."""
    targets, s = r["targets"], r["deqn"]["summary"]
    n = deqn_numbers(r, targets["policy"])
    # The first hit can be a passing dip (the error still swings until the learning rate has decayed): also the first
    # logged episode from which every later one stays at or below the target.
    h = r["deqn"]["history"]
    stays = next((i for i in range(len(h)) if all(row.get("policy_max_rel_error", math.nan) <= targets["policy"] for row in h[i:])), None)
    n["episode_to_stay"] = int(h[stays]["episode"]) if stays is not None else None
    n["seconds_to_stay"] = h[stays]["seconds"] if stays is not None else None
    n["policy_grid"] = [(p["policy"], p["mean"], p["max"]) for p in s["policy_errors"] if p["where"] in COMPARED_ON]
    n["residual_max_path"] = [(name, e["max"]) for name, e in s["euler_errors"].items()]
    met = {"policy": n["policy_max_grid"] is not None and n["policy_max_grid"] <= targets["policy"]}
    if "residual" in targets:
        name, bound = targets["residual"]
        met["residual"] = s["euler_errors"][name]["max"] <= bound
    n["targets_met"] = met
    return n


def peer_numbers(r):
    p = r["pytorch"]
    s, evals = p["summary"], p["evals"]
    hit = next((e for e in evals if e.get("policy_max_rel_err") is not None and e["policy_max_rel_err"] <= TARGET), None)
    f = s["final"]
    return dict(episodes=s["episodes"], steps=s["steps"], training_seconds=s["train_seconds"],
                seconds_per_step=s["seconds_per_step"], wall_seconds=p["timing"]["wall_seconds"],
                episode_to_target=hit["episode"] if hit else None, seconds_to_target=hit["seconds"] if hit else None,
                policy_mean_grid=f["policy_mean_rel_err"], policy_max_grid=f["policy_max_rel_err"],
                policy_mean_path=None, policy_max_path=None, euler_mean_path=None, euler_max_path=None,
                ree_mean_grid=f["ree_mean"], ree_max_grid=f["ree_max"])


def targets_text(targets):
    text = f"policy max rel. error (grid) ≤ {targets['policy']:g}"
    if "residual" in targets:
        text += f"; {targets['residual'][0]} max abs. residual (path) ≤ {targets['residual'][1]:g}"
    return text


def csv_rows(results):
    rows = []
    for r in results:
        if r["pytorch"] is None:
            n = deqn_only_numbers(r)
            extra = dict(targets=targets_text(r["targets"]), targets_met=all(n["targets_met"].values()),
                         episode_to_stay=n["episode_to_stay"] or "", seconds_to_stay=n["seconds_to_stay"] or "",
                         policy_grid=";".join(f"{p}={mean:.3e}/{mx:.3e}" for p, mean, mx in n["policy_grid"]),
                         residual_max_path=";".join(f"{e}={mx:.3e}" for e, mx in n["residual_max_path"]))
            tools = (("deqn", {k: v for k, v in n.items() if k not in ("policy_grid", "residual_max_path", "targets_met",
                                                                      "episode_to_stay", "seconds_to_stay")}, extra),)
            target = r["targets"]["policy"]
        else:
            blank = dict(targets="", targets_met="", episode_to_stay="", seconds_to_stay="", policy_grid="", residual_max_path="")
            tools = (("deqn", deqn_numbers(r), blank), ("pytorch", peer_numbers(r), blank))
            target = TARGET
        for tool, numbers, extra in tools:
            t = r[tool]["timing"]
            rows.append(dict(case=r["case"], tool=tool, quick=r["quick"], load_before=t["load_before"],
                             load_after=t["load_after"], grid_points_per_state=GRID_POINTS, target=target,
                             **{k: "" if v is None else v for k, v in numbers.items()}, **extra))
    return rows


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b not in (None, 0) else "—"


def time_ratio(peer, deqn):
    """PyTorch ÷ Deqn seconds to the target; a lower bound (the peer's whole training) when the peer never reached it."""
    if deqn["seconds_to_target"] in (None, 0):
        return "—"
    if peer["seconds_to_target"] is None:
        return f"> {peer['training_seconds'] / deqn['seconds_to_target']:.1f}"
    return ratio(peer["seconds_to_target"], deqn["seconds_to_target"])


def g(x, digits=3):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def secs(x):
    return "—" if x is None else f"{x:.2f}"


def log_spaced(history, k=10):
    """About k rows of the history at log-spaced episodes (the nearest logged episode to each), first and last kept."""
    if not history:
        return []
    last = history[-1]["episode"]
    picks = []
    for i in range(k):
        target = last ** (i / (k - 1)) if last > 1 else 1
        row = min(history, key=lambda r: abs(math.log(r["episode"]) - math.log(target)))
        if row not in picks:
            picks.append(row)
    return picks


# ---------------------------------------------------------------- report

def report(args, results, started, csv_name, work):
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    md = [f"# deqn solve against PyTorch — {datetime.datetime.now():%Y-%m-%d %H:%M}"
          + (" (--quick: episodes ÷ 10, not for citing)" if args.quick else ""), "",
          f"Command: `bench/solve/run{(' ' + argv) if argv else ''}`  (rows: `{csv_name}`; run folders, logs and the "
          f"peer's JSON lines: `{work.relative_to(REPO) if work.is_relative_to(REPO) else work}/`)", "",
          "## Machine", ""] + machine_lines(results, started) + [""]

    md += ["## Setup", "",
           "Each case runs Deqn on its config (Adam episodes, then Levenberg–Marquardt polish rounds), then the PyTorch "
           "peer (`bench/solve/torch_growth.py`: the workshop's algorithm, Adam alone) at the Adam settings measured "
           "best for Adam alone (docs/solve-defaults.md, section 3: "
           + ", ".join(f"{c} {e:,} episodes" for c, e in PEER_EPISODES.items()) + ") and otherwise the same "
           "settings, read from the config Deqn resolved into its run folder: network, swish = SiLU, Glorot-uniform "
           "weights, zero biases, float64, Adam at PyTorch's defaults with the same lr and schedule (cosine: episode e "
           "of E trains at lr·(1 + cos(π·(e−1)/E))/2), trajectories, episode length, redraw, batch "
           "size, epochs per episode, Gauss–Hermite nodes and calibration; one thread each. The tools run one after the "
           "other, never at the same time. Both measure the policy against the closed form on the same grid: "
           f"{GRID_POINTS} points per state over Deqn's `grid_box` (the ergodic set of the closed-form path; the "
           "initial K range when deterministic), every `log_every` episodes (evaluation time not counted as training).",
           ""]
    for r in results:
        md += [f"- **{r['case']}** (`{r['config']}`, {r['episodes']} episodes)",
               f"  - Deqn: `{r['deqn']['timing']['command']}`"]
        md += [f"  - PyTorch: `{r['pytorch']['timing']['command']}`"] if r["pytorch"] else ["  - PyTorch: no peer for this model"]
    md.append("")

    closed = [r for r in results if r["closed_form"] is True]
    if closed:
        md += ["## δ = 1: time to the closed form", "",
               f"Training seconds until the policy's max relative error on the grid is ≤ {TARGET:g} (first logged "
               "episode at or below it), the errors at the end of the run, and the whole run's training time. "
               "Ratio: PyTorch ÷ Deqn (above 1: Deqn is faster, or in the error columns more accurate); when the peer "
               "never reaches the target, its whole training time over Deqn's time to it, a lower bound (\"> x\"). "
               "Deqn's rows after its last Adam episode are Levenberg–Marquardt rounds, one logged row each.", "",
               f"| case | tool | load avg before (1, 5, 15 min) | s to ≤ {TARGET:g} (episode) | final mean rel. error | "
               "final max rel. error | training s | steps | ms / step | wall s |",
               "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in closed:
            d, p = deqn_numbers(r), peer_numbers(r)
            for label, n, t in (("Deqn", d, r["deqn"]["timing"]), ("PyTorch", p, r["pytorch"]["timing"])):
                hit = f"{secs(n['seconds_to_target'])} ({n['episode_to_target']})" if n["seconds_to_target"] is not None \
                    else "not reached"
                md.append(f"| {r['case']} | {label} | {t['load_before']} | {hit} | {g(n['policy_mean_grid'])} | "
                          f"{g(n['policy_max_grid'])} | {n['training_seconds']:.2f} | {n['steps']} | "
                          f"{1000 * n['seconds_per_step']:.3f} | {n['wall_seconds']:.1f} |")
            md.append(f"| {r['case']} | **PyTorch ÷ Deqn** | | **{time_ratio(p, d)}** | "
                      f"{ratio(p['policy_mean_grid'], d['policy_mean_grid'])} | {ratio(p['policy_max_grid'], d['policy_max_grid'])} | "
                      f"**{ratio(p['training_seconds'], d['training_seconds'])}** | | "
                      f"**{ratio(p['seconds_per_step'], d['seconds_per_step'])}** | {ratio(p['wall_seconds'], d['wall_seconds'])} |")
        md.append("")
        for r in closed:
            evals = {e["episode"]: e for e in r["pytorch"]["evals"]}
            md += [f"### How the error falls with episodes: {r['case']}", "",
                   "Deqn's history.csv at about 10 log-spaced logged episodes (seconds: training time so far), with "
                   "PyTorch's evaluation at the same episode where it has one.", "",
                   "| episode | Deqn s | Deqn mean rel. error | Deqn max rel. error | PyTorch s | PyTorch mean rel. error | "
                   "PyTorch max rel. error |", "|---:|---:|---:|---:|---:|---:|---:|"]
            for row in log_spaced(r["deqn"]["history"]):
                e = evals.get(int(row["episode"]))
                peer = (f"{e['seconds']:.2f} | {g(e['policy_mean_rel_err'])} | {g(e['policy_max_rel_err'])}" if e
                        else "— | — | —")
                md.append(f"| {int(row['episode'])} | {row['seconds']:.2f} | {g(row.get('policy_mean_rel_error_s'))} | "
                          f"{g(row.get('policy_max_rel_error'))} | {peer} |")
            md.append("")

    for r in (x for x in results if x["closed_form"] is False):
        d, p = deqn_numbers(r), peer_numbers(r)
        ref = r["deqn"]["summary"].get("reference") or "no reference"
        md += [f"## {r['case']}: no closed form", "",
               f"Speed: the whole run's training time. Accuracy, Deqn: relative Euler errors on its fresh 10,000-period "
               f"path (10 Gauss–Hermite nodes) and the policy against {ref} on a {GRID_POINTS}-per-state grid over the "
               "reference's ergodic set and on the path; PyTorch: |relative Euler error| on the same grid (5 nodes).", "",
               "| tool | load avg before (1, 5, 15 min) | training s | steps | ms / step | wall s | Euler error on path "
               "(mean / max) | policy vs reference, grid (mean / max) | policy vs reference, path (mean / max) | "
               "Euler error on grid (mean / max) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        md.append(f"| Deqn | {r['deqn']['timing']['load_before']} | {d['training_seconds']:.2f} | {d['steps']} | "
                  f"{1000 * d['seconds_per_step']:.3f} | {d['wall_seconds']:.1f} | {g(d['euler_mean_path'])} / "
                  f"{g(d['euler_max_path'])} | {g(d['policy_mean_grid'])} / {g(d['policy_max_grid'])} | "
                  f"{g(d['policy_mean_path'])} / {g(d['policy_max_path'])} | — |")
        md.append(f"| PyTorch | {r['pytorch']['timing']['load_before']} | {p['training_seconds']:.2f} | {p['steps']} | "
                  f"{1000 * p['seconds_per_step']:.3f} | {p['wall_seconds']:.1f} | — | — | — | "
                  f"{g(p['ree_mean_grid'])} / {g(p['ree_max_grid'])} |")
        md += ["", f"**Seconds per step, PyTorch ÷ Deqn: {ratio(p['seconds_per_step'], d['seconds_per_step'])}** "
               f"(training seconds: {ratio(p['training_seconds'], d['training_seconds'])}).", ""]

    alone = [r for r in results if r["pytorch"] is None]
    if alone:
        md += ["## Deqn only: models without a PyTorch peer", "",
               "Training seconds until the largest relative error of any policy against the closed form or reference, on "
               f"the {GRID_POINTS}-per-state grid over the reference's ergodic set, is first at or below the target "
               "(history.csv, every `log_every` episodes), and from when on it stays there; each policy's mean / max "
               "error on that grid after the last "
               "episode; each equation's largest |residual| on the fresh 10,000-period path (10 Gauss–Hermite nodes); "
               "whether every target is met at the end.", "",
               "| case | load avg before (1, 5, 15 min) | targets | s to policy target (episode) | s until it stays there "
               "(episode) | policy vs reference, grid (mean / max) | max \\|residual\\| on path | targets met | training s | "
               "steps | ms / step | wall s |",
               "|---|---|---|---:|---:|---|---|---|---:|---:|---:|---:|"]
        for r in alone:
            n = deqn_only_numbers(r)
            hit = (f"{secs(n['seconds_to_target'])} ({n['episode_to_target']})" if n["seconds_to_target"] is not None
                   else "not reached")
            stay = (f"{secs(n['seconds_to_stay'])} ({n['episode_to_stay']})" if n["seconds_to_stay"] is not None
                    else "not reached")
            policies = "; ".join(f"{p} {g(mean)} / {g(mx)}" for p, mean, mx in n["policy_grid"])
            residuals = "; ".join(f"{e} {g(mx)}" for e, mx in n["residual_max_path"])
            met = ", ".join(f"{k} {'yes' if v else '**no**'}" for k, v in n["targets_met"].items())
            md.append(f"| {r['case']} | {r['deqn']['timing']['load_before']} | {targets_text(r['targets'])} | {hit} | {stay} | "
                      f"{policies} | {residuals} | {met} | {n['training_seconds']:.2f} | {n['steps']} | "
                      f"{1000 * n['seconds_per_step']:.3f} | {n['wall_seconds']:.1f} |")
        md.append("")
        for r in alone:
            names = [q["policy"] for q in r["deqn"]["summary"]["policy_errors"] if q["where"] in COMPARED_ON]
            md += [f"### How the error falls with episodes: {r['case']}", "",
                   "Deqn's history.csv at about 10 log-spaced logged episodes (seconds: training time so far; the largest "
                   "relative error of any policy on the grid, and each policy's mean).", "",
                   "| episode | s | max rel. error | " + " | ".join(f"mean rel. error {p}" for p in names) + " |",
                   "|---:|---:|---:|" + "---:|" * len(names)]
            for row in log_spaced(r["deqn"]["history"]):
                md.append(f"| {int(row['episode'])} | {row['seconds']:.2f} | {g(row.get('policy_max_rel_error'))} | "
                          + " | ".join(g(row.get(f"policy_mean_rel_error_{p}")) for p in names) + " |")
            md.append("")

    md += ["Wall s is the whole process: Deqn's includes .NET start-up, JIT, the reference solution (time iteration for "
           "stochastic-growth and stochastic-growth-output-share) and its diagnostics, plots and report after training; "
           "PyTorch's includes `import torch` and its grid evaluations. Training seconds exclude logging and evaluation "
           "on both sides.", ""]
    return "\n".join(md)


def machine_lines(results, started):
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    packages = (REPO / "Directory.Packages.props").read_text()
    ver = lambda name: (re.findall(rf'Include="{re.escape(name)}" Version="([^"]+)"', packages) or ["?"])[0]
    commit = cmd(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = cmd(["git", "-C", str(REPO), "status", "--porcelain", "--", "src", "Directory.Packages.props"])
    torch_info = cmd([PYTHON, "-c", "import json, torch, numpy\n"
                      "try:\n from threadpoolctl import threadpool_info; b = threadpool_info()\n"
                      "except ImportError: b = []\n"
                      "print(json.dumps({'torch': torch.__version__, 'numpy': numpy.__version__, 'blas': b}))"])
    try:
        info = json.loads(torch_info)
    except ValueError:
        info = {"torch": torch_info, "blas": []}
    lines = [
        f"- CPU: {cpu}; nproc {cmd(['nproc'])}",
        f"- OS: {platform.platform()}",
        f"- Benchmark wall time: {time.time() - started:.0f} s; load average at the end: {uptime_load()} "
        "(other people share this machine; above ~2 on 2 cores the timings are disturbed)",
        f"- Deqn: commit {commit}{' (with uncommitted changes under src/)' if dirty else ''}, .NET {cmd(['dotnet', '--version'])}, "
        f"TorchSharp {ver('TorchSharp')}, libtorch-cpu-linux-x64 {ver('libtorch-cpu-linux-x64')}; `--threads 1`",
        f"- PyTorch: {info.get('torch')} (Debian python3-torch), NumPy {info.get('numpy')}, {cmd([PYTHON, '--version'])}; "
        "`torch.set_num_threads(1)`, OMP/OPENBLAS/MKL_NUM_THREADS=1",
    ]
    for b in info.get("blas", []):
        parts = [b.get("user_api"), b.get("internal_api"), b.get("version"), b.get("threading_layer"),
                 b.get("architecture") and f"core type {b['architecture']}"]
        lines.append("  - thread pool loaded by `import torch` (threadpoolctl): "
                     + ", ".join(str(x) for x in parts if x) + f", `{b.get('filepath')}`")
    return lines


def cmd(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # informational only
        return f"({type(e).__name__}: {e})"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
