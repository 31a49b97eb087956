"""The approx benchmark: `deqn approx` against scikit-learn (L-BFGS, Adam) and PyTorch (Adam) on the same points.

Started by bench/approx/run (which installs the Python packages first); see bench/approx/README.md. Runs Deqn's study
(or reuses a run folder), then each peer tool in its own process on exactly the N points of every experiment, one tool
at a time, and writes results/<date>.md, <date>-experiments.csv and <date>-summary.csv. Standard library only here.
"""
import argparse
import math
import csv
import datetime
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON = "/usr/bin/python3"  # Debian's, with python3-torch and python3-sklearn; a pyenv python3 on PATH has neither
TOOLS = ["sklearn-lbfgs", "sklearn-adam", "pytorch"]
LABEL = {"deqn": "Deqn", "sklearn-lbfgs": "sklearn L-BFGS", "sklearn-adam": "sklearn Adam", "pytorch": "PyTorch Adam"}
QUICK_ARGS = {"--function": "poly1,trig1", "--n": "10,100", "--repeats": "1"}
TIMING_FILE = "bench-timing.json"  # written into Deqn's run folder, so --reuse can report its wall time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deqn-args", default="", help='extra options for `deqn approx`, e.g. "--optimizer lbfgs --batch-size 0"')
    ap.add_argument("--quick", action="store_true",
                    help="development run: " + " ".join(f"{k} {v}" for k, v in QUICK_ARGS.items()))
    ap.add_argument("--reuse", metavar="RUN_FOLDER", help="skip Deqn: score the peers on this earlier `deqn approx` run folder")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"peer tools to run (default {','.join(TOOLS)})")
    ap.add_argument("--out", default=str(HERE / "results"), help="folder for the reports (default bench/approx/results)")
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}; one of {', '.join(TOOLS)}")

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out)
    work = out / stamp
    work.mkdir(parents=True, exist_ok=True)
    loads = LoadSampler()
    loads.start()
    started = time.time()

    timings = {}
    if args.reuse:
        deqn_dir = Path(args.reuse).resolve()
        if not (deqn_dir / "results.csv").exists():
            sys.exit(f"{deqn_dir} has no results.csv: not a finished `deqn approx` run folder")
        tf = deqn_dir / TIMING_FILE
        timings["deqn"] = json.loads(tf.read_text()) if tf.exists() else {"note": f"not measured (no {TIMING_FILE})"}
        timings["deqn"]["reused"] = str(deqn_dir)
    else:
        deqn_dir = (work / "deqn").resolve()
        timings["deqn"] = run_deqn(args, deqn_dir, loads)
        timings["deqn"]["reused"] = None

    deqn_rows = read_csv(deqn_dir / "results.csv")
    config = read_config(deqn_dir / "config.yaml")
    workers = int(config.get("parallel") or os.cpu_count() or 1)
    experiments = manifest(deqn_dir, deqn_rows, args.quick)
    manifest_path = work / "manifest.json"
    manifest_path.write_text(json.dumps(experiments, indent=1))
    log(f"{len(experiments)} experiments (function × N × seed) from {deqn_dir}; peers use {workers} worker processes")

    peer_rows, infos = {}, {}
    for tool in tools:
        timings[tool], peer_rows[tool], infos[tool] = run_peer(tool, manifest_path, work, workers, loads)
    loads.stop()

    keep = {(e["function"], e["n"], e["seed"]) for e in experiments}
    all_rows = []
    for r in deqn_rows:
        if (r["function"], int(r["n"]), int(r["seed"])) in keep:
            tool = "deqn" if r["configuration"] == "default" else f"deqn [{r['configuration']}]"
            all_rows.append(dict(tool=tool, experiment=r["experiment"], function=r["function"], n=int(r["n"]),
                                 seed=int(r["seed"]), mean_abs_error=float(r["mean_abs_error"]),
                                 max_abs_error=float(r["max_abs_error"]), iterations=r["epochs"],
                                 seconds=float(r["seconds"])))
    for tool in tools:
        for r in peer_rows[tool]:
            all_rows.append(dict(tool=tool, experiment=r["experiment"], function=r["function"], n=int(r["n"]),
                                 seed=int(r["seed"]), mean_abs_error=float(r["mean_abs_error"]),
                                 max_abs_error=float(r["max_abs_error"]), iterations=r["iterations"],
                                 seconds=float(r["seconds"])))

    deqn_tools = sorted({r["tool"] for r in all_rows if r["tool"].startswith("deqn")}, key=lambda t: (t != "deqn", t))
    order = deqn_tools + tools
    functions = list(dict.fromkeys(e["function"] for e in experiments))
    sizes = sorted({e["n"] for e in experiments})
    summary = summarize(all_rows, order, functions, sizes)

    base = out / stamp
    exp_csv, sum_csv, md_path = Path(f"{base}-experiments.csv"), Path(f"{base}-summary.csv"), Path(f"{base}.md")
    write_csv(exp_csv, all_rows)
    write_csv(sum_csv, summary)
    md = report(args, all_rows, order, functions, sizes, summary, timings, infos, config, deqn_dir, workers, loads, started,
                len(experiments), exp_csv.name, sum_csv.name)
    md_path.write_text(md)
    print(md)
    log(f"wrote {md_path}, {exp_csv.name}, {sum_csv.name} (work files in {work})")


