#!/usr/bin/env python3
"""µs per training step of the Trainer (and the stack) in two builds of Deqn.Bench, in one run.

bench/revisions/run-trainer <base revision> builds the base's worker and the working tree's, then times, in
interleaved rounds (a fresh random order each round), the contenders of bench/Deqn.Bench on both: the Trainer, the
bare TorchSharp loop (the same code in both builds: a yardstick for the machine's drift), and the stack of K networks.
"""
import argparse, random, statistics, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import driver  # noqa: E402  (bench/driver.py: the data file and the worker protocol)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (the report table, shared with whole-command comparisons)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base", required=True, help="Deqn.Bench.dll of the base build")
    p.add_argument("--new", required=True, help="Deqn.Bench.dll of the new build")
    p.add_argument("--base-label", default="base")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--contender", action="append", help="contender:batch:epochs (repeatable)")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    cases = a.contender or ["trainer:32:12", "trainer:500:100", "torchsharp:32:12", "ensemble/8:32:12", "trainers-seq/8:32:12"]
    env = dict(driver.os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data.csv"
        driver.write_data(data)
        workers = {b: driver.Worker(["dotnet", dll, "serve", str(data), str(tmp / f"logs-{b}")], env) for b, dll in (("base", a.base), ("new", a.new))}
        times = {(c, b): [] for c in cases for b in workers}
        loads = []
        try:
            for r in range(-1, a.rounds):
                order = [(c, b) for c in cases for b in workers]
                random.shuffle(order)
                loads.append(driver.read_load())
                for c, b in order:
                    name, batch, epochs = c.split(":")
                    reply = workers[b].ask(f"run {name} {batch} {epochs if r >= 0 else max(1, int(epochs) // 3)}")
                    if not reply.get("ok", False):
                        raise RuntimeError(f"{b} {c}: {reply}")
                    if r >= 0:
                        times[(c, b)].append(reply["cpu_seconds"] / reply["network_steps"] * 1e6)
                print(f"round {r + 1}/{a.rounds} (load {loads[-1]:.2f})", file=sys.stderr)
        finally:
            for w in workers.values():
                w.close()
    header = f"| contender (batch, epochs per block) | {a.base_label}: CPU µs per network-step | new | new / {a.base_label} (median of paired ratios) |"
    footer = (f"{a.rounds} interleaved rounds after one warm-up round, one thread per worker; load average per round: median "
              f"{statistics.median(loads):.2f}, max {max(loads):.2f}.")
    compare.publish(compare.report(header, cases, times, "{:.0f}", footer), a.out)

if __name__ == "__main__":
    main()
