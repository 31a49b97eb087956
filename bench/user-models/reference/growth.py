"""Global reference solutions for the growth user models `ramsey` and `growth-crra5`.

The planner's problem: max E Σ βᵗ C^(1−γ)/(1−γ) subject to K′ + C = W = z·K^α + (1 − δ)K and ln z′ = ρ ln z + ε′,
ε′ ~ N(0, σ²) (σ = 0: the deterministic Ramsey model, z ≡ 1, no shock at all). The Euler equation

    C^(−γ) = β E[C′^(−γ) (α z′ K′^(α−1) + 1 − δ)]

is solved by Chebyshev collocation: log C is a tensor-product Chebyshev polynomial in (ln K, ln z) on a box that holds
the initial distribution, the ergodic set and every next-period state the quadrature reaches from them; expectations
use Gauss–Hermite with `gh_nodes` nodes (10 by default). Time iteration (one Newton solve for K′ per collocation node)
gets close, then Newton's method on the whole collocation system (finite-difference Jacobian) converges to rounding.
The savings rate is a share of resources, s = K′/W, as the DEQN models define it.

Used by compare.py:  ref = growth.reference("growth-crra5");  ref.policy(states) -> {"s", "C", "K_next", "W"};
ref.ergodic_sample(n, seed) -> states [n, 2] (K, z) or [n, 1] (K) for ramsey (uniform on the initial support, as the
deterministic model's ergodic set is one point);  ref.box_sample(n, seed);  ref.euler_errors(states).

    /usr/bin/python3 bench/user-models/reference/growth.py            # solves both, prints their own Euler errors
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy import optimize

CALIBRATIONS = {
    # the defaults of the C# calibration records in bench/user-models (Ramsey.cs, CrraGrowth5.cs)
    "ramsey": dict(alpha=0.36, beta=0.96, delta=0.1, gamma=2.0, rho=0.0, sigma=0.0),
    "growth-crra5": dict(alpha=0.33, beta=0.96, delta=0.1, gamma=5.0, rho=0.95, sigma=0.02),
}
# the initial distributions of the C# models: K₀ ~ U[0.5, 1.5]·K_ss, z₀ ~ U[0.9, 1.1]
K_BOX = (0.5, 1.5)
Z_BOX = (0.9, 1.1)


def _cheb_basis(t: np.ndarray, degree: int) -> np.ndarray:
    """T_0 … T_degree at t (any shape), stacked on a new last axis."""
    out = np.empty(t.shape + (degree + 1,))
    out[..., 0] = 1.0
    if degree >= 1:
        out[..., 1] = t
    for j in range(2, degree + 1):
        out[..., j] = 2.0 * t * out[..., j - 1] - out[..., j - 2]
    return out


class GrowthReference:
    def __init__(self, alpha, beta, delta, gamma, rho, sigma, k_degree=None, z_degree=None, gh_nodes=10,
                 k_domain=(0.25, 3.0), z_sds=6.0, verbose=False):
        self.alpha, self.beta, self.delta, self.gamma, self.rho, self.sigma = alpha, beta, delta, gamma, rho, sigma
        self.stochastic = sigma > 0
        self.kss = (alpha / (1 / beta - 1 + delta)) ** (1 / (1 - alpha))
        self.log_k = (np.log(k_domain[0] * self.kss), np.log(k_domain[1] * self.kss))
        self.k_degree = k_degree or 30
        if self.stochastic:
            sd = sigma / np.sqrt(1 - rho ** 2)
            self.log_z = (-z_sds * sd, z_sds * sd)
            self.z_degree = z_degree or 16
            x, w = np.polynomial.hermite.hermgauss(gh_nodes)
            self.eps = np.sqrt(2.0) * sigma * x
            self.weights = w / np.sqrt(np.pi)
        else:
            self.log_z = (0.0, 0.0)
            self.z_degree = 0
            self.eps = np.zeros(1)
            self.weights = np.ones(1)
        self.gh_nodes = gh_nodes if self.stochastic else 0
        self.verbose = verbose
        self._solve()

    # --- the approximation: log C = Σ a_ij T_i(u(ln K)) T_j(v(ln z)) -------------------------------------------
    def _u(self, log_k):
        lo, hi = self.log_k
        return (2.0 * log_k - lo - hi) / (hi - lo)

    def _v(self, log_z):
        lo, hi = self.log_z
        return (2.0 * log_z - lo - hi) / (hi - lo) if self.stochastic else np.zeros_like(log_z)

    def _log_c(self, coef, log_k, log_z):
        bk = _cheb_basis(self._u(log_k), self.k_degree)
        if not self.stochastic:
            return bk @ coef[:, 0]
        bz = _cheb_basis(self._v(log_z), self.z_degree)
        return ((bk @ coef) * bz).sum(-1)

    def wealth(self, k, z):
        return z * k ** self.alpha + (1 - self.delta) * k

    def _gross_return(self, k, z):
        return self.alpha * z * k ** (self.alpha - 1) + 1 - self.delta

    def _rhs(self, coef, k_next, log_z):
        """β E[C′^(−γ) R′] for next capital k_next (shape S) and today's log z (shape S)."""
        log_zn = self.rho * log_z[..., None] + self.eps                       # S × nodes
        kn = np.broadcast_to(k_next[..., None], log_zn.shape)
        # Next states may leave the domain a little (K′ at its corner, z′ from its edges): the polynomial extrapolates
        # smoothly there. A clip far outside only guards the first iterations (it is inactive at the solution: a clip
        # that binds would put a kink in the solution and spoil the polynomial's convergence everywhere).
        lo, hi = self.log_k
        cn = np.exp(self._log_c(coef, np.clip(np.log(kn), lo - 0.25 * (hi - lo), hi + 0.25 * (hi - lo)), log_zn))
        return self.beta * (cn ** (-self.gamma) * self._gross_return(kn, np.exp(log_zn))) @ self.weights

    # --- solving -------------------------------------------------------------------------------------------
    def _nodes(self, degree, lo, hi):
        t = -np.cos((2 * np.arange(degree + 1) + 1) * np.pi / (2 * (degree + 1)))   # Chebyshev roots, ascending
        return lo + (t + 1) * (hi - lo) / 2, t

    def _solve(self):
        started = time.perf_counter()
        lk, tk = self._nodes(self.k_degree, *self.log_k)
        if self.stochastic:
            lz, tz = self._nodes(self.z_degree, *self.log_z)
        else:
            lz, tz = np.zeros(1), np.zeros(1)
        self._node_logk, self._node_logz = np.meshgrid(lk, lz, indexing="ij")
        self._inv_k = np.linalg.inv(_cheb_basis(tk, self.k_degree))
        self._inv_z = np.linalg.inv(_cheb_basis(tz, self.z_degree)) if self.stochastic else np.ones((1, 1))
        k = np.exp(self._node_logk)
        z = np.exp(self._node_logz)
        w = self.wealth(k, z)

        def coef_of(log_c):  # values at the nodes → coefficients
            return self._inv_k @ log_c @ self._inv_z.T

        # start: the steady state's savings rate everywhere, then time iteration (Newton in K′ per node)
        s0 = self.kss / self.wealth(self.kss, 1.0)
        log_c = np.log((1 - s0) * w)
        for it in range(400):
            coef = coef_of(log_c)
            k_next = w - np.exp(log_c)
            for _ in range(30):
                f = np.log(w - k_next) + np.log(self._rhs(coef, k_next, self._node_logz)) / self.gamma
                h = 1e-7 * k_next
                f2 = np.log(w - k_next - h) + np.log(self._rhs(coef, k_next + h, self._node_logz)) / self.gamma
                step = f * h / (f2 - f)
                k_next = np.clip(k_next - step, 1e-3 * w, w * (1 - 1e-9))
                if np.max(np.abs(step / k_next)) < 1e-14:
                    break
            new = np.log(w - k_next)
            change = np.max(np.abs(new - log_c))
            log_c = new
            if change < 1e-7:
                break
        self.time_iterations = it + 1

        # Newton on the collocation system: log C at the nodes such that every node's Euler equation holds exactly
        def residual(flat):
            lc = flat.reshape(log_c.shape)
            coef = coef_of(lc)
            return (lc + np.log(self._rhs(coef, w - np.exp(lc), self._node_logz)) / self.gamma).ravel()

        sol = optimize.root(residual, log_c.ravel(), method="hybr", options=dict(xtol=1e-15))
        self.collocation_residual = float(np.max(np.abs(residual(sol.x))))
        self.coef = coef_of(sol.x.reshape(log_c.shape))
        self.seconds = time.perf_counter() - started

    # --- the interface compare.py uses -----------------------------------------------------------------------
    def _split(self, states):
        states = np.asarray(states, dtype=float)
        k = states[:, 0]
        z = states[:, 1] if self.stochastic else np.ones_like(k)
        return k, z

    def policy(self, states):
        k, z = self._split(states)
        c = np.exp(self._log_c(self.coef, np.log(k), np.log(z)))
        w = self.wealth(k, z)
        return {"s": 1 - c / w, "C": c, "K_next": w - c, "W": w}

    def euler_errors(self, states, gh_nodes=None):
        """The models' relative Euler error 1 − (β E[C′^(−γ) R′])^(−1/γ)/C, with `gh_nodes` Gauss–Hermite nodes (default: the solve's)."""
        k, z = self._split(states)
        p = self.policy(states)
        eps, weights = self.eps, self.weights
        if self.stochastic and gh_nodes:
            x, wq = np.polynomial.hermite.hermgauss(gh_nodes)
            self.eps, self.weights = np.sqrt(2.0) * self.sigma * x, wq / np.sqrt(np.pi)
        try:
            rhs = self._rhs(self.coef, p["K_next"], np.log(z))
        finally:
            self.eps, self.weights = eps, weights
        return 1 - rhs ** (-1 / self.gamma) / p["C"]

    def box_sample(self, n, seed=0):
        """Uniform draws from the C# model's initial distribution (K₀ ~ U[0.5, 1.5]·K_ss, z₀ ~ U[0.9, 1.1])."""
        rng = np.random.default_rng(seed)
        k = rng.uniform(K_BOX[0] * self.kss, K_BOX[1] * self.kss, n)
        if not self.stochastic:
            return k[:, None]
        return np.column_stack([k, rng.uniform(*Z_BOX, n)])

    def box_grid(self, points=101):
        """A product grid over the initial support (points per dimension)."""
        k = np.linspace(K_BOX[0] * self.kss, K_BOX[1] * self.kss, points)
        if not self.stochastic:
            return k[:, None]
        kk, zz = np.meshgrid(k, np.linspace(*Z_BOX, points), indexing="ij")
        return np.column_stack([kk.ravel(), zz.ravel()])

    def ergodic_sample(self, n, seed=0, burn_in=1000):
        """n independent draws from the ergodic distribution under this policy: n chains from K_ss and stationary z,
        `burn_in` periods each. The deterministic model's ergodic set is one point: there, uniform on the initial support."""
        if not self.stochastic:
            return self.box_sample(n, seed)
        rng = np.random.default_rng(seed)
        sd = self.sigma / np.sqrt(1 - self.rho ** 2)
        log_z = rng.normal(0.0, sd, n)
        k = np.full(n, self.kss)
        for _ in range(burn_in):
            z = np.exp(log_z)
            k = self.wealth(k, z) - np.exp(self._log_c(self.coef, np.log(k), log_z))
            log_z = self.rho * log_z + self.sigma * rng.standard_normal(n)
        return np.column_stack([k, np.exp(log_z)])

    def describe(self):
        what = (f"Chebyshev collocation in (ln K, ln z), degrees {self.k_degree} × {self.z_degree}, Gauss–Hermite {self.gh_nodes}"
                if self.stochastic else f"Chebyshev collocation in ln K, degree {self.k_degree} (deterministic: no expectation)")
        return f"{what}; ln K ∈ [{self.log_k[0]:.4f}, {self.log_k[1]:.4f}]" + (
            f", ln z ∈ [{self.log_z[0]:.4f}, {self.log_z[1]:.4f}]" if self.stochastic else "")