# ---------------------------------------------------------------- running the tools

def run_deqn(args, deqn_dir, loads):
    extra = shlex.split(args.deqn_args)
    quick = []
    if args.quick:
        for k, v in QUICK_ARGS.items():
            if k not in extra:  # an option given in --deqn-args wins over the quick subset
                quick += [k, v]
    # The launcher builds when a source changed; build first so the timed run is the study alone.
    log("building deqn (Release) if needed...")
    subprocess.run([str(REPO / "deqn"), "approx", "--help"], stdout=subprocess.DEVNULL, check=True)
    argv = [str(REPO / "deqn"), "approx", "--out", str(deqn_dir), "--quiet"] + quick + extra
    log("deqn: " + " ".join(shlex.quote(a) for a in argv))
    timing = timed(argv, dict(os.environ), "deqn", loads, deqn_dir.parent / "deqn.log", quiet=True)
    timing["command"] = " ".join(["./deqn"] + [shlex.quote(a) for a in argv[1:]])
    (deqn_dir / TIMING_FILE).write_text(json.dumps(timing, indent=1))
    return timing


def run_peer(tool, manifest_path, work, workers, loads):
    out_csv = work / f"{tool}.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    argv = [PYTHON, str(HERE / "peers.py"), tool, str(manifest_path), str(out_csv), str(workers)]
    log(f"{tool}: {workers} worker processes, one thread each")
    timing = timed(argv, env, tool, loads, work / f"{tool}.log")
    info = json.loads(Path(str(out_csv) + ".info.json").read_text())
    return timing, read_csv(out_csv), info


def timed(argv, env, name, loads, log_path, quiet=False):
    """Wall time from starting the process to its exit, and its CPU time (its children included)."""
    loads.tag = name
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(log_path, "w") as out:
        proc = subprocess.run(argv, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT if quiet else None)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    loads.tag = None
    if proc.returncode != 0:
        sys.stderr.write(Path(log_path).read_text()[-3000:])
        hint = ""
        if name == "deqn":
            folder = argv[argv.index("--out") + 1]
            hint = (f"; to finish it: ./deqn approx --resume {folder}, then bench/approx/run --reuse {folder} "
                    "(Deqn's wall time is then reported as not measured)")
        sys.exit(f"{name} failed with exit code {proc.returncode}{hint}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    log(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU")
    return {"wall_seconds": wall, "cpu_seconds": cpu, "load_during": loads.of(name)}


