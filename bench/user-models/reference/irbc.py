"""Global reference solutions for the user models `irbc` and `irbc-irreversible` (two countries, the defaults of Irbc.cs).

The planner's problem (Brumm and Scheidegger 2017, section 4): states (k_1, k_2, z_1, z_2), z the log of TFP;
y_j = A·e^{z_j}·k_j^ζ, g_j = k′_j/k_j − 1, Γ_j = (κ/2)·k_j·g_j², c_j = (λ/τ_j)^(−γ_j) = (A − δ)·λ^(−γ_j),
R_j = ζA·e^{z_j}·k_j^(ζ−1) + 1 − δ + (κ/2)·g_j·(g_j + 2), z′_j = ρz_j + σ(ε_j + ε_0), one world resource constraint
Σ_j(y_j + (1 − δ)k_j − k′_j − Γ_j − c_j) = 0 and per country the Euler equation

    λ(1 + κg_j) − μ_j = β·E[λ′R′_j − (1 − δ)μ′_j]        (irbc: μ ≡ 0; irbc-irreversible: I_j = k′_j − (1 − δ)k_j ≥ 0,
                                                           μ_j ≥ 0, μ_j·I_j = 0)

Method: time iteration on the expectation term
    Φ_j(k′, z) = β·E[V_j(k′, ρz + σ(ε_j + ε_0))],   V_j = λR_j − (1 − δ)μ_j  (the marginal value of capital),
a function of the chosen capital k′ and today's z. Φ_j is a tensor-product Chebyshev interpolant on Chebyshev nodes in
(k′_1, k′_2, z_1, z_2). Given Φ, every state's allocation (k′_1, k′_2, λ) solves a 3 × 3 system exactly — the Euler
equations λ(1 + κg_j) = Φ_j(k′, z) and the resource constraint, and for the irreversible model the complementarity
(semismooth Newton on min(g_j + δ, (λ(1 + κg_j) − Φ_j)/(κλ)), with a regime enumeration for states it does not settle),
so the kink where investment stops is exact at every state, not smeared by a polynomial in k′. One step of the
iteration evaluates V at (k′ node, next z) for every node and quadrature point, by that same per-state solve with the
current Φ, and integrates. The two correlated next-period log-TFPs are integrated by a Gauss–Hermite product rule in
two dimensions (z′_1 = ρz_1 + √2σ·u_1, z′_2 = ρz_2 + √2σ(u_1/2 + √3/2·u_2), u ~ N(0, I): the exact law of the three
shocks' sums). Time iteration gets close, Anderson acceleration converges. The policy at any state is that per-state
solve; states outside the Chebyshev box are allowed: there the polynomial Φ extrapolates (smooth model; next-period
states leave the box a little, from its edges) or is held constant beyond the box (irreversible model: extrapolating a
polynomial that has to follow the kinks is unstable at the box's corners).

Euler errors are measured with a finer Gauss–Hermite rule (10 × 10 by default) than the solve uses.

Accuracy (ACCURACY below has the numbers): `irbc` is solved to rounding (Euler errors ≈ 1e-11). `irbc-irreversible` is
not: where investment stops, V has a kink, every period's expectation smooths it into a feature of width ≈ √2σ in z, and
a global polynomial in four dimensions resolves those slowly (Euler errors ≈ 4e-6; investment, by a resolution
comparison, to about 1e-3·δk on average and 1e-2·δk at worst; λ to ≈ 1e-5 on average, 1e-4 at worst). The binding
pattern is right to ≈ 0.02 % of (state, country) pairs.

Caches: bench/user-models/runs/irbc-reference-<model>.npz (keyed by METHOD_VERSION, CALIBRATION and SETTINGS); the
smooth model solves in about 2 minutes, the irreversible one in about 7 (it starts from the smooth solution).

Used by compare.py:  ref = irbc.reference("irbc", calibration);  ref.policy(states) -> {k_next_1, k_next_2, lambda,
c_1, c_2, i_1, i_2 (, mu_1, mu_2)};  ref.ergodic_sample(n, seed) -> states [n, 4] (k_1, k_2, z_1, z_2);
ref.euler_errors(states);  ref.describe().

    /usr/bin/python3 bench/user-models/reference/irbc.py [--model irbc|irbc-irreversible] [--json FILE]
                                                         [--check-against NK,NZ,NQ]   # a resolution check
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
from scipy import linalg

CALIBRATION = dict(countries=2, beta=0.99, zeta=0.36, delta=0.01, rho=0.95, sigma=0.01, kappa=0.5, gamma_low=0.25, gamma_high=1.0)
MODELS = ("irbc", "irbc-irreversible")
METHOD_VERSION = 1
# Chebyshev nodes per dimension in k′ and in z, Gauss–Hermite nodes per dimension, and the box of the interpolant
SETTINGS = {
    "irbc": dict(nk=12, nz=10, nq=5, k_box=(0.7, 1.3), z_box=(-0.2, 0.2), continuation="polynomial"),
    "irbc-irreversible": dict(nk=14, nz=12, nq=5, k_box=(0.7, 1.3), z_box=(-0.2, 0.2), continuation="constant"),
}
# measured with main() and --check-against (2026-12-07); valid for SETTINGS as they stand
ACCURACY = {
    "irbc": "Accuracy (2000 ergodic and 2000 box states, Gauss–Hermite 10 × 10): relative Euler errors mean 1.0e-11, max "
            "2.0e-11 on both; resource residual ≤ 4.4e-16 (λ solves the resource constraint); slopes at the steady state "
            "within 7e-5 of a first-order perturbation (the σ² difference).",
    "irbc-irreversible": "Accuracy: Euler errors (the KKT measure, Gauss–Hermite 10 × 10) mean 4.4e-6, max 2.3e-5 on the "
            "ergodic set, mean 3.8e-6, max 2.4e-5 on the box; resource residual ≤ 4.4e-16; the constraint binds for 26.7 % "
            "of (state, country) pairs on the box, for none of 2000 ergodic states. The kink makes Φ sharp (smoothed kinks "
            "of width ≈ √2σ in z from every future period's constraint) and the global polynomial converges slowly: against "
            "the same solve on 18 × 18 × 16 × 16 nodes, investment differs by mean 1.8e-3, max 7e-3 (ergodic) and mean "
            "8e-4, max 9e-3 (box) in units of δk, λ by ≤ 8e-5, the binding pattern on 0.02 % of box pairs (10 × 10 × 8 × 8 "
            "vs this: mean 5.6e-3 and 3.0e-3). Investment is known to about 1e-3·δk on average and 1e-2·δk at worst: not "
            "enough to certify a policy to 1e-4·δk. Gauss–Hermite 7 × 7 instead of 5 × 5 moves investment by mean 1e-4, "
            "max 8e-4 (kinked integrands).",
}
K_BOX = (0.8, 1.2)      # the initial distribution of Irbc.cs: where DEQN's policies are compared
Z_BOX = (-0.16, 0.16)
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_DIR = os.path.join(os.path.dirname(HERE), "runs")


# --- Chebyshev machinery ---------------------------------------------------------------------------------------------
def cheb_nodes(n, lo, hi):
    t = -np.cos((2 * np.arange(n) + 1) * np.pi / (2 * n))
    return lo + (t + 1) * (hi - lo) / 2, t


POLYNOMIAL_REACH = 1.2   # "polynomial": extrapolate up to 20 % of the half-width beyond the box, then linearly


def cheb_basis(t, n, continuation="polynomial"):
    """T_0 … T_{n−1} and their derivatives at t (on a new last axis). Outside [−1, 1] the polynomials extrapolate
    ("polynomial", up to |t| = 1.2, continued linearly beyond: the solve's next-period states reach |t| ≈ 1.14), are
    continued linearly with their value and slope at ±1 ("linear") or held constant ("constant")."""
    t = np.asarray(t, float)
    reach = POLYNOMIAL_REACH if continuation == "polynomial" else 1.0
    tc = np.clip(t, -reach, reach)
    T = np.empty((n,) + t.shape)
    D = np.empty((n,) + t.shape)
    T[0] = 1.0
    D[0] = 0.0
    if n > 1:
        T[1] = tc
        D[1] = 1.0
    for j in range(2, n):
        T[j] = 2 * tc * T[j - 1] - T[j - 2]
        D[j] = 2 * T[j - 1] + 2 * tc * D[j - 1] - D[j - 2]
    outside = t != tc
    if outside.any():
        if continuation in ("linear", "polynomial"):
            T = T + D * (t - tc)
        else:
            D = np.where(outside, 0.0, D)
    return np.moveaxis(T, 0, -1), np.moveaxis(D, 0, -1)


def gauss_hermite_2d(n, sigma):
    """Nodes (e1, e2) and weights for (σ(ε_1 + ε_0), σ(ε_2 + ε_0)): a product rule in the Cholesky coordinates."""
    x, w = np.polynomial.hermite.hermgauss(n)
    u = np.sqrt(2.0) * x
    w = w / np.sqrt(np.pi)
    u1, u2 = np.meshgrid(u, u, indexing="ij")
    sd = np.sqrt(2.0) * sigma
    return (sd * u1).ravel(), (sd * (0.5 * u1 + np.sqrt(0.75) * u2)).ravel(), np.outer(w, w).ravel()


class IrbcReference:
    def __init__(self, model, nk, nz, nq, k_box, z_box, continuation, calibration=CALIBRATION, verbose=False):
        if model not in MODELS:
            raise KeyError(f"irbc.py has no reference for model '{model}' (has: {', '.join(MODELS)})")
        c = calibration
        self.model = model
        self.irreversible = model == "irbc-irreversible"
        self.beta, self.zeta, self.delta, self.rho, self.sigma, self.kappa = (float(c[k]) for k in ("beta", "zeta", "delta", "rho", "sigma", "kappa"))
        self.gammas = np.array([float(c["gamma_low"]), float(c["gamma_high"])])
        self.A = (1 - self.beta * (1 - self.delta)) / (self.zeta * self.beta)
        self.css = self.A - self.delta                       # c_j = (A − δ)·λ^(−γ_j), i.e. τ_j = (A − δ)^(1/γ_j)
        self.nk, self.nz, self.nq = nk, nz, nq
        self.k_box, self.z_box = tuple(k_box), tuple(z_box)
        self.continuation = continuation
        self.verbose = verbose
        self.k_nodes, tk = cheb_nodes(nk, *self.k_box)
        self.z_nodes, tz = cheb_nodes(nz, *self.z_box)
        self._inv_k = np.linalg.inv(cheb_basis(tk, nk)[0])
        self._inv_z = np.linalg.inv(cheb_basis(tz, nz)[0])
        self.e1, self.e2, self.w = gauss_hermite_2d(nq, self.sigma)
        self.coef = None
        self.info = {}

    # --- Φ: values at the nodes ↔ coefficients; evaluation ----------------------------------------------------
    def _tk(self, k):
        lo, hi = self.k_box
        return (2 * k - lo - hi) / (hi - lo)

    def _tz(self, z):
        lo, hi = self.z_box
        return (2 * z - lo - hi) / (hi - lo)

    def coefficients(self, phi):
        """phi[j, a, b, c, d] at the nodes (k′_1, k′_2, z_1, z_2) → Chebyshev coefficients."""
        return np.einsum("ia,jb,kc,ld,xabcd->xijkl", self._inv_k, self._inv_k, self._inv_z, self._inv_z, phi, optimize=True)

    def _contract_z(self, coef, z1, z2):
        """Coefficients in k′ only for each (z1[p], z2[p]): [P, 2, nk, nk]."""
        t1 = cheb_basis(self._tz(z1), self.nz, self.continuation)[0]
        t2 = cheb_basis(self._tz(z2), self.nz, self.continuation)[0]
        out = np.empty((len(z1), 2, self.nk, self.nk))
        step = 2048
        for s in range(0, len(z1), step):
            m = np.einsum("xabcd,pd->pxabc", coef, t2[s:s + step], optimize=True)
            out[s:s + step] = np.einsum("pxabc,pc->pxab", m, t1[s:s + step], optimize=True)
        return out

    def _phi(self, ck, kn1, kn2):
        """Φ_j and its derivatives in k′_1, k′_2 at k′ = (kn1, kn2) [P, S], with ck [P, 2, nk, nk]."""
        b1, d1 = cheb_basis(self._tk(kn1), self.nk, self.continuation)
        b2, d2 = cheb_basis(self._tk(kn2), self.nk, self.continuation)
        scale = 2.0 / (self.k_box[1] - self.k_box[0])
        out = []
        for j in range(2):
            m = np.matmul(ck[:, j], np.swapaxes(b2, 1, 2))
            md = np.matmul(ck[:, j], np.swapaxes(d2, 1, 2))
            out.append((np.einsum("psa,pas->ps", b1, m), np.einsum("psa,pas->ps", d1, m) * scale, np.einsum("psa,pas->ps", b1, md) * scale))
        return out

    # --- the allocation at given states, given Φ ---------------------------------------------------------------
    def _newton(self, ck, k, wres, g, ll, mode, fixed, tol, maxit):
        """Newton on (g_1, g_2, log λ). mode: 'smooth' (Euler equations), 'semismooth' (min-complementarity), 'fixed'
        (country j pinned at g_j = −δ where fixed[j])."""
        kap, dl = self.kappa, self.delta
        gam = self.gammas.reshape((2,) + (1,) * ll.ndim)
        conv = np.zeros(ll.shape, bool)
        for _ in range(maxit):
            lam = np.exp(ll)
            kn = k * (1 + g)
            ph = self._phi(ck, kn[0], kn[1])
            F = np.empty((3,) + ll.shape)
            J = np.zeros(ll.shape + (3, 3))
            for j in range(2):
                v, dv1, dv2 = ph[j]
                F[j] = 1 + kap * g[j] - v / lam
                J[..., j, 0] = -dv1 * k[0] / lam
                J[..., j, 1] = -dv2 * k[1] / lam
                J[..., j, j] += kap
                J[..., j, 2] = v / lam
                if mode == "semismooth":
                    bound = g[j] + dl < F[j] / kap
                elif mode == "fixed":
                    bound = fixed[j]
                else:
                    continue
                F[j] = np.where(bound, g[j] + dl, F[j])
                J[bound, j, :] = 0.0
                J[bound, j, j] = 1.0
            cons = self.css * np.exp(-gam * ll[None])
            F[2] = 1 - ((kn + 0.5 * kap * k * g ** 2).sum(0) + cons.sum(0)) / wres
            J[..., 2, 0] = -k[0] * (1 + kap * g[0]) / wres
            J[..., 2, 1] = -k[1] * (1 + kap * g[1]) / wres
            J[..., 2, 2] = (gam * cons).sum(0) / wres
            J = np.where(np.isfinite(J), J, 0.0)
            singular = np.abs(np.linalg.det(J)) < 1e-300
            if singular.any():
                J[singular] = np.eye(3)
            step = np.moveaxis(np.linalg.solve(J, np.moveaxis(F, 0, -1)[..., None])[..., 0], -1, 0)
            step = np.where(np.isfinite(step), step, 0.0)
            step[:2] = np.clip(step[:2], -0.05, 0.05)
            step[2] = np.clip(step[2], -0.5, 0.5)
            g = g - step[:2]
            ll = ll - step[2]
            conv = np.abs(step).max(0) < tol
            if conv.all():
                break
        return g, ll, conv

    def _solve_states(self, ck, k1, k2, z1, z2, guess=None, tol=1e-13):
        """The allocation at states [P, S] (ck [P, 2, nk, nk] belongs to z1[p], z2[p]): g, log λ, μ, V."""
        k = np.stack([k1, k2])
        z = np.stack([z1, z2])
        wres = (self.A * np.exp(z) * k ** self.zeta + (1 - self.delta) * k).sum(0)
        if guess is None:
            g, ll = np.zeros_like(k), np.zeros_like(k1)
        else:
            g, ll = guess[0].copy(), guess[1].copy()
        if not self.irreversible:
            g, ll, conv = self._newton(ck, k, wres, g, ll, "smooth", None, tol, 40)
            fallback = 0
        else:
            g, ll, conv = self._newton(ck, k, wres, g, ll, "semismooth", None, tol, 12)
            fallback = int((~conv).sum())
            if fallback:
                g, ll, conv = self._enumerate_regimes(ck, k, wres, g, ll, conv, tol)
        lam = np.exp(ll)
        kn = k * (1 + g)
        ph = self._phi(ck, kn[0], kn[1])
        if self.irreversible:
            bound = g + self.delta <= 1e-14
            g = np.where(bound, -self.delta, g)
            mu = np.where(bound, np.maximum(np.stack([lam * (1 + self.kappa * g[j]) - ph[j][0] for j in range(2)]), 0.0), 0.0)
        else:
            mu = np.zeros_like(k)
        R = self.zeta * self.A * np.exp(z) * k ** (self.zeta - 1) + 1 - self.delta + 0.5 * self.kappa * g * (g + 2)
        V = lam * R - (1 - self.delta) * mu
        return dict(g=g, ll=ll, lam=lam, mu=mu, V=V, converged=conv, fallback=fallback)

    def _enumerate_regimes(self, ck, k, wres, g, ll, conv, tol):
        """For the states the semismooth Newton did not settle: solve each of the four regimes, keep the consistent one."""
        idx = np.nonzero(~conv)
        cks = ck[idx[0]]
        ks = k[(slice(None),) + idx][:, :, None]
        ws = wres[idx][:, None]
        best = None
        for b1 in (False, True):
            for b2 in (False, True):
                fixed = np.array([np.full(ks.shape[1:], b1), np.full(ks.shape[1:], b2)])
                g0 = np.zeros_like(ks)
                g0[0], g0[1] = (-self.delta if b1 else 0.0), (-self.delta if b2 else 0.0)
                gr, lr, cr = self._newton(cks, ks, ws, g0, np.zeros(ks.shape[1:]), "fixed", fixed, tol, 60)
                kn = ks * (1 + gr)
                ph = self._phi(cks, kn[0], kn[1])
                lam = np.exp(lr)
                violation = np.where(cr, 0.0, 1.0)
                for j, bj in enumerate((b1, b2)):
                    if bj:
                        violation = violation + np.maximum(0.0, -(lam * (1 + self.kappa * gr[j]) - ph[j][0]) / lam)
                    else:
                        violation = violation + np.maximum(0.0, -(gr[j] + self.delta))
                if best is None:
                    best = [violation, gr, lr]
                else:
                    better = violation < best[0]
                    best = [np.where(better, violation, best[0]), np.where(better[None], gr, best[1]), np.where(better, lr, best[2])]
        g = g.copy()
        ll = ll.copy()
        conv = conv.copy()
        g[(slice(None),) + idx] = best[1][:, :, 0]
        ll[idx] = best[2][:, 0]
        conv[idx] = best[0][:, 0] < 1e-10
        return g, ll, conv

    # --- solving ------------------------------------------------------------------------------------------------
    def _iteration_setup(self):
        nk, nz, q = self.nk, self.nz, len(self.w)
        z1 = np.broadcast_to(self.rho * self.z_nodes[:, None, None] + self.e1[None, None, :], (nz, nz, q)).reshape(-1)
        z2 = np.broadcast_to(self.rho * self.z_nodes[None, :, None] + self.e2[None, None, :], (nz, nz, q)).reshape(-1)
        kk1, kk2 = np.meshgrid(self.k_nodes, self.k_nodes, indexing="ij")
        self._it_z = (z1, z2)
        self._it_k = (np.broadcast_to(kk1.ravel(), (len(z1), nk * nk)), np.broadcast_to(kk2.ravel(), (len(z1), nk * nk)))
        self._it_guess = None

    def _update(self, phi):
        """One step of time iteration: Φ at the nodes → β·E[V(k′ node, ρz + shock)] with V from the allocation under Φ."""
        coef = self.coefficients(phi)
        z1, z2 = self._it_z
        ck = self._contract_z(coef, z1, z2)
        zz1 = np.broadcast_to(z1[:, None], self._it_k[0].shape)
        zz2 = np.broadcast_to(z2[:, None], self._it_k[0].shape)
        r = self._solve_states(ck, self._it_k[0], self._it_k[1], zz1, zz2, self._it_guess)
        self._it_guess = (r["g"], r["ll"])
        self._it_last = r
        V = r["V"].reshape(2, self.nz, self.nz, len(self.w), self.nk, self.nk)
        return self.beta * np.einsum("xcdqab,q->xabcd", V, self.w)

    def initial_phi(self, start=None):
        """Φ at the nodes from a policy (a function states → (λ, k′_1, k′_2)), by default the first-order perturbation."""
        pol = start or self.perturbation_policy()
        kk1, kk2, zz1, zz2, q = np.meshgrid(self.k_nodes, self.k_nodes, self.z_nodes, self.z_nodes, np.arange(len(self.w)), indexing="ij")
        z1 = self.rho * zz1 + self.e1[q]
        z2 = self.rho * zz2 + self.e2[q]
        states = np.column_stack([kk1.ravel(), kk2.ravel(), z1.ravel(), z2.ravel()])
        lam, kn1, kn2 = pol(states)
        V = []
        for j, kn in enumerate((kn1, kn2)):
            k = states[:, j]
            g = kn / k - 1
            R = self.zeta * self.A * np.exp(states[:, 2 + j]) * k ** (self.zeta - 1) + 1 - self.delta + 0.5 * self.kappa * g * (g + 2)
            V.append((lam * R).reshape(kk1.shape))
        return self.beta * np.einsum("xabcdq,q->xabcd", np.array(V), self.w)

    def solve(self, phi0=None, tol=1e-11, max_plain=400, switch=1e-3, memory=10, max_anderson=300):
        started = time.perf_counter()
        self._iteration_setup()
        phi = self.initial_phi() if phi0 is None else phi0
        plain = 0
        for plain in range(1, max_plain + 1):          # time iteration until close, then Anderson acceleration
            new = self._update(phi)
            change = float(np.max(np.abs(new - phi)))
            phi = new
            if self.verbose and plain % 10 == 0:
                print(f"  {self.model}: time iteration {plain}, max |ΔΦ| {change:.2e}", file=sys.stderr, flush=True)
            if change < switch:
                break
        phi, steps, residual = self._anderson(phi, tol, memory, max_anderson)
        self.coef = self.coefficients(phi)
        self.phi_nodes = phi
        self.info = dict(seconds=time.perf_counter() - started, time_iterations=plain, anderson_iterations=steps,
                         fixed_point_residual=residual, fallback_states_last_step=int(self._it_last["fallback"]))
        return self

    def _anderson(self, x0, tol, m, maxit):
        shape = x0.shape
        x = x0.ravel().copy()
        X, G = [], []
        best, xbest, gbest = np.inf, None, None
        res = np.inf
        for it in range(1, maxit + 1):
            fx = self._update(x.reshape(shape)).ravel()
            gx = fx - x
            res = float(np.max(np.abs(gx)))
            if self.verbose and it % 10 == 0:
                print(f"  {self.model}: Anderson step {it}, fixed-point residual {res:.2e}", file=sys.stderr, flush=True)
            if res < tol:
                return fx.reshape(shape), it, res
            if res > 4 * best:                      # safeguard: back to the best iterate, one damped plain step
                X, G = [], []
                x = xbest + 0.5 * gbest
                best = np.inf
                continue
            if res < best:
                best, xbest, gbest = res, x.copy(), gx.copy()
            X.append(x.copy())
            G.append(gx.copy())
            if len(X) > m + 1:
                X.pop(0)
                G.pop(0)
            if len(X) == 1:
                x = x + gx
            else:
                dG = np.array([G[i + 1] - G[i] for i in range(len(G) - 1)]).T
                dX = np.array([X[i + 1] - X[i] for i in range(len(X) - 1)]).T
                gamma, *_ = np.linalg.lstsq(dG, gx, rcond=None)
                x = x + gx - (dX + dG) @ gamma
        return xbest.reshape(shape) + gbest.reshape(shape), maxit, best

    # --- first-order perturbation (an independent check of the slopes at the steady state) -----------------------
    def perturbation(self):
        """Schmitt-Grohé–Uribe / Klein: x = (k_1, k_2, z_1, z_2), y = (λ, k′_1, k′_2); returns gx [3, 4] at the steady state."""
        b, zt, d, kap, A = self.beta, self.zeta, self.delta, self.kappa, self.A

        def f(v):
            yp, y, xp, x = v[0:3], v[3:6], v[6:10], v[10:14]
            lam, kn = y[0], y[1:3]
            k, z = x[0:2], x[2:4]
            kp, zp = xp[0:2], xp[2:4]
            g = kn / k - 1
            gp = yp[1:3] / kp - 1
            res = [np.sum(A * np.exp(z) * k ** zt + (1 - d) * k - kn - 0.5 * kap * k * g ** 2 - self.css * lam ** (-self.gammas))]
            for j in range(2):
                Rp = zt * A * np.exp(zp[j]) * kp[j] ** (zt - 1) + 1 - d + 0.5 * kap * gp[j] * (gp[j] + 2)
                res.append(b * yp[0] * Rp - lam * (1 + kap * g[j]))
            res += [kp[0] - kn[0], kp[1] - kn[1], zp[0] - self.rho * z[0], zp[1] - self.rho * z[1]]
            return np.array(res)

        ss = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0], float)
        if np.max(np.abs(f(ss))) > 1e-12:
            raise RuntimeError("the steady state does not solve the model's equations")
        jac = np.empty((7, 14))
        for i in range(14):
            h = 1e-6
            e = np.zeros(14)
            e[i] = h
            jac[:, i] = (f(ss + e) - f(ss - e)) / (2 * h)
        fyp, fy, fxp, fx = jac[:, 0:3], jac[:, 3:6], jac[:, 6:10], jac[:, 10:14]
        a_mat = np.hstack([fxp, fyp])
        b_mat = -np.hstack([fx, fy])
        # A·E[w′] = B·w: the stable generalized eigenvalues of (B, A) first
        _, _, alpha, beta_, _, zmat = linalg.ordqz(b_mat, a_mat, sort="iuc", output="complex")
        stable = int(np.sum(np.abs(alpha) < np.abs(beta_)))
        if stable != 4:
            raise RuntimeError(f"Blanchard–Kahn fails: {stable} stable eigenvalues for 4 states")
        z11, z21 = zmat[:4, :4], zmat[4:, :4]
        gx = np.real(z21 @ np.linalg.inv(z11))
        return gx

    def perturbation_policy(self):
        gx = self.perturbation()

        def pol(states):
            dev = np.asarray(states, float) - np.array([1.0, 1.0, 0.0, 0.0])
            y = 1.0 + dev @ gx.T
            return y[:, 0], y[:, 1], y[:, 2]
        return pol

    # --- the interface compare.py uses -----------------------------------------------------------------------
    def _allocation(self, states, chunk=2000):
        states = np.atleast_2d(np.asarray(states, float))
        n = len(states)
        out = {key: np.empty(n) for key in ("g1", "g2", "lam", "mu1", "mu2", "V1", "V2")}
        bad = 0
        for s in range(0, n, chunk):
            st = states[s:s + chunk]
            ck = self._contract_z(self.coef, st[:, 2], st[:, 3])
            r = self._solve_states(ck, st[:, 0:1], st[:, 1:2], st[:, 2:3], st[:, 3:4])
            sl = slice(s, s + len(st))
            out["g1"][sl], out["g2"][sl] = r["g"][0, :, 0], r["g"][1, :, 0]
            out["lam"][sl] = r["lam"][:, 0]
            out["mu1"][sl], out["mu2"][sl] = r["mu"][0, :, 0], r["mu"][1, :, 0]
            out["V1"][sl], out["V2"][sl] = r["V"][0, :, 0], r["V"][1, :, 0]
            bad += int((~r["converged"]).sum())
        self.unsettled_states = bad
        return out

    def policy(self, states):
        """k_next_j, lambda, c_j, i_j (and mu_j for the irreversible model) at states [n, 4] = (k_1, k_2, z_1, z_2)."""
        states = np.atleast_2d(np.asarray(states, float))
        a = self._allocation(states)
        out = {"lambda": a["lam"]}
        for j in (1, 2):
            k = states[:, j - 1]
            if self.irreversible:
                bound = a[f"g{j}"] <= -self.delta
                kn = np.where(bound, (1 - self.delta) * k, k * (1 + a[f"g{j}"]))
            else:
                kn = k * (1 + a[f"g{j}"])
            out[f"k_next_{j}"] = kn
            out[f"c_{j}"] = self.css * a["lam"] ** (-self.gammas[j - 1])
            out[f"i_{j}"] = kn - (1 - self.delta) * k
            if self.irreversible:
                out[f"mu_{j}"] = a[f"mu{j}"]
        return out

    def euler_errors(self, states, gh_nodes=10):
        """Per country the relative Euler error β·E[λ′R′_j − (1 − δ)μ′_j]/(λ(1 + κg_j)) − 1 (today's μ left out), with a
        Gauss–Hermite product rule of gh_nodes² nodes; the resource residual over world resources Σ_j(y_j + (1 − δ)k_j).
        Irreversible model: `euler_j` is the combined measure max(max(e, ic), min(−e, −ic)), ic = 1 − k′/((1 − δ)k),
        which is e where investment is positive and 0 where the constraint binds with μ ≥ 0; `euler_mu_j` is the
        equation as Irbc.cs writes it, (β·E[…] + μ_j)/(λ(1 + κg_j)) − 1."""
        states = np.atleast_2d(np.asarray(states, float))
        n = len(states)
        p = self.policy(states)
        e1, e2, w = gauss_hermite_2d(gh_nodes, self.sigma)
        q = len(w)
        nxt = np.column_stack([np.repeat(p["k_next_1"], q), np.repeat(p["k_next_2"], q),
                               (self.rho * states[:, 2][:, None] + e1).ravel(), (self.rho * states[:, 3][:, None] + e2).ravel()])
        a = self._allocation(nxt)
        k = states[:, 0:2]
        z = states[:, 2:4]
        lam = p["lambda"]
        out = {}
        for j in (1, 2):
            g = p[f"k_next_{j}"] / k[:, j - 1] - 1
            cost = lam * (1 + self.kappa * g)
            expect = self.beta * (a[f"V{j}"].reshape(n, q) @ w)
            e = expect / cost - 1
            if self.irreversible:
                ic = 1 - p[f"k_next_{j}"] / ((1 - self.delta) * k[:, j - 1])
                out[f"euler_{j}"] = np.maximum(np.maximum(e, ic), np.minimum(-e, -ic))
                out[f"euler_mu_{j}"] = (expect + p[f"mu_{j}"]) / cost - 1
            else:
                out[f"euler_{j}"] = e
        y = self.A * np.exp(z) * k ** self.zeta
        resources = (y + (1 - self.delta) * k).sum(1)
        spent = sum(p[f"k_next_{j}"] + 0.5 * self.kappa * k[:, j - 1] * (p[f"k_next_{j}"] / k[:, j - 1] - 1) ** 2 + p[f"c_{j}"] for j in (1, 2))
        out["resource"] = 1 - spent / resources
        return out

    def ergodic_sample(self, n, seed=0, chains=100, burn_in=1000, spacing=25):
        """n states from the ergodic distribution under this policy: `chains` paths from the steady state (k = 1, z = 0),
        `burn_in` periods, then every `spacing`-th period."""
        rng = np.random.default_rng(seed)
        chains = max(1, min(chains, n))
        draws = -(-n // chains)
        x = np.tile([1.0, 1.0, 0.0, 0.0], (chains, 1))
        out = []
        for t in range(burn_in + draws * spacing):
            p = self.policy(x)
            eps = rng.standard_normal((chains, 3))
            x = np.column_stack([p["k_next_1"], p["k_next_2"],
                                 self.rho * x[:, 2] + self.sigma * (eps[:, 0] + eps[:, 2]),
                                 self.rho * x[:, 3] + self.sigma * (eps[:, 1] + eps[:, 2])])
            if t >= burn_in and (t - burn_in + 1) % spacing == 0:
                out.append(x.copy())
        return np.concatenate(out)[:n]

    def box_sample(self, n, seed=0):
        """Uniform on the initial distribution of Irbc.cs: k_j ~ U[0.8, 1.2], z_j ~ U[−0.16, 0.16]."""
        rng = np.random.default_rng(seed)
        return np.column_stack([rng.uniform(*K_BOX, (n, 2)), rng.uniform(*Z_BOX, (n, 2))])

    def describe(self):
        i = self.info
        text = (f"Time iteration on the expectation term Φ_j(k′, z) = β·E[λ′R′_j − (1 − δ)μ′_j] as a function of chosen "
                f"capital and today's log TFP: a tensor Chebyshev interpolant with {self.nk} × {self.nk} × {self.nz} × {self.nz} "
                f"nodes on k′ ∈ [{self.k_box[0]}, {self.k_box[1]}]², z ∈ [{self.z_box[0]}, {self.z_box[1]}]² "
                f"({dict(polynomial='the polynomial extrapolates 20 % beyond, then linearly', linear='continued linearly', constant='held constant')[self.continuation]} outside); at every state the "
                f"allocation (k′_1, k′_2, λ) solves the Euler equations and the resource constraint exactly by Newton's method"
                + (" with the investment complementarity solved exactly per state (semismooth Newton on the min-function, "
                   "regime enumeration as fallback), so the kink is exact at every state" if self.irreversible else "")
                + f"; expectations over the two correlated next-period log-TFPs by a {self.nq} × {self.nq} Gauss–Hermite product rule; "
                f"time iteration then Anderson acceleration to a fixed-point residual of {i.get('fixed_point_residual', float('nan')):.1e} "
                f"({i.get('seconds', float('nan')):.0f} s).")
        if all(getattr(self, key) == (tuple(v) if isinstance(v, (tuple, list)) else v) for key, v in SETTINGS[self.model].items()):
            text += " " + ACCURACY[self.model]
        return text


# --- caching and the module entry point -------------------------------------------------------------------------------
def _cache_key(model, settings):
    blob = json.dumps({"version": METHOD_VERSION, "model": model, "calibration": CALIBRATION, "settings": settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _cache_path(model, settings):
    if settings == SETTINGS[model]:
        return os.path.join(CACHE_DIR, f"irbc-reference-{model}.npz")
    return os.path.join(CACHE_DIR, f"irbc-reference-{model}-{settings['nk']}x{settings['nz']}x{settings['nq']}.npz")


def _load_or_solve(model, settings=None, verbose=True):
    settings = settings or SETTINGS[model]
    ref = IrbcReference(model, **settings, verbose=verbose)
    path = _cache_path(model, settings)
    key = _cache_key(model, settings)
    if os.path.exists(path):
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) == key:
                    ref.coef = data["coef"]
                    ref.phi_nodes = data["phi"]
                    ref.info = json.loads(str(data["info"]))
                    ref.info["loaded_from"] = path
                    return ref
        except (OSError, KeyError, ValueError):
            pass
    if verbose:
        print(f"irbc.py: solving {model} (no cache at {path}) …", file=sys.stderr, flush=True)
    phi0 = None
    if ref.irreversible:
        # start from the smooth model's solution (solved first, or loaded from its cache)
        smooth = reference("irbc")
        phi0 = ref.initial_phi(lambda st: _policy_triplet(smooth, st))
    ref.solve(phi0)
    _save(ref, model, settings)
    return ref


def _policy_triplet(ref, states):
    p = ref.policy(states)
    return p["lambda"], p["k_next_1"], p["k_next_2"]


def _save(ref, model, settings):
    os.makedirs(CACHE_DIR, exist_ok=True)
    path = _cache_path(model, settings)
    tmp = path + f".tmp{os.getpid()}.npz"
    np.savez(tmp, key=_cache_key(model, settings), coef=ref.coef, phi=ref.phi_nodes, info=json.dumps(ref.info))
    os.replace(tmp, path)


_REFS: dict = {}


def reference(model: str, calibration: dict | None = None) -> IrbcReference:
    """The reference for `irbc` or `irbc-irreversible`. `calibration` (parameter name → value, as in the run's
    model.json) must match the calibration it is solved at: the defaults of Irbc.cs with two countries."""
    if model not in MODELS:
        raise KeyError(f"irbc.py has no reference for model '{model}' (has: {', '.join(MODELS)})")
    if calibration:
        for name, value in calibration.items():
            if name in CALIBRATION and abs(CALIBRATION[name] - float(value)) > 1e-12 * max(1.0, abs(CALIBRATION[name])):
                raise ValueError(f"{model}: the run has {name} = {value}, irbc.py is solved at {name} = {CALIBRATION[name]} "
                                 f"(only the defaults of Irbc.cs with two countries are supported)")
    if model not in _REFS:
        _REFS[model] = _load_or_solve(model)
    return _REFS[model]


def policy_gap(ref, other, states):
    """How far two solutions' policies are apart at states: investment in units of δk, k′ and λ relative, binding."""
    a, b = ref.policy(states), other.policy(states)
    out = {}
    for j in (1, 2):
        k = states[:, j - 1]
        out[f"i_{j}"] = _stats((a[f"i_{j}"] - b[f"i_{j}"]) / (ref.delta * k))
        out[f"k_next_{j}"] = _stats(a[f"k_next_{j}"] / b[f"k_next_{j}"] - 1)
    out["lambda"] = _stats(a["lambda"] / b["lambda"] - 1)
    if ref.irreversible:
        bind_a = np.array([a[f"i_{j}"] <= 1e-12 * states[:, j - 1] for j in (1, 2)])
        bind_b = np.array([b[f"i_{j}"] <= 1e-12 * states[:, j - 1] for j in (1, 2)])
        out["binding_agree_pairs"] = float((bind_a == bind_b).mean())
    return out


def _stats(e):
    a = np.abs(np.asarray(e))
    return {"mean": float(a.mean()), "max": float(a.max())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=MODELS, action="append", help="default: both")
    ap.add_argument("--n", type=int, default=2000, help="states in the ergodic and box samples for the Euler errors")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the numbers here")
    ap.add_argument("--check-against", metavar="NK,NZ,NQ",
                    help="also solve (or load) the model with these Chebyshev nodes in k′ and z and Gauss–Hermite nodes, and "
                         "report how far its policies are from the reference's on both samples (a resolution check)")
    args = ap.parse_args(argv)
    report = {}
    for model in args.model or MODELS:
        started = time.perf_counter()
        ref = reference(model)
        loaded = time.perf_counter() - started
        entry = {"method": ref.describe(), "solve": ref.info, "load_or_solve_seconds": loaded}
        t0 = time.perf_counter()
        erg = ref.ergodic_sample(args.n, args.seed)
        entry["ergodic_sample_seconds"] = time.perf_counter() - t0
        box = ref.box_sample(args.n, args.seed + 1)
        for name, states in (("ergodic", erg), ("box", box)):
            t0 = time.perf_counter()
            errs = ref.euler_errors(states)
            entry[f"euler_{name}"] = {key: _stats(v) for key, v in errs.items()}
            entry[f"euler_{name}_seconds"] = time.perf_counter() - t0
            if ref.irreversible:
                p = ref.policy(states)
                binds = np.array([(1 - ref.beta * (1 - ref.delta)) * p[f"mu_{j}"] / p["lambda"] > p[f"i_{j}"] / states[:, j - 1] for j in (1, 2)])
                entry[f"binding_share_{name}"] = {"pairs": float(binds.mean()), "states": float(binds.any(0).mean())}
        if args.check_against:
            nk, nz, nq = (int(v) for v in args.check_against.split(","))
            other = _load_or_solve(model, dict(SETTINGS[model], nk=nk, nz=nz, nq=nq))
            entry["resolution_check"] = {"against": [nk, nz, nq]}
            for name, states in (("ergodic", erg), ("box", box)):
                entry["resolution_check"][name] = policy_gap(ref, other, states)
        entry["ergodic_range"] = {c: [float(erg[:, i].min()), float(erg[:, i].max())] for i, c in enumerate(("k_1", "k_2", "z_1", "z_2"))}
        ss = ref.policy(np.array([[1.0, 1.0, 0.0, 0.0]]))
        entry["steady_state_policy"] = {key: float(v[0]) for key, v in ss.items()}
        # slopes at the steady state against the first-order perturbation (certainty equivalent: they differ by O(σ²))
        h = 1e-4
        slopes = np.empty((3, 4))
        for i in range(4):
            e = np.zeros(4)
            e[i] = h
            hi, lo = ref.policy(np.array([[1.0, 1.0, 0.0, 0.0]]) + e), ref.policy(np.array([[1.0, 1.0, 0.0, 0.0]]) - e)
            slopes[:, i] = [(hi[key][0] - lo[key][0]) / (2 * h) for key in ("lambda", "k_next_1", "k_next_2")]
        gx = ref.perturbation()
        entry["steady_state_slopes"] = {"reference": slopes.tolist(), "perturbation": gx.tolist(), "max_abs_gap": float(np.max(np.abs(slopes - gx)))}
        report[model] = entry
        print(f"{model}: {'loaded ' + ref.info['loaded_from'] if 'loaded_from' in ref.info else 'solved'} in {loaded:.1f} s "
              f"(solve: {ref.info.get('seconds', float('nan')):.0f} s, {ref.info.get('time_iterations')} time iterations + "
              f"{ref.info.get('anderson_iterations')} Anderson steps, fixed-point residual {ref.info.get('fixed_point_residual', float('nan')):.1e})")
        for name in ("ergodic", "box"):
            line = ", ".join(f"{key} mean {s['mean']:.1e} max {s['max']:.1e}" for key, s in entry[f"euler_{name}"].items())
            print(f"  {name:8s} ({args.n} states, GH 10×10): {line}")
            if ref.irreversible:
                b = entry[f"binding_share_{name}"]
                print(f"  {'':8s} constraint binds for {100 * b['pairs']:.1f} % of (state, country) pairs, {100 * b['states']:.1f} % of states")
        if "resolution_check" in entry:
            rc = entry["resolution_check"]
            for name in ("ergodic", "box"):
                line = ", ".join(f"{key} mean {v['mean']:.1e} max {v['max']:.1e}" if isinstance(v, dict) else f"{key} {v:.4f}" for key, v in rc[name].items())
                print(f"  vs {'×'.join(map(str, rc['against']))} on {name}: {line}")
        print(f"  steady state (1, 1, 0, 0): " + ", ".join(f"{k} {v:.6f}" for k, v in entry["steady_state_policy"].items()))
        print(f"  slopes d(λ, k′_1, k′_2)/d(k_1, k_2, z_1, z_2) at the steady state: max gap to the first-order perturbation "
              f"{entry['steady_state_slopes']['max_abs_gap']:.1e} (largest slope {np.max(np.abs(slopes)):.2f})")
        print("  ergodic ranges: " + ", ".join(f"{c} ∈ [{lo:.3f}, {hi:.3f}]" for c, (lo, hi) in entry["ergodic_range"].items()))
        print(f"  total {time.perf_counter() - started:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