_CACHE: dict = {}


def reference(model: str, calibration: dict | None = None) -> GrowthReference:
    """The reference for a user model by name; `calibration` (parameter name → value, as in the run's model.json)
    must match the calibration it is solved at (only the defaults are supported, to keep the reference independent)."""
    if model not in CALIBRATIONS:
        raise KeyError(f"growth.py has no reference for model '{model}' (has: {', '.join(CALIBRATIONS)})")
    params = CALIBRATIONS[model]
    if calibration:
        for name, value in calibration.items():
            if name in params and abs(params[name] - float(value)) > 1e-12 * max(1.0, abs(params[name])):
                raise ValueError(f"{model}: the run has {name} = {value}, the reference is solved at {params[name]}")
    if model not in _CACHE:
        _CACHE[model] = GrowthReference(**params)
    return _CACHE[model]


def _stats(e):
    a = np.abs(e)
    return {"mean": float(a.mean()), "max": float(a.max()), "log10_mean": float(np.log10(a.mean())), "log10_max": float(np.log10(a.max()))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", default=list(CALIBRATIONS))
    ap.add_argument("--n", type=int, default=10_000, help="ergodic and box sample size")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args(argv)
    report = {}
    # the same code at δ = 1 and log utility must give Brock–Mirman's closed form s = αβ (with and without shocks)
    for sigma, rho in ((0.02, 0.95), (0.0, 0.0)):
        check = GrowthReference(alpha=0.36, beta=0.96, delta=1.0, gamma=1.0, rho=rho, sigma=sigma)
        gap = float(np.max(np.abs(check.policy(check.box_grid(41))["s"] / (0.36 * 0.96) - 1)))
        print(f"closed-form check (δ = 1, γ = 1, σ = {sigma}): max |s/(αβ) − 1| = {gap:.1e}")
        report[f"closed_form_check_sigma_{sigma}"] = gap
    for model in args.models:
        ref = reference(model)
        erg = ref.ergodic_sample(args.n, args.seed)
        box = ref.box_sample(args.n, args.seed + 1)
        grid = ref.box_grid()
        entry = {
            "method": ref.describe(),
            "seconds": ref.seconds,
            "time_iterations": ref.time_iterations,
            "collocation_residual_max": ref.collocation_residual,
            "euler_ergodic": _stats(ref.euler_errors(erg)),
            "euler_box_sample": _stats(ref.euler_errors(box)),
            "euler_box_grid": _stats(ref.euler_errors(grid)),
        }
        if ref.stochastic:
            entry["euler_ergodic_gh40"] = _stats(ref.euler_errors(erg, gh_nodes=40))
            entry["ergodic_range"] = {"K": [float(erg[:, 0].min()), float(erg[:, 0].max())], "z": [float(erg[:, 1].min()), float(erg[:, 1].max())]}
        report[model] = entry
        print(f"{model}: {entry['method']}; {entry['seconds']:.1f} s, {entry['time_iterations']} time iterations, "
              f"collocation residual {entry['collocation_residual_max']:.1e}")
        for key in ("euler_ergodic", "euler_box_sample", "euler_box_grid", "euler_ergodic_gh40"):
            if key in entry:
                print(f"  {key:20s} mean {entry[key]['mean']:.2e}  max {entry[key]['max']:.2e}")
        if "ergodic_range" in entry:
            print(f"  ergodic K ∈ [{entry['ergodic_range']['K'][0]:.4f}, {entry['ergodic_range']['K'][1]:.4f}] (K_ss = {ref.kss:.4f}), "
                  f"z ∈ [{entry['ergodic_range']['z'][0]:.4f}, {entry['ergodic_range']['z'][1]:.4f}]")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
