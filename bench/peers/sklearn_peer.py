"""scikit-learn peer: MLPRegressor(solver='adam', (64, 64), tanh) fit for a fixed number of epochs, one BLAS thread.

Time per step = fit time / (epochs × steps per epoch). Early stopping and the tolerance test are switched off so every
fit runs exactly max_iter epochs; alpha = 0 so the update is plain Adam on the MSE, like the other contenders.
Usage: /usr/bin/python3 sklearn_peer.py <data.csv>
"""
import sys
import warnings

from threadpoolctl import threadpool_limits

import protocol

threadpool_limits(1)

import sklearn  # noqa: E402  (after the thread limit, so nothing starts a pool first)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

X, y = protocol.load(sys.argv[1])
Y = y.ravel()
N = X.shape[0]
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def make(name):
    if name != "sklearn":
        raise ValueError(f"unknown contender {name!r}")
    fits = [0]

    def run(batch, epochs):
        fits[0] += 1
        model = MLPRegressor(
            hidden_layer_sizes=(64, 64), activation="tanh", solver="adam", learning_rate_init=1e-3,
            batch_size=min(batch, N) if batch > 0 else N, max_iter=epochs, tol=0.0, n_iter_no_change=10**9,
            early_stopping=False, alpha=0.0, shuffle=True, random_state=fits[0])
        clock = protocol.Clock()
        model.fit(X, Y)
        steps, seconds, cpu_seconds = clock.stop(model.n_iter_ * protocol.steps_per_epoch(N, batch))
        if model.n_iter_ != epochs:
            raise RuntimeError(f"fit stopped after {model.n_iter_} of {epochs} epochs")
        return steps, seconds, cpu_seconds

    return run


def info():
    import numpy
    probe = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, solver="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe.fit(X[:20], Y[:20])
    return {
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "sklearn_dtype": str(probe.coefs_[0].dtype),
        "blas": protocol.blas_info(),
    }


protocol.serve(make, info)
