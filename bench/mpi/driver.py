"""Runs the data-parallel solve benchmark (see bench/mpi/run) and writes bench/mpi/results/<date>.md."""
import argparse, csv, datetime, os, re, subprocess, sys, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DLL = os.path.join(ROOT, "src", "Deqn.Cli", "bin", "Release", "net10.0", "deqn.dll")


def solve(label, prefix, extra, args, out):
    cmd = prefix + ["dotnet", DLL, "solve", args.model, "--polish-rounds", "0", "--episodes", str(args.episodes),
                    "--target-euler", str(args.target), "--log-every", "5", "--threads", "1", "--seed", str(args.seed),
                    "--track-reference", "false", "--out", out] + extra
    started = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - started
    if done.returncode != 0:
        sys.exit(f"{label} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rows = list(csv.DictReader(open(os.path.join(out, "history.csv"))))
    last = rows[-1]
    hit = next((r for r in rows if float(r["euler_mean"]) <= args.target), None)
    collectives = re.search(r"process 0 spent ([0-9.]+) s of ([0-9.]+) s of training in MPI collectives", done.stdout)
    episodes = int(last["episode"])
    seconds = float(last["seconds"])
    return {
        "label": label, "episodes": episodes, "seconds": seconds, "episodes_per_s": episodes / seconds,
        "reached": hit is not None, "to_target_s": float(hit["seconds"]) if hit else float("nan"),
        "to_target_episodes": int(hit["episode"]) if hit else None, "wall": wall,
        "collectives": float(collectives.group(1)) / float(collectives.group(2)) if collectives else None,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="brock-mirman-stochastic")
    p.add_argument("--target", type=float, default=5e-4)
    p.add_argument("--episodes", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trajectories", type=int, default=64, help="per rank")
    p.add_argument("--batch", type=int, default=64, help="minibatch rows per rank")
    args = p.parse_args()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join("/tmp", f"deqn-bench-mpi-{stamp}")
    mpirun = ["mpirun", "-np", "2"]
    per_rank = ["--trajectories", str(args.trajectories), "--batch-size", str(args.batch)]
    cases = [
        (f"1 process, {args.trajectories} trajectories", [], per_rank),
        (f"2 MPI processes × {args.trajectories} trajectories", mpirun, per_rank),
        ("1 process, --ranks 2 (the same steps in turn)", [], per_rank + ["--ranks", "2"]),
        (f"1 process, {2 * args.trajectories} trajectories, batch {2 * args.batch} (the same rows per step)", [], ["--trajectories", str(2 * args.trajectories), "--batch-size", str(2 * args.batch)]),
    ]
    allreduce = subprocess.run(mpirun + ["dotnet", os.path.join(ROOT, "bench", "mpi", "Allreduce", "bin", "Release", "net10.0", "Allreduce.dll"),
                                         "2751", "10000", "100000"], capture_output=True, text=True, check=True).stdout.strip().splitlines()
    print("\n".join(allreduce), flush=True)
    results = []
    for r in range(args.repeats):
        for i, (label, prefix, extra) in enumerate(cases):
            res = solve(label, prefix, extra, args, f"{base}/r{r}-c{i}")
            results.append(res)
            print(f"{label}: {res['episodes_per_s']:.1f} episodes/s, target {'reached' if res['reached'] else 'not reached'} "
                  f"after {res['to_target_episodes']} episodes, {res['to_target_s']:.2f} s"
                  + (f", collectives {100 * res['collectives']:.1f} %" if res["collectives"] is not None else ""), flush=True)
    load = open("/proc/loadavg").read().split()[:3]
    lines = [f"# Data-parallel solve, {stamp}", "",
             f"`bench/mpi/run --model {args.model} --target {args.target} --episodes {args.episodes} --repeats {args.repeats} --seed {args.seed} "
             f"--trajectories {args.trajectories} --batch {args.batch}`; "
             f"Adam only (no polish), one libtorch thread per process, load average after the run {' '.join(load)}.", "",
             "| run | episodes/s | episodes to target | seconds to target | collectives share |", "| --- | --- | --- | --- | --- |"]
    for res in results:
        share = "" if res["collectives"] is None else "%.1f %%" % (100 * res["collectives"])
        lines.append(f"| {res['label']} | {res['episodes_per_s']:.1f} | {res['to_target_episodes'] or 'not reached'} | "
                     f"{res['to_target_s']:.2f} | {share} |")
    lines += ["", "The gradient average alone (bench/mpi/Allreduce: the processes calling in step, mean of 2,000 calls; "
              "2,751 doubles is the 50 × 50 network's gradient):", ""] + [f"- {a}" for a in allreduce]
    os.makedirs(os.path.join(ROOT, "bench", "mpi", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "mpi", "results", f"{stamp}.md")
    open(path, "w").write("\n".join(lines) + "\n")
    print(path)


main()
