"""Runs the benchmark: starts one worker per runtime (C#, PyTorch, scikit-learn), warms every contender up, then times
interleaved rounds (every contender once per round, in a fresh random order) and writes results/<date>.md and .csv.

Started by bench/run (which installs and builds first); see bench/README.md. Only the standard library is used here;
the workers run one at a time (each waits on its stdin while another is timed), single-threaded each.
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import random
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DLL = BENCH / "Deqn.Bench" / "bin" / "Release" / "net10.0" / "Deqn.Bench.dll"
PYTHON = "/usr/bin/python3"  # Debian's, with python3-torch and python3-sklearn; a pyenv python3 on PATH has neither

SINGLE = ["trainer", "trainer+logs", "torchsharp", "pytorch", "sklearn"]
BREAKDOWN = ["trainer+csv", "trainer+tensorboard"]
WORKER_OF = {"trainer": "dotnet", "trainer+logs": "dotnet", "trainer+csv": "dotnet", "trainer+tensorboard": "dotnet", "torchsharp": "dotnet", "pytorch": "torch", "sklearn": "sklearn",
             "trainers-seq": "dotnet", "torchsharp-stacked": "dotnet", "ensemble": "dotnet"}
LABEL = {
    "trainer": "Deqn Trainer (no loggers)",
    "trainer+logs": "Deqn Trainer + CSV + TensorBoard",
    "trainer+csv": "Deqn Trainer + CSV only",
    "trainer+tensorboard": "Deqn Trainer + TensorBoard only",
    "torchsharp": "bare TorchSharp loop",
    "pytorch": "PyTorch",
    "sklearn": "scikit-learn MLPRegressor",
}
# Measured earlier on this kind of VM (it varies by ±20%), µs per step: (minibatch 32, full batch 500).
EARLIER = {"sklearn": (150, 410), "pytorch": (370, 690), "torchsharp": (340, 680)}
TARGET_RATIO = 1.10
N_POINTS = 500


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["single", "ensemble", "all"], default="all",
                    help="single: one network, all contenders; ensemble: the K-networks sweep; all: both (default)")
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds for the single-network part (default 15)")
    ap.add_argument("--ensemble-rounds", type=int, default=7, help="rounds for the K sweep (default 7)")
    ap.add_argument("--minibatch-epochs", type=int, default=60, help="epochs per timed block at batch 32 (16 steps each)")
    ap.add_argument("--full-epochs", type=int, default=500, help="epochs per timed block at full batch (1 step each)")
    ap.add_argument("--ks", default="1,4,16,64", help="K values of the ensemble sweep")
    ap.add_argument("--logger-breakdown", action="store_true",
                    help="also time the Trainer with the CSV logger alone and the TensorBoard logger alone")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 rounds, blocks a fifth as long")
    ap.add_argument("--out", default=str(BENCH / "results"), help="folder for <date>.md and <date>.csv")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.ensemble_rounds = 3, 2
        args.minibatch_epochs, args.full_epochs = max(1, args.minibatch_epochs // 5), max(1, args.full_epochs // 5)
    ks = [int(k) for k in args.ks.split(",")]

    out = Path(args.out)
    tmp = out / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    data = tmp / "data.csv"
    write_data(data)

    workers = start_workers(data, tmp, need_python=args.mode != "ensemble")
    started = time.time()
    try:
        infos = {name: w.ask("info") for name, w in workers.items()}
        cells = []  # (contender, batch, epochs)
        if args.mode in ("single", "all"):
            for batch, epochs in ((32, args.minibatch_epochs), (N_POINTS, args.full_epochs)):
                cells += [(c, batch, epochs) for c in single_contenders(args)]
        ens_cells = []
        if args.mode in ("ensemble", "all"):
            for k in ks:
                for batch, base in ((32, args.minibatch_epochs), (N_POINTS, args.full_epochs)):
                    epochs = max(1, round(base / k))  # about the same wall time per block whatever K
                    ens_cells += [(f"{kind}/{k}", batch, epochs) for kind in ("trainers-seq", "torchsharp-stacked", "ensemble")]

        status = {}  # cell -> None (fine) or "pending: ..." / "error: ..."
        log(f"warming up {len(cells) + len(ens_cells)} contenders")
        for cell in cells + ens_cells:
            name, batch, epochs = cell
            r = workers[worker_of(name)].ask(f"run {name} {batch} {max(1, epochs // 3)}")
            status[cell] = None if r.get("ok") else ("pending: " if r.get("pending") else "error: ") + r.get("error", "?")
            if status[cell]:
                log(f"  {name} batch {batch}: {status[cell]}")

        rows = []
        loads = [read_load()]
        for part, part_cells, rounds in (("single", cells, args.rounds), ("ensemble", ens_cells, args.ensemble_rounds)):
            live = [c for c in part_cells if status[c] is None]
            for rnd in range(rounds):
                order = live[:]
                random.Random(f"{part}-{rnd}").shuffle(order)
                for cell in order:
                    name, batch, epochs = cell
                    r = workers[worker_of(name)].ask(f"run {name} {batch} {epochs}")
                    if not r.get("ok"):
                        status[cell] = "error: " + r.get("error", "?")
                        continue
                    rows.append(dict(part=part, round=rnd, contender=name, batch=batch, epochs=epochs,
                                     networks=r["networks"], network_steps=r["network_steps"], seconds=r["seconds"],
                                     cpu_seconds=r["cpu_seconds"], wall_us=1e6 * r["seconds"] / r["network_steps"],
                                     cpu_us=1e6 * r["cpu_seconds"] / r["network_steps"]))
                loads.append(read_load())
                if live:
                    log(f"{part} round {rnd + 1}/{rounds} done ({time.time() - started:.0f} s)")
    finally:
        for w in workers.values():
            w.close()

    wall = time.time() - started
    csv_path, md_path = out / f"{stamp}.csv", out / f"{stamp}.md"
    with open(csv_path, "w", newline="") as f:
        fields = ["part", "round", "contender", "batch", "epochs", "networks", "network_steps", "seconds", "cpu_seconds",
                  "wall_us", "cpu_us"]
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    md = report(args, ks, rows, status, infos, loads, wall, csv_path.name)
    md_path.write_text(md)
    print(md)
    log(f"wrote {md_path} and {csv_path}")


def single_contenders(args):
    return SINGLE + (BREAKDOWN if args.logger_breakdown else [])


def worker_of(name):
    return WORKER_OF[name.split("/")[0]]


def write_data(path):
    """500 points uniform in [0, 1]^3, target sin(pi x) cos(pi y) sin(pi z); every worker reads the same file."""
    rng = random.Random(20240601)
    with open(path, "w") as f:
        f.write("x1,x2,x3,y\n")
        for _ in range(N_POINTS):
            x, y, z = rng.random(), rng.random(), rng.random()
            t = math.sin(math.pi * x) * math.cos(math.pi * y) * math.sin(math.pi * z)
            f.write(f"{x!r},{y!r},{z!r},{t!r}\n")


class Worker:
    def __init__(self, argv, env):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.argv[0]} ended (exit {self.proc.poll()}) on '{command}'")
        return json.loads(line)

    def close(self):
        try:
            self.ask("quit")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_workers(data, tmp, need_python):
    single = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    dotnet_env = dict(os.environ, **single, DOTNET_CLI_TELEMETRY_OPTOUT="1")
    # The peers' OpenBLAS only: a core type forced in this environment (for reproducible tests) would slow numpy and
    # PyTorch down; both variables are dropped for these two processes and nothing else.
    peer_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    peer_env.update(single)
    workers = {"dotnet": Worker(["dotnet", str(DLL), "serve", str(data), str(tmp / "logs")], dotnet_env)}
    if need_python:
        workers["torch"] = Worker([PYTHON, str(BENCH / "peers" / "torch_peer.py"), str(data)], peer_env)
        workers["sklearn"] = Worker([PYTHON, str(BENCH / "peers" / "sklearn_peer.py"), str(data)], peer_env)
    return workers


def read_load():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- report

def quartiles(xs):
    xs = sorted(xs)
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def by_cell(rows, part, metric):
    """(contender, batch) -> {round: µs per network-step}, metric "wall_us" or "cpu_us"."""
    cells = {}
    for r in rows:
        if r["part"] == part:
            cells.setdefault((r["contender"], r["batch"]), {})[r["round"]] = r[metric]
    return cells


def paired_ratio(cells, num, den, batch):
    a, b = cells.get((num, batch), {}), cells.get((den, batch), {})
    ratios = [a[r] / b[r] for r in a if r in b]
    return quartiles(ratios) if ratios else None


def fmt_cell(values):
    if not values:
        return "—"
    q1, med, q3 = quartiles(list(values.values()))
    return f"**{med:.0f}** ({q1:.0f}–{q3:.0f})"


def fmt_ratio(q):
    return "—" if q is None else f"**{q[1]:.3f}** ({q[0]:.3f}–{q[2]:.3f})"


def cmd(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:  # informational only
        return f"({type(e).__name__}: {e})"


def machine_lines(infos, loads, wall):
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    hyper = next((l.split(":", 1)[1].strip() for l in cmd(["lscpu"]).splitlines() if l.startswith("Hypervisor vendor")), "none")
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), "?")
    packages = Path(REPO / "Directory.Packages.props").read_text()
    ver = lambda name: (re.findall(rf'Include="{re.escape(name)}" Version="([^"]+)"', packages) or ["?"])[0]
    d = infos.get("dotnet", {})
    t = infos.get("torch", {})
    s = infos.get("sklearn", {})
    lines = [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores, hypervisor: {hyper}, memory {int(mem) // 1024 if mem.isdigit() else '?'} MiB",
        f"- OS: {d.get('os', platform.platform())}, kernel {platform.release()}",
        f"- Load average (1 min) sampled before and after each round: median {statistics.median(loads):.2f}, max {max(loads):.2f} "
        f"(other people share this machine; more than ~1 means the timings were disturbed)",
        f"- Bench wall time (after build): {wall:.0f} s",
        f"- C#: {d.get('dotnet', '?')}, TorchSharp {ver('TorchSharp')}, libtorch-cpu-linux-x64 {ver('libtorch-cpu-linux-x64')}, "
        f"torch threads {d.get('torch_threads', '?')} (interop {d.get('torch_interop_threads', '?')}), server GC {d.get('server_gc', '?')}",
    ]
    if t:
        lines.append(f"- Python: {cmd([PYTHON, '--version'])}, PyTorch {t.get('torch')} (BLAS_INFO={t.get('torch_blas_info')}), "
                     f"numpy {t.get('numpy')}, torch threads {t.get('torch_threads')}")
    if s:
        lines.append(f"- scikit-learn {s.get('sklearn')} (MLPRegressor trains in {s.get('sklearn_dtype')})")
    for name, info in (("PyTorch peer", t), ("scikit-learn peer", s)):
        for b in info.get("blas", []):
            if b.get("user_api") == "blas":
                lines.append(f"- BLAS in the {name} (threadpoolctl): {b.get('internal_api')} {b.get('version')}, "
                             f"{b.get('threading_layer')}, core type {b.get('architecture')}, {b.get('num_threads')} thread(s), "
                             f"`{b.get('filepath')}`")
    alt = cmd(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"])
    value = next((l.split(":", 1)[1].strip() for l in alt.splitlines() if l.startswith("Value:")), "?")
    lines.append(f"- System BLAS alternative (libblas.so.3-x86_64-linux-gnu): `{value}`")
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    lines.append("- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the environment: "
                 + ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in env.items())
                 + "; both are removed for the two Python peers only")
    return lines


def report(args, ks, rows, status, infos, loads, wall, csv_name):
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    md = [f"# Deqn benchmark — {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
          f"Command: `bench/run{(' ' + argv) if argv else ''}`  (raw rows: `{csv_name}`)", "",
          "## Machine", ""]
    md += machine_lines(infos, loads, wall)
    md += ["", "Problem: 3 → 64 → 64 → 1 tanh network, float32, 500 points in [0,1]³, target sin(πx)cos(πy)sin(πz), MSE, "
           "Adam (lr 1e-3, β 0.9/0.999, ε 1e-8 outside the square root), one thread per process. Minibatch 32 is 16 steps per "
           "epoch with a reshuffle per epoch (the last batch has 20 rows); full batch is one step per epoch.", ""]

    if args.mode in ("single", "all"):
        wall, cpu = by_cell(rows, "single", "wall_us"), by_cell(rows, "single", "cpu_us")
        md += ["## One network: µs per training step", "",
               f"Median over {args.rounds} interleaved rounds (interquartile range in brackets). A block is "
               f"{args.minibatch_epochs} epochs at batch 32 and {args.full_epochs} epochs at full batch; our Trainer runs "
               "one `Fit` per block. Wall time is what a user waits; CPU time is the worker process's own, which leaves out "
               "the time other processes on this shared machine took the core away.", "",
               "| contender | wall, minibatch 32 | wall, full batch 500 | CPU, minibatch 32 | CPU, full batch 500 | earlier reference (mb / full) |",
               "|---|---:|---:|---:|---:|---:|"]
        for c in single_contenders(args):
            note = next((s for (cc, b, _), s in status.items() if cc == c and s), None)
            ref = EARLIER.get(c)
            md.append(f"| {LABEL[c]} | {fmt_cell(wall.get((c, 32)))} | {fmt_cell(wall.get((c, N_POINTS)))} | "
                      f"{fmt_cell(cpu.get((c, 32)))} | {fmt_cell(cpu.get((c, N_POINTS)))} | "
                      f"{f'{ref[0]} / {ref[1]}' if ref else ''} |" + (f" {note}" if note else ""))
        md += ["", "Ratios, paired per round (median and interquartile range):", "",
               "| ratio | wall, minibatch 32 | wall, full batch 500 | CPU, minibatch 32 | CPU, full batch 500 |",
               "|---|---:|---:|---:|---:|"]
        for num, den, what in (("trainer", "torchsharp", f"Trainer / bare TorchSharp (target ≤ {TARGET_RATIO:.2f})"),
                               ("trainer+logs", "trainer", "Trainer + CSV + TensorBoard / Trainer (logging cost)"),
                               ("trainer+csv", "trainer", "Trainer + CSV / Trainer"),
                               ("trainer+tensorboard", "trainer", "Trainer + TensorBoard / Trainer"),
                               ("pytorch", "torchsharp", "PyTorch / bare TorchSharp"),
                               ("sklearn", "torchsharp", "scikit-learn / bare TorchSharp")):
            if num in BREAKDOWN and not args.logger_breakdown:
                continue
            md.append(f"| {what} | " + " | ".join(fmt_ratio(paired_ratio(m, num, den, b))
                                                   for m in (wall, cpu) for b in (32, N_POINTS)) + " |")
        verdicts = []
        for b, label in ((32, "minibatch 32"), (N_POINTS, "full batch")):
            qw, qc = paired_ratio(wall, "trainer", "torchsharp", b), paired_ratio(cpu, "trainer", "torchsharp", b)
            if qw and qc:
                ok = qw[1] <= TARGET_RATIO and qc[1] <= TARGET_RATIO
                verdicts.append(f"{label} {qw[1]:.3f} wall / {qc[1]:.3f} CPU → "
                                f"{'meets' if ok else 'MISSES'} the ≤ {TARGET_RATIO:.2f} target")
        md += ["", "Trainer over the bare loop: " + ("; ".join(verdicts) if verdicts else "not measured") + ".", ""]
        md += ["With loggers the Trainer also computes, at their defaults, one gradient norm per layer every epoch and weight and "
               "gradient histograms every 10 epochs; the CSV history is rewritten whole after every epoch, so its cost per step "
               "grows with the number of epochs per `Fit`.", ""]

    if args.mode in ("ensemble", "all"):
        md += ["## K networks together: µs per network-step", "",
               "`trainers-seq/K`: K `Trainer`s one after the other (what a user can do today). `torchsharp-stacked/K`: the "
               "bare TorchSharp baseline, weights stacked [K, in, out], one bmm per layer, one Adam, the same minibatch for "
               "all K. `ensemble/K`: Deqn.Training.Ensembles, one EnsembleTrainer fit of a NetworkStack, each member with its own "
               "shuffle as K separate runs would (so K different minibatches are gathered per step). Blocks are about as long "
               f"for every K (epochs divided by K). Median over {args.ensemble_rounds} rounds.", ""]
        pending = set()
        for metric, title in (("wall_us", "Wall time"), ("cpu_us", "CPU time")):
            ens = by_cell(rows, "ensemble", metric)
            md += [f"{title}:", "",
                   "| K | seq. Trainers mb32 | stacked TorchSharp mb32 | EnsembleTrainer mb32 | seq. Trainers full | stacked TorchSharp full | EnsembleTrainer full |",
                   "|---:|---:|---:|---:|---:|---:|---:|"]
            for k in ks:
                cols = []
                for b in (32, N_POINTS):
                    for kind in ("trainers-seq", "torchsharp-stacked", "ensemble"):
                        name = f"{kind}/{k}"
                        note = next((s for (c, bb, _), s in status.items() if c == name and bb == b and s), None)
                        if note:
                            pending.add(note)
                            cols.append("pending" if note.startswith("pending") else "error")
                        else:
                            cols.append(fmt_cell(ens.get((name, b))))
                md.append(f"| {k} | " + " | ".join(cols) + " |")
            md.append("")
        md += [f"- {p}" for p in sorted(pending)] + ([""] if pending else [])
    errors = sorted({f"{c} batch {b}: {s}" for (c, b, _), s in status.items() if s and s.startswith("error")})
    if errors:
        md += ["## Errors", ""] + [f"- {e}" for e in errors] + [""]
    return "\n".join(md)


if __name__ == "__main__":
    main()