class LoadSampler(threading.Thread):
    """The 1-minute load average every 5 s, tagged with the tool running then (other people share this machine)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.tag, self._done = [], None, threading.Event()

    def run(self):
        while not self._done.is_set():
            self.samples.append((self.tag, read_load()))
            self._done.wait(5)

    def stop(self):
        self._done.set()
        self.join()

    def of(self, tag):
        xs = [v for t, v in self.samples if t == tag]
        return {"median": statistics.median(xs), "max": max(xs)} if xs else None


def read_load():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


# ---------------------------------------------------------------- data

def manifest(deqn_dir, rows, quick):
    """One entry per (function, N, seed): the points of the first configuration (all configurations share them)."""
    seen, out = {}, []
    fnums = {}
    for r in rows:
        m = re.fullmatch(r"c(\d+)-f(\d+)-n(\d+)-s(-?\d+)", r["experiment"])
        if not m:
            sys.exit(f"unexpected experiment id {r['experiment']!r} in results.csv")
        fnums[int(m.group(2))] = r["function"]
        key = (r["function"], int(r["n"]), int(r["seed"]))
        points = deqn_dir / "experiments" / r["experiment"] / "points.csv"
        if key in seen:
            if points.read_bytes() != Path(seen[key]).read_bytes():
                sys.exit(f"{points} differs from {seen[key]}: configurations do not share points; not supported")
            continue
        seen[key] = str(points)
        out.append(dict(id=f"f{m.group(2)}-n{m.group(3)}-s{m.group(4)}", function=r["function"], n=int(r["n"]),
                        seed=int(r["seed"]), points=str(points),
                        test=str(deqn_dir / "data" / f"test-f{m.group(2)}.csv")))
    if quick:
        first = sorted(fnums)[:2]
        names = {fnums[i] for i in first}
        seed0 = min(e["seed"] for e in out)
        sub = [e for e in out if e["function"] in names and e["n"] in (10, 100) and e["seed"] == seed0]
        out = sub or out
    return out


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def read_config(path):
    """The flat `key: 'value'` lines of Deqn's config.yaml (enough for parallel, normalization, optimizer...)."""
    conf = {}
    if path.exists():
        for line in path.read_text().splitlines():
            m = re.match(r"^([\w-]+):\s*(.*?)\s*(#.*)?$", line)
            if m:
                v = m.group(2)
                conf[m.group(1)] = None if v == "~" else v.strip("'\"")
    return conf


def summarize(rows, order, functions, sizes):
    out = []
    for f in functions:
        for n in sizes:
            for tool in order:
                rs = [r for r in rows if r["tool"] == tool and r["function"] == f and r["n"] == n]
                if rs:
                    out.append(dict(function=f, n=n, tool=tool, seeds=len(rs),
                                    mean_abs_error=statistics.mean(r["mean_abs_error"] for r in rs),
                                    max_abs_error=statistics.mean(r["max_abs_error"] for r in rs),
                                    seconds=statistics.mean(r["seconds"] for r in rs)))
    return out


# ---------------------------------------------------------------- report

