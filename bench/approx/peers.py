"""One peer tool of the approx benchmark, run as its own process so its whole wall time can be measured.

    /usr/bin/python3 peers.py <tool> <manifest.json> <out.csv> <workers>

tool: sklearn-lbfgs, sklearn-adam or pytorch. The manifest lists the experiments (their points.csv and the function's
test-points csv, both written by `deqn approx`). Every experiment trains on all N points of its points.csv (train and
validation alike) and is scored on the shared test points, in original units. <workers> processes, one BLAS/torch
thread each, train the experiments; each line of out.csv is one experiment. The BLAS report (threadpoolctl, from inside
a worker) goes to <out.csv>.info.json.
"""
import csv
import json
import multiprocessing
import os
import sys
import time
import warnings

import numpy as np

TOOLS = ("sklearn-lbfgs", "sklearn-adam", "pytorch")
HIDDEN = (64, 64)
ADAM_STEPS = 5000
ADAM_LR = 1e-3
# L-BFGS has no learning rate or epochs; 5,000 iterations (the Adam peers' step count) with scikit-learn's own tol
# (1e-4 on the projected gradient) and max_fun (15,000 loss evaluations) — most fits stop on tol long before.
LBFGS_MAX_ITER = 5000

_tool = None
_tests = {}


def _init(tool):
    """Runs once in every worker: one thread for every pool before any of them starts, then the tool's imports."""
    global _tool
    _tool = tool
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    if tool == "pytorch":
        import torch
        torch.set_num_threads(1)
    warnings.filterwarnings("ignore")  # ConvergenceWarning when L-BFGS reaches max_iter: counted in the results instead


def _load(path, with_part=False):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    xyz = np.array([[float(r["x"]), float(r["y"]), float(r["z"])] for r in rows])
    fv = np.array([float(r["f"]) for r in rows])
    return (xyz, fv, [r["part"] for r in rows]) if with_part else (xyz, fv)


def _standardize(x, y):
    """Standard inputs and targets, fitted on the experiment's N points (Deqn's default preprocessing)."""
    from sklearn.preprocessing import StandardScaler
    sx, sy = StandardScaler().fit(x), StandardScaler().fit(y.reshape(-1, 1))
    return sx, sy


def _fit_sklearn(solver, xs, ys, seed, n):
    from sklearn.neural_network import MLPRegressor
    common = dict(hidden_layer_sizes=HIDDEN, activation="tanh", alpha=0.0, random_state=seed)
    if solver == "lbfgs":
        model = MLPRegressor(solver="lbfgs", max_iter=LBFGS_MAX_ITER, **common)
    else:
        model = MLPRegressor(solver="adam", learning_rate_init=ADAM_LR, batch_size=n, max_iter=ADAM_STEPS, tol=0.0,
                             n_iter_no_change=10**9, early_stopping=False, shuffle=False, **common)
    model.fit(xs, ys)
    return model.predict, model.n_iter_


def _fit_torch(xs, ys, seed):
    import torch
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, HIDDEN[0]), torch.nn.Tanh(), torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
                              torch.nn.Tanh(), torch.nn.Linear(HIDDEN[1], 1))
    opt = torch.optim.Adam(net.parameters(), lr=ADAM_LR)
    X = torch.tensor(xs, dtype=torch.float32)
    Y = torch.tensor(ys, dtype=torch.float32).reshape(-1, 1)
    for _ in range(ADAM_STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(X), Y)
        loss.backward()
        opt.step()

    def predict(a):
        with torch.no_grad():
            return net(torch.tensor(a, dtype=torch.float32)).numpy().ravel().astype(np.float64)

    return predict, ADAM_STEPS


def _run(exp):
    x, y, parts = _load(exp["points"], with_part=True)
    if exp["test"] not in _tests:
        _tests[exp["test"]] = _load(exp["test"])
    xt, yt = _tests[exp["test"]]
    started = time.perf_counter()
    sx, sy = _standardize(x, y)
    xs, ys = sx.transform(x), sy.transform(y.reshape(-1, 1)).ravel()
    if _tool == "pytorch":
        predict, iterations = _fit_torch(xs, ys, exp["seed"])
    else:
        predict, iterations = _fit_sklearn(_tool.split("-")[1], xs, ys, exp["seed"], len(y))
    seconds = time.perf_counter() - started
    pred = sy.inverse_transform(np.asarray(predict(sx.transform(xt)), dtype=np.float64).reshape(-1, 1)).ravel()
    err = np.abs(pred - yt)
    return dict(experiment=exp["id"], function=exp["function"], n=exp["n"], seed=exp["seed"], points=len(y),
                train_part=parts.count("train"), mean_abs_error=float(err.mean()), max_abs_error=float(err.max()),
                rmse=float(np.sqrt((err ** 2).mean())), iterations=int(iterations), seconds=seconds, pid=os.getpid())


def _info(_):
    import numpy
    from threadpoolctl import threadpool_info
    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
    out = {"numpy": numpy.__version__, "blas": [{k: v for k, v in d.items() if k in keep} for d in threadpool_info()],
           "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                  "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
    if _tool == "pytorch":
        import re
        import torch
        out.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
                   torch_blas_info=(re.findall(r"BLAS_INFO=(\w+)", torch.__config__.show()) or ["?"])[0])
    else:
        import sklearn
        out.update(sklearn=sklearn.__version__)
    return out


def main():
    tool, manifest, out, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if tool not in TOOLS:
        sys.exit(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")
    with open(manifest) as f:
        experiments = json.load(f)
    # Largest N first, so the two workers finish together instead of one waiting on a late N = 500 fit.
    experiments.sort(key=lambda e: -e["n"])
    ctx = multiprocessing.get_context("fork")  # nothing heavy is imported here, so forking is safe and cheap
    with ctx.Pool(workers, initializer=_init, initargs=(tool,)) as pool:
        info = pool.apply(_info, (None,))
        rows = []
        for i, row in enumerate(pool.imap_unordered(_run, experiments, chunksize=1), 1):
            rows.append(row)
            print(f"  {tool}: {i}/{len(experiments)} {row['experiment']} mean {row['mean_abs_error']:.4g} "
                  f"({row['seconds']:.1f} s)", file=sys.stderr, flush=True)
    info["workers"] = workers
    info["worker_pids"] = sorted({r["pid"] for r in rows})
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: r["experiment"]))
    with open(out + ".info.json", "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
