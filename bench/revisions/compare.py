#!/usr/bin/env python3
"""Times the same deqn commands on two builds, interleaved in rounds, so both see the same machine load.

Used to show what a change costs per step: `bench/revisions/run <base revision>` builds that revision of the
repository into a temporary clone and compares it with the working tree's build. Every case runs once per round on
each build, in a random order; the report gives each build's median and the paired ratio (new / base) per case.
"""
import argparse, csv, json, os, random, statistics, subprocess, sys, tempfile, time
from pathlib import Path

# Each case: a name, the deqn arguments, and how to read its training time from the run folder.
CASES = {
    # DEQN, deterministic: one step per episode on 64 fresh states (the shipped settings), no probe.
    "solve brock-mirman": (["solve", "brock-mirman", "--episodes", "3000", "--track-reference", "false", "--eval-periods", "100"], "solve"),
    # DEQN, stochastic: 10 steps per episode, Gauss-Hermite expectations, no probe.
    "solve brock-mirman-stochastic": (["solve", "brock-mirman-stochastic", "--episodes", "300", "--track-reference", "false", "--eval-periods", "100"], "solve"),
    # Stacked Adam minibatch training: 8 experiments per stack, early stopping on a validation split.
    "approx stacked adam": (["approx", "--function", "poly1,trig1", "--n", "100", "--repeats", "4", "--optimizer", "adam", "--lr", "0.001",
                              "--batch-size", "16", "--epochs", "150", "--validation-fraction", "0.2", "--parallel", "1"], "approx"),
    # Stacked full-batch L-BFGS: the default study's training for two functions.
    "approx stacked lbfgs": (["approx", "--function", "poly1,trig1", "--n", "50,100", "--repeats", "3", "--parallel", "1"], "approx"),
    # One network, minibatch Adam through the supervised workload.
    "approx single adam": (["approx", "--function", "trig1", "--n", "200", "--repeats", "1", "--optimizer", "adam", "--lr", "0.001",
                             "--batch-size", "16", "--epochs", "100", "--stack", "false", "--parallel", "1"], "approx"),
    # Eight single networks in one process: the per-process start-up (JIT) is paid once, as in a real study.
    "approx single adam x8": (["approx", "--function", "trig1", "--n", "200", "--repeats", "8", "--optimizer", "adam", "--lr", "0.001",
                                "--batch-size", "16", "--epochs", "100", "--early-stopping", "false", "--stack", "false", "--parallel", "1"], "approx"),
}


def training_seconds(kind, folder):
    if kind == "solve":
        return json.loads((folder / "summary.json").read_text())["training_seconds"]
    with open(folder / "results.csv") as f:
        return sum(float(r["seconds"]) for r in csv.DictReader(f))


def run(dll, args, folder):
    cmd = ["dotnet", str(dll)] + args + ["--out", str(folder), "--threads", "1", "--quiet"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base", required=True, help="deqn.dll of the base build")
    p.add_argument("--new", required=True, help="deqn.dll of the new build")
    p.add_argument("--base-label", default="base")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    p.add_argument("--out", default=None, help="write the report here as well")
    a = p.parse_args()
    cases = a.case or list(CASES)
    times = {(c, b): [] for c in cases for b in ("base", "new")}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            order = [(c, b) for c in cases for b in ("base", "new")]
            random.shuffle(order)
            loads.append(os.getloadavg()[0])
            for i, (c, b) in enumerate(order):
                args, kind = CASES[c]
                folder = Path(tmp) / f"r{r}-{i}"
                run(a.base if b == "base" else a.new, args, folder)
                times[(c, b)].append(training_seconds(kind, folder))
            print(f"round {r + 1}/{a.rounds} done (load {loads[-1]:.2f})", file=sys.stderr)
    header = f"| case | {a.base_label} (s, median) | new (s, median) | new / {a.base_label} (median of paired ratios) |"
    footer = f"{a.rounds} interleaved rounds, one thread per run; load average at the start of each round: {', '.join(f'{l:.2f}' for l in loads)}."
    publish(report(header, cases, times, "{:.3f}", footer), a.out)


def report(header, cases, times, number, footer):
    """A Markdown table: each case's medians for the base and new builds and the median of their paired ratios."""
    lines = [header, "| --- | ---: | ---: | ---: |"]
    for c in cases:
        base, new = times[(c, "base")], times[(c, "new")]
        ratio = statistics.median(n / b for n, b in zip(new, base))
        lines.append(f"| {c} | {number.format(statistics.median(base))} | {number.format(statistics.median(new))} | {ratio:.3f} |")
    return "\n".join(lines + ["", footer])


def publish(text, out):
    print(text)
    if out:
        Path(out).write_text(text + "\n")

if __name__ == "__main__":
    main()