def cmd(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:  # informational only
        return f"({type(e).__name__}: {e})"


def g(x):
    return f"{x:.3g}" if x >= 1e-3 else f"{x:.2e}"


def report(args, rows, order, functions, sizes, summary, timings, infos, config, deqn_dir, workers, loads, started, n_exp,
           exp_csv, sum_csv):
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    cell = {(s["function"], s["n"], s["tool"]): s for s in summary}
    peers = [t for t in order if not t.startswith("deqn")]
    label = lambda t: LABEL.get(t, t.replace("deqn", "Deqn"))
    md = [f"# deqn approx against scikit-learn and PyTorch — {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
          f"Command: `bench/approx/run{(' ' + argv) if argv else ''}`  (rows: `{exp_csv}`, `{sum_csv}`)", ""]
    d = timings["deqn"]
    if d.get("command") and not d.get("reused"):
        md += [f"Deqn command: `{d['command']}`", ""]
    if d.get("reused"):
        md += [f"Deqn run reused from `{d['reused']}`" + (f" (its run was timed: `{d['command']}`)" if d.get("command") else
                                                         " (its wall time was not measured)"), ""]
    md += ["## Machine", ""] + machine_lines(infos, loads, started) + [""]

    md += ["## Setup", "",
           f"{n_exp} experiments (function × N × seed). Every tool trains a 3 → 64 → 64 → 1 tanh network per experiment on "
           "the experiment's N points and is scored on the function's 1,000 shared test points (mean and max absolute error, "
           "original units, averaged over seeds). The peers train on **all N points** (Deqn's train and validation parts "
           "alike, as a user of those tools would); Deqn holds out its validation part for early stopping and restores the "
           "best epoch. Inputs and targets are standardized with scikit-learn's `StandardScaler` fitted on the N points; "
           "predictions are mapped back to original units before scoring. No weight penalty anywhere (scikit-learn's "
           "`alpha=0`, not its default 1e-4).", "",
           "| tool | settings |", "|---|---|",
           f"| Deqn | `deqn approx` with its defaults{' plus `' + args.deqn_args + '`' if args.deqn_args and not d.get('reused') else ''}: "
           f"optimizer {config.get('optimizer')}, lr {config.get('lr')}, batch size {config.get('batch-size')}, epochs ≤ "
           f"{config.get('epochs')}, early stopping patience {config.get('patience')} on a {config.get('validation-fraction')} "
           f"hold-out (none below {config.get('min-validation')} validation points), init {config.get('init')}, "
           f"normalize {config.get('normalize')}/{config.get('normalize-targets')}, {config.get('precision')}, "
           f"parallel {config.get('parallel')}, stack {config.get('stack')} |",
           "| sklearn L-BFGS | `MLPRegressor(hidden_layer_sizes=(64, 64), activation='tanh', solver='lbfgs', max_iter=5000, "
           "alpha=0, random_state=seed)`; default tol 1e-4 and max_fun 15,000; float64 (NumPy's default dtype) |",
           "| sklearn Adam | `MLPRegressor(..., solver='adam', learning_rate_init=1e-3, batch_size=N, max_iter=5000, tol=0, "
           "n_iter_no_change=10**9, early_stopping=False, alpha=0)`: 5,000 full-batch steps; float64 |",
           "| PyTorch Adam | `nn.Sequential(Linear(3,64), Tanh, Linear(64,64), Tanh, Linear(64,1))` with PyTorch's default "
           "initialization, `optim.Adam(lr=1e-3)`, MSE, 5,000 full-batch steps, float32, `torch.manual_seed(seed)`, "
           "`torch.set_num_threads(1)` |", "",
           f"Parallelism: each peer runs as one process with a pool of {workers} worker processes (Deqn's `--parallel`, read "
           "from its config.yaml), one thread each (`OMP/OPENBLAS/MKL_NUM_THREADS=1`, threadpoolctl, "
           "`torch.set_num_threads(1)`), largest N first. Tools run one after the other, never two at once.", ""]

    md += ["## Errors on the test points (mean over seeds)", "",
           "Each cell: mean abs error / max abs error. **Bold**: the lowest mean error of the row.", "",
           "| function | N | " + " | ".join(label(t) for t in order) + " | best |",
           "|---|---:|" + "---:|" * len(order) + "---|"]
    wins = {t: 0 for t in order}
    deqn_le_best_peer, cells = {t: 0 for t in order if t.startswith("deqn")}, 0
    log_ratios = {}
    for f in functions:
        for n in sizes:
            present = [t for t in order if (f, n, t) in cell]
            if not present:
                continue
            best = min(present, key=lambda t: cell[(f, n, t)]["mean_abs_error"])
            wins[best] += 1
            peer_best = min((cell[(f, n, t)]["mean_abs_error"] for t in peers if (f, n, t) in cell), default=None)
            if peer_best is not None:
                cells += 1
                peer_best_max = min(cell[(f, n, t)]["max_abs_error"] for t in peers if (f, n, t) in cell)
                for t in deqn_le_best_peer:
                    if (f, n, t) in cell and cell[(f, n, t)]["mean_abs_error"] <= peer_best:
                        deqn_le_best_peer[t] += 1
                    if (f, n, t) in cell and peer_best > 0 and peer_best_max > 0:
                        log_ratios.setdefault(t, []).append((math.log(cell[(f, n, t)]["mean_abs_error"] / peer_best),
                                                             math.log(cell[(f, n, t)]["max_abs_error"] / peer_best_max)))
            cols = []
            for t in order:
                s = cell.get((f, n, t))
                if not s:
                    cols.append("—")
                    continue
                text = f"{g(s['mean_abs_error'])} / {g(s['max_abs_error'])}"
                cols.append(f"**{text}**" if t == best else text)
            md.append(f"| {f} | {n} | " + " | ".join(cols) + f" | {label(best)} |")
    md += ["", "Cells where each tool has the lowest mean error: "
           + ", ".join(f"{label(t)} {wins[t]}" for t in order) + f" (of {sum(wins.values())}).", ""]
    for t, k in deqn_le_best_peer.items():
        md.append(f"**{label(t)}: mean error ≤ the best peer's in {k} of {cells} (function, N) cells.**")
        if log_ratios.get(t):
            lr = log_ratios[t]
            md.append(f"Geometric mean over cells of {label(t)} ÷ best peer: mean error "
                      f"{math.exp(sum(a for a, _ in lr) / len(lr)):.3f}, max error {math.exp(sum(b for _, b in lr) / len(lr)):.3f}.")
    md.append("")

    md += ["Mean over functions of the mean abs error, per N (a rough summary; functions differ in scale):", "",
           "| N | " + " | ".join(label(t) for t in order) + " |", "|---:|" + "---:|" * len(order)]
    for n in sizes:
        vals = []
        for t in order:
            xs = [cell[(f, n, t)]["mean_abs_error"] for f in functions if (f, n, t) in cell]
            vals.append(g(statistics.mean(xs)) if xs else "—")
        md.append(f"| {n} | " + " | ".join(vals) + " |")
    md.append("")

    md += ["## Wall time", "",
           "Whole process, from its start to all experiments done (start-up, imports and JIT included; Deqn's build is "
           "not: it is built before the timed run). CPU time is the process's and its children's; on this shared "
           "machine it leaves out time other people's processes held the cores.", "",
           "| tool | wall (s) | CPU (s) | load avg during (median / max) | mean fit time per experiment (s) | "
           "iterations per fit (median, max) |",
           "|---|---:|---:|---:|---:|---:|"]
    for t in ["deqn"] + peers:
        tm = timings.get(t, {})
        fits = [s["seconds"] for s in summary if s["tool"] == t]
        fit = f"{statistics.mean(fits):.2f}" if fits else "—"
        its = [int(r["iterations"]) for r in rows if r["tool"] == t]
        fit += f" | {statistics.median(its):.0f}, {max(its)}" if its else " | —"
        if "wall_seconds" in tm:
            ld = tm.get("load_during")
            load = f"{ld['median']:.2f} / {ld['max']:.2f}" if ld else "—"
            md.append(f"| {label(t)} | **{tm['wall_seconds']:.1f}** | {tm['cpu_seconds']:.1f} | {load} | {fit} |")
        else:
            md.append(f"| {label(t)} | {tm.get('note', 'not measured')} | — | — | {fit} |")
    md += ["", "Deqn's per-experiment time is the time of its training job; experiments trained together as one stacked "
           "model (`mode` = stacked in its results.csv) share one job's time. Iterations: Deqn's epochs (early stopping "
           "ends most fits before the limit), L-BFGS iterations (5,000 = stopped by max_iter, not by tol), Adam steps.", ""]
    return "\n".join(md)


def machine_lines(infos, loads, started):
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), "?")
    packages = (REPO / "Directory.Packages.props").read_text()
    ver = lambda name: (re.findall(rf'Include="{re.escape(name)}" Version="([^"]+)"', packages) or ["?"])[0]
    all_loads = [v for _, v in loads.samples]
    lines = [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, memory {int(mem) // 1024 if mem.isdigit() else '?'} MiB",
        f"- OS: {platform.platform()}",
        f"- Load average (1 min), sampled every 5 s over the whole run: median {statistics.median(all_loads):.2f}, "
        f"max {max(all_loads):.2f} (other people share this machine; above ~2 the wall times are disturbed)",
        f"- Benchmark wall time: {time.time() - started:.0f} s",
        f"- Deqn: commit {cmd(['git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD'])}, .NET {cmd(['dotnet', '--version'])}, "
        f"TorchSharp {ver('TorchSharp')}, libtorch-cpu-linux-x64 {ver('libtorch-cpu-linux-x64')}",
        f"- Python: {cmd([PYTHON, '--version'])}",
    ]
    for tool, info in infos.items():
        what = (f"PyTorch {info.get('torch')} (BLAS_INFO={info.get('torch_blas_info')}, {info.get('torch_threads')} thread)"
                if tool == "pytorch" else f"scikit-learn {info.get('sklearn')}")
        lines.append(f"- {LABEL[tool]}: {what}, NumPy {info.get('numpy')}, {info.get('workers')} worker processes")
        for b in info.get("blas", []):
            lines.append(f"  - in a worker (threadpoolctl): {b.get('user_api')} {b.get('internal_api')} {b.get('version')}, "
                         f"{b.get('threading_layer')}, core type {b.get('architecture')}, {b.get('num_threads')} thread(s), "
                         f"`{b.get('filepath')}`")
    alt = cmd(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"])
    value = next((l.split(":", 1)[1].strip() for l in alt.splitlines() if l.startswith("Value:")), "?")
    lines.append(f"- System BLAS alternative (libblas.so.3-x86_64-linux-gnu): `{value}`")
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    lines.append("- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the environment: "
                 + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in env.items())
                 + "; both are removed, together, for the peer processes only (Deqn keeps the environment as it is)")
    return lines


def log(msg):
    print(msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
