"""Compiled inner loops (numba): the N-dimensional network and the reduced theory.

Private module. Conventions shared by every kernel:

* ``X`` is the ``(N, k)`` float64 matrix of connectivity vectors; the integer
  arrays ``iM, iU, iV, iZ`` give the columns of the inputs, left factors, right
  factors and readouts.
* Activity is ``h[t] = M kM[t] + U kU[t]`` (exactly, for every nonlinearity,
  because ``h[0] = 0`` and every update lies in span{M, U}); ``kap[b, t]`` holds
  the ``d = n_in + R`` coordinates ``(kM, kU)``.
* Dynamics: ``h[t+1] = (1 - dt) h[t] + dt (U V^T phi(h[t]) / N + M x[t])`` and
  ``y[t] = Z^T phi(h[t+1]) / N`` for ``t = 0 .. T-1``.
* ``phi`` codes: 0 linear, 1 erf(sqrt(pi) x / 2), 2 tanh.

Gradients are hand-written adjoints (backpropagation through time); the test
suite checks them against finite differences and against PyTorch autograd.

The network kernels keep the vectors as contiguous rows (``X.T``) and run every
per-neuron operation as its own loop over neurons, which the compiler turns into
SIMD code; ``exp`` (in ``erf``'s derivative) and ``tanh`` are written out in
plain IEEE arithmetic for that purpose. Sums over neurons run in neuron order,
one running sum each, and nothing is reassociated (no ``fastmath``): the result
does not depend on the CPU's vector width or on the number of threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba import types as nbtypes
from numba.extending import intrinsic

from ._dispatch import _PARALLEL_WORK, _dual, parallel_mode  # noqa: F401  (K.parallel_mode)

LINEAR, ERF, TANH = 0, 1, 2
PHI_CODES = {"linear": LINEAR, "erf": ERF, "tanh": TANH}

_SQRT_PI_2 = math.sqrt(math.pi) / 2.0  # erf(sqrt(pi) x / 2) has slope 1 at 0
_PI_4 = math.pi / 4.0
_PI_2 = math.pi / 2.0

# Quadrature for the tanh gain E[phi'(sqrt(D) xi)], xi ~ N(0, 1), and its
# derivative; both are accurate to ~4e-15 for every D (checked against mpmath
# in tests/science/test_closure.py).
# Small D (<= _TANH_SWITCH): Gauss-Hermite in xi (the integrand is analytic in a
# strip of half-width pi / (2 sqrt(D)) around the real axis, wide when D is small;
# 80 nodes reach 2e-16 at D = 0.3 but only 2e-10 at D = 1).
_GH_N = 80
_gh_x, _gh_w = np.polynomial.hermite_e.hermegauss(_GH_N)
_GH_X = np.ascontiguousarray(_gh_x)
_GH_W = np.ascontiguousarray(_gh_w / math.sqrt(2.0 * math.pi))
# Larger D: trapezoidal rule in s = sqrt(D) xi with nodes s_j = j h. sech(s)^2 is
# analytic for |Im s| < pi/2; on the line Im s = 1.4 the Gaussian factor grows by
# at most exp(1.4^2 / (2 D)) <= 26 (D >= 0.3), so the error is about
# 26 / cos(1.4)^2 exp(-2 pi 1.4 / h) ~ 1e-16 for h = 0.2. sech^2 < 2e-17 beyond
# |s| = 20, and the Gaussian factor < 3e-18 beyond |s| = 9 sqrt(D) (the window).
# phi' = sech^2 and phi''' are tabulated at the nodes.
_TR_H = 0.2
_TR_MID = 100
_TR_S = np.arange(-_TR_MID, _TR_MID + 1) * _TR_H  # |s| <= 20
_tr_t = np.tanh(_TR_S)
_TR_Q = np.ascontiguousarray(1.0 - _tr_t * _tr_t)
_TR_Q3 = np.ascontiguousarray(_TR_Q * (6.0 * _tr_t * _tr_t - 2.0))
_TANH_SWITCH = 0.3


# --- exp, expm1 and tanh from +, *, comparisons and bit moves ----------------
# The C library's versions are calls the compiler cannot vectorise; these are
# plain IEEE operations (no fused multiply-add, no reassociation), so every CPU
# computes the same bits, and loops over neurons run in SIMD lanes. exp is within
# 1 ulp of the C library's (measured: 1 ulp apart in ~10% of arguments), tanh
# within 3 ulp.


@intrinsic
def _bits(typingctx, x):
    # the bits of a float64 as an int64
    if x != nbtypes.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return nbtypes.int64(nbtypes.float64), codegen


@intrinsic
def _float(typingctx, n):
    # the float64 whose bits are the int64 n
    if n != nbtypes.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return nbtypes.float64(nbtypes.int64), codegen


_SHIFT = 6755399441055744.0  # 1.5 * 2^52: x + _SHIFT rounds x to an integer in the low bits
_SHIFT_BITS = 0x4338000000000000
_INV_LN2 = 1.44269504088896338700e00
_LN2_HI = 6.93147180369123816490e-01  # trailing zeros: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
# Taylor coefficients 1/n!, n = 2..13 (truncation below 5e-18 for |r| <= ln2 / 2)
_E = tuple(1.0 / math.factorial(n) for n in range(2, 14))


@njit(cache=True, inline="always", error_model="numpy")
def _expm1_reduced(r):
    # expm1(r) = r + r^2 P(r) for |r| <= ln2 / 2 (Horner, highest power first)
    p = _E[11]
    p = _E[10] + r * p
    p = _E[9] + r * p
    p = _E[8] + r * p
    p = _E[7] + r * p
    p = _E[6] + r * p
    p = _E[5] + r * p
    p = _E[4] + r * p
    p = _E[3] + r * p
    p = _E[2] + r * p
    p = _E[1] + r * p
    p = _E[0] + r * p
    return r + (r * r) * p


@njit(cache=True, inline="always", error_model="numpy")
def _reduce(x):
    # x = k ln2 + r, |r| <= ln2 / 2: returns k (int64) and r (Cody-Waite, two parts)
    x = min(max(x, -745.5), 710.0)  # 0 and inf at the ends; NaN stays NaN
    kd = x * _INV_LN2 + _SHIFT
    ki = _bits(kd) - _SHIFT_BITS
    kd -= _SHIFT
    return ki, (x - kd * _LN2_HI) - kd * _LN2_LO


@njit(cache=True, inline="always", error_model="numpy")
def _scale(ki):
    # 2^ki as two factors, each a normal number for -1076 <= ki <= 1024
    k1 = ki >> 1
    return _float((k1 + 1023) << 52), _float((ki - k1 + 1023) << 52)


@njit(cache=True, inline="always", error_model="numpy")
def _exp(x):
    """exp(x): 0 below -745.5, inf above 710, NaN for NaN."""
    ki, r = _reduce(x)
    s1, s2 = _scale(ki)
    return ((1.0 + _expm1_reduced(r)) * s1) * s2


@njit(cache=True, inline="always", error_model="numpy")
def _expm1(x):
    """expm1(x), within 2 ulp, for the arguments of tanh (|x| <= 44)."""
    ki, r = _reduce(x)
    p = _expm1_reduced(r)
    # expm1(x) = 2^k p + (2^k - 1); 2^k - 1 is exact for the k that matter here
    s1, s2 = _scale(ki)
    two_k = s1 * s2
    return p if ki == 0 else two_k * p + (two_k - 1.0)


@njit(cache=True, inline="always", error_model="numpy")
def _tanh(x):
    """tanh(x) as fdlibm computes it from expm1, branch-free (vectorisable)."""
    ax = min(abs(x), 22.0)
    small = ax < 1.0
    t = _expm1(-2.0 * ax if small else 2.0 * ax)
    q = (0.0 - t if small else 2.0) / (t + 2.0)  # 0 - t: tanh(+0) = +0
    z = q if small else 1.0 - q
    z = 1.0 if ax >= 22.0 else z
    z = -z if x < 0.0 else z
    return z if x == x else x  # NaN stays NaN


@njit(cache=True, inline="always", error_model="numpy")
def phi_scalar(code, x):
    if code == LINEAR:
        return x
    if code == ERF:
        return math.erf(_SQRT_PI_2 * x)
    return _tanh(x)


@njit(cache=True, inline="always", error_model="numpy")
def dphi_scalar(code, x):
    if code == LINEAR:
        return 1.0
    if code == ERF:
        return _exp(-_PI_4 * x * x)
    t = _tanh(x)
    return 1.0 - t * t


@njit(cache=True, error_model="numpy")
def _tanh_gain(delta):
    # returns (E[phi'(h)], d/dDelta E[phi'(h)]) with h ~ N(0, delta);
    # the derivative is E[phi'''(h)] / 2 (Price's theorem).
    g = 0.0
    dg = 0.0
    if delta <= _TANH_SWITCH:
        s = math.sqrt(delta)
        for i in range(_GH_N):
            t = math.tanh(s * _GH_X[i])
            q = 1.0 - t * t
            g += _GH_W[i] * q
            dg += _GH_W[i] * q * (6.0 * t * t - 2.0)
    else:
        c = _TR_H / math.sqrt(2.0 * math.pi * delta)
        half = min(_TR_MID, int(9.0 * math.sqrt(delta) / _TR_H) + 1)
        for i in range(_TR_MID - half, _TR_MID + half + 1):
            s = _TR_S[i]
            w = c * math.exp(-0.5 * s * s / delta)
            g += w * _TR_Q[i]
            dg += w * _TR_Q3[i]
    return g, 0.5 * dg


@njit(cache=True, error_model="numpy")
def gain(code, delta):
    """(<phi'>, d<phi'>/dDelta) for a centred Gaussian of variance delta."""
    if code == LINEAR:
        return 1.0, 0.0
    if code == ERF:
        a = 1.0 + _PI_2 * delta
        g = 1.0 / math.sqrt(a)
        return g, -_PI_4 * g / a
    return _tanh_gain(delta)


@njit(cache=True, error_model="numpy")
def gain_array(code, delta):
    g = np.empty_like(delta)
    dg = np.empty_like(delta)
    for i in range(delta.size):
        g.flat[i], dg.flat[i] = gain(code, delta.flat[i])
    return g, dg


@njit(cache=True, error_model="numpy")
def phi_array(code, x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = phi_scalar(code, x.flat[i])
    return out


@njit(cache=True, error_model="numpy")
def dphi_array(code, x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = dphi_scalar(code, x.flat[i])
    return out


# ---------------------------------------------------------------------------
# N-dimensional network
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always", error_model="numpy")
def _activity(C, iM, iU, kap_t, n_in, code, h, a, p, want_p):
    # h = M kM + U kU, a = phi(h), p = phi'(h): loops over neurons the compiler
    # vectorises (each element is computed exactly as a scalar loop would)
    N = h.shape[0]
    h[:] = 0.0
    for j in range(n_in):
        c = kap_t[j]
        col = C[iM[j]]
        for i in range(N):
            h[i] += col[i] * c
    for j in range(iU.shape[0]):
        c = kap_t[n_in + j]
        col = C[iU[j]]
        for i in range(N):
            h[i] += col[i] * c
    if code == LINEAR:
        for i in range(N):
            a[i] = h[i]
            p[i] = 1.0
    elif code == ERF:
        for i in range(N):
            a[i] = math.erf(_SQRT_PI_2 * h[i])
        if want_p:
            for i in range(N):
                p[i] = _exp(-_PI_4 * h[i] * h[i])
    else:
        for i in range(N):
            a[i] = _tanh(h[i])
        for i in range(N):
            p[i] = 1.0 - a[i] * a[i]


def _net_forward(X, iM, iU, iV, iZ, x, dt, code, A, P, w):
    """Outputs ``y (B, T, n_out)``, coordinates ``kap (B, T+1, d)``, recurrence ``r``.

    ``r (B, T, R)`` holds ``V^T phi(h[t]) / N``, which the backward pass reuses.
    If ``A`` and ``P`` have shape ``(B, T+1, N)`` (not ``(0, 0, 0)``), they receive
    ``phi(h)`` and ``phi'(h)``, which the backward pass then reuses. Population
    averages are ``(1/N) sum_i``, or ``sum_i w_i`` when the weights ``w`` (shape
    ``(N,)``, not ``(0,)``) are given: the weighted rows of the population limit.
    Sums over neurons run in neuron order, one running sum each.
    """
    store = A.shape[0] > 0
    weighted = w.shape[0] > 0
    N = X.shape[0]
    B, T, n_in = x.shape
    R = iU.shape[0]
    n_out = iZ.shape[0]
    d = n_in + R
    C = np.ascontiguousarray(X.T)  # one contiguous row per vector
    # the readout and right factors, weighted (w_i x_i rounds exactly as before)
    WZ = np.empty((n_out, N))
    WV = np.empty((R, N))
    for o in range(n_out):
        for i in range(N):
            WZ[o, i] = w[i] * C[iZ[o], i] if weighted else C[iZ[o], i]
    for j in range(R):
        for i in range(N):
            WV[j, i] = w[i] * C[iV[j], i] if weighted else C[iV[j], i]
    y = np.zeros((B, T, n_out))
    kap = np.zeros((B, T + 1, d))
    rec = np.zeros((B, T, R))
    invN = 1.0 if weighted else 1.0 / N
    one = R == 1 and n_out == 1
    for b in prange(B):
        h = np.empty(N)
        a = np.empty(N)
        p = np.empty(N)
        for t in range(T + 1):
            _activity(C, iM, iU, kap[b, t], n_in, code, h, a, p, store)
            if store:
                A[b, t] = a
                P[b, t] = p
            if one and t >= 1 and t < T:
                # the readout and the recurrence in one pass: two running sums
                sz = 0.0
                sv = 0.0
                z0 = WZ[0]
                v0 = WV[0]
                for i in range(N):
                    sz += z0[i] * a[i]
                    sv += v0[i] * a[i]
                y[b, t - 1, 0] = sz * invN
                rec[b, t, 0] = sv * invN
            else:
                if t >= 1:
                    for o in range(n_out):
                        s = 0.0
                        zo = WZ[o]
                        for i in range(N):
                            s += zo[i] * a[i]
                        y[b, t - 1, o] = s * invN
                if t < T:
                    for j in range(R):
                        s = 0.0
                        vj = WV[j]
                        for i in range(N):
                            s += vj[i] * a[i]
                        rec[b, t, j] = s * invN
            if t < T:
                for j in range(n_in):
                    kap[b, t + 1, j] = (1.0 - dt) * kap[b, t, j] + dt * x[b, t, j]
                for j in range(R):
                    kap[b, t + 1, n_in + j] = ((1.0 - dt) * kap[b, t, n_in + j]
                                               + dt * rec[b, t, j])
    return y, kap, rec


def _net_backward(X, iM, iU, iV, iZ, x, kap, rec, gy, dt, code, A, P, w):
    """Gradient ``dX (N, k)`` of ``L`` given ``gy = dL/dy`` (shape ``(B, T, n_out)``).

    ``kap`` and ``rec``: from :func:`_net_forward`. ``A``, ``P``: ``phi(h)``,
    ``phi'(h)`` stored by the forward pass, or empty ``(0, 0, 0)`` arrays to
    recompute them from ``kap``. ``w``: the weights of :func:`_net_forward`; every
    contribution to row ``i`` then carries ``w_i`` (instead of ``1/N``).
    """
    stored = A.shape[0] > 0
    weighted = w.shape[0] > 0
    N, k = X.shape
    B, T, n_in = x.shape
    R = iU.shape[0]
    n_out = iZ.shape[0]
    C = np.ascontiguousarray(X.T)
    wv = np.empty(N)
    for i in range(N):
        wv[i] = w[i] if weighted else 1.0 / N
    dCb = np.zeros((B, k, N))
    for b in prange(B):
        dC = dCb[b]
        lam = np.zeros(N)
        h = np.empty(N)
        a = np.empty(N)
        p = np.empty(N)
        s = np.empty(N)
        c = np.empty(R)
        for t in range(T, -1, -1):
            if stored:
                a[:] = A[b, t]
                p[:] = P[b, t]
            else:
                _activity(C, iM, iU, kap[b, t], n_in, code, h, a, p, t >= 1)
            # lam holds dL/dh[t+1] (zero for t = T); propagate through
            # h[t+1] = (1-dt) h[t] + dt U r[t] + dt M x[t], r[t] = V^T a / N
            if t < T:
                for j in range(R):
                    acc = 0.0
                    uj = C[iU[j]]
                    for i in range(N):
                        acc += uj[i] * lam[i]
                    c[j] = dt * acc
                for j in range(R):
                    du = dC[iU[j]]
                    dv = dC[iV[j]]
                    rj = rec[b, t, j]
                    cj = c[j]
                    for i in range(N):
                        du[i] += dt * lam[i] * rj
                        dv[i] += a[i] * cj * wv[i]
                for j in range(n_in):
                    dm = dC[iM[j]]
                    xj = x[b, t, j]
                    for i in range(N):
                        dm[i] += dt * lam[i] * xj
            if t >= 1:
                # dL/dh[t] from y[t-1] = Z^T a / N and from h[t+1]
                s[:] = 0.0
                for o in range(n_out):
                    g = gy[b, t - 1, o]
                    zo = C[iZ[o]]
                    dz = dC[iZ[o]]
                    for i in range(N):
                        s[i] += zo[i] * g
                        dz[i] += a[i] * g * wv[i]
                if t < T:
                    for j in range(R):
                        cj = c[j]
                        vj = C[iV[j]]
                        for i in range(N):
                            s[i] += vj[i] * cj
                    for i in range(N):
                        lam[i] = (1.0 - dt) * lam[i] + p[i] * s[i] * wv[i]
                else:
                    for i in range(N):
                        lam[i] = p[i] * s[i] * wv[i]
    dC = np.zeros((k, N))
    for b in range(B):
        dC += dCb[b]
    return np.ascontiguousarray(dC.T)


@njit(cache=True, error_model="numpy")
def net_simulate(X, iM, iU, iV, iZ, x, dt, code, noise, record, w):
    """Full N-dimensional Euler simulation, with additive activity noise.

    ``h[t+1] = (1-dt) h[t] + dt (U V^T phi(h) / N + M x[t]) + noise[b, t]``.
    ``noise`` has shape ``(B, T, N)`` or ``(0, 0, 0)`` for none. Returns ``y`` and,
    if ``record``, the activity ``H (B, T+1, N)`` (else an empty array). With
    weights ``w`` (``(N,)``, not ``(0,)``) the averages ``1/N sum_i`` become
    ``sum_i w_i``.
    """
    N = X.shape[0]
    B, T, n_in = x.shape
    R = iU.shape[0]
    n_out = iZ.shape[0]
    weighted = w.shape[0] > 0
    invN = 1.0 if weighted else 1.0 / N
    noisy = noise.shape[0] > 0
    y = np.zeros((B, T, n_out))
    H = np.zeros((B, T + 1, N)) if record else np.zeros((0, 0, 0))
    h = np.zeros(N)
    a = np.empty(N)
    r = np.empty(R)
    for b in range(B):
        h[:] = 0.0
        for t in range(T + 1):
            for i in range(N):
                a[i] = phi_scalar(code, h[i])
            if record:
                H[b, t] = h
            if t >= 1:
                for o in range(n_out):
                    s = 0.0
                    for i in range(N):
                        s += (w[i] if weighted else 1.0) * X[i, iZ[o]] * a[i]
                    y[b, t - 1, o] = s * invN
            if t < T:
                for j in range(R):
                    s = 0.0
                    for i in range(N):
                        s += (w[i] if weighted else 1.0) * X[i, iV[j]] * a[i]
                    r[j] = s * invN
                for i in range(N):
                    drive = 0.0
                    for j in range(R):
                        drive += X[i, iU[j]] * r[j]
                    for j in range(n_in):
                        drive += X[i, iM[j]] * x[b, t, j]
                    h[i] = (1.0 - dt) * h[i] + dt * drive
                    if noisy:
                        h[i] += noise[b, t, i]
    return y, H


# ---------------------------------------------------------------------------
# Reduced (overlap) theory
# ---------------------------------------------------------------------------


#: Batch rows the reduced forward pass advances together (independent recursions
#: side by side, so the time recursion of one row does not wait on its own latency).
_LANES = 16


def _theory_forward(S, iM, iU, iV, iZ, x, dt, code):
    """Reduced dynamics of the coordinates; returns ``y (B, T, n_out)``, ``kap``.

    ``kap[t+1] = (1-dt) kap[t] + dt (x[t], g(D_t) S_VX kap[t])`` and
    ``y[t] = g(D_{t+1}) S_ZX kap[t+1]`` with ``D = kap^T S_XX kap`` and ``g`` the
    Gaussian gain (1 for linear networks). Blocks of ``_LANES`` batch rows advance
    in time together; each row's arithmetic is the same sequence of operations in
    the same order whatever the block, so the result does not depend on it.
    """
    B, T, n_in = x.shape
    R = iU.shape[0]
    n_out = iZ.shape[0]
    d = n_in + R
    iX = np.concatenate((iM, iU))
    SXX = np.empty((d, d))
    SVX = np.empty((R, d))
    SZX = np.empty((n_out, d))
    for i in range(d):
        for j in range(d):
            SXX[i, j] = S[iX[i], iX[j]]
        for j in range(R):
            SVX[j, i] = S[iV[j], iX[i]]
        for o in range(n_out):
            SZX[o, i] = S[iZ[o], iX[i]]
    y = np.zeros((B, T, n_out))
    kap = np.zeros((B, T + 1, d))
    n_blocks = (B + _LANES - 1) // _LANES
    for c in prange(n_blocks):
        b0 = c * _LANES
        nb = min(B, b0 + _LANES) - b0
        k = np.zeros((d, _LANES))
        k_next = np.zeros((d, _LANES))
        D = np.zeros(_LANES)
        g = np.ones(_LANES)
        acc = np.zeros(_LANES)
        for t in range(T + 1):
            if code != LINEAR:
                for lane in range(nb):
                    D[lane] = 0.0
                for i in range(d):
                    for j in range(d):
                        sij = SXX[i, j]
                        for lane in range(nb):
                            D[lane] += k[i, lane] * sij * k[j, lane]
                for lane in range(nb):
                    g[lane] = gain(code, D[lane])[0]
            if t >= 1:
                for o in range(n_out):
                    for lane in range(nb):
                        acc[lane] = 0.0
                    for i in range(d):
                        szx = SZX[o, i]
                        for lane in range(nb):
                            acc[lane] += szx * k[i, lane]
                    for lane in range(nb):
                        y[b0 + lane, t - 1, o] = g[lane] * acc[lane]
            if t < T:
                for j in range(n_in):
                    for lane in range(nb):
                        k_next[j, lane] = (1.0 - dt) * k[j, lane] + dt * x[b0 + lane, t, j]
                for j in range(R):
                    for lane in range(nb):
                        acc[lane] = 0.0
                    for i in range(d):
                        svx = SVX[j, i]
                        for lane in range(nb):
                            acc[lane] += svx * k[i, lane]
                    for lane in range(nb):
                        k_next[n_in + j, lane] = ((1.0 - dt) * k[n_in + j, lane]
                                                  + dt * g[lane] * acc[lane])
                for i in range(d):
                    for lane in range(nb):
                        k[i, lane] = k_next[i, lane]
                        kap[b0 + lane, t + 1, i] = k_next[i, lane]
    return y, kap


def _theory_backward(S, iM, iU, iV, iZ, kap, gy, dt, code):
    """``F = dL/dS`` with the entries of ``S`` treated as independent (``(k, k)``).

    The symmetric loss derivative of the paper is ``Gamma = F + F^T``.
    """
    k = S.shape[0]
    B, T1, d = kap.shape
    T = T1 - 1
    R = iU.shape[0]
    n_in = d - R
    n_out = iZ.shape[0]
    iX = np.concatenate((iM, iU))
    Fb = np.zeros((B, k, k))
    for b in prange(B):
        F = Fb[b]
        q_next = np.zeros(d)
        q = np.zeros(d)
        rho = np.zeros(R)
        for t in range(T, -1, -1):
            kt = kap[b, t]
            D = 0.0
            if code != LINEAR:
                for i in range(d):
                    for j in range(d):
                        D += kt[i] * S[iX[i], iX[j]] * kt[j]
            g, dgdD = gain(code, D)
            dg = 0.0
            for i in range(d):
                q[i] = 0.0
            if t >= 1:
                for o in range(n_out):
                    go = gy[b, t - 1, o]
                    s = 0.0
                    for i in range(d):
                        s += S[iZ[o], iX[i]] * kt[i]
                        F[iZ[o], iX[i]] += g * go * kt[i]
                        q[i] += g * S[iZ[o], iX[i]] * go
                    dg += go * s
            if t < T:
                for i in range(d):
                    q[i] += (1.0 - dt) * q_next[i]
                for j in range(R):
                    rho[j] = dt * q_next[n_in + j]
                    s = 0.0
                    for i in range(d):
                        s += S[iV[j], iX[i]] * kt[i]
                        F[iV[j], iX[i]] += g * rho[j] * kt[i]
                        q[i] += g * S[iV[j], iX[i]] * rho[j]
                    dg += rho[j] * s
            if code != LINEAR:
                dD = dg * dgdD
                for i in range(d):
                    s = 0.0
                    for j in range(d):
                        F[iX[i], iX[j]] += dD * kt[i] * kt[j]
                        s += (S[iX[i], iX[j]] + S[iX[j], iX[i]]) * kt[j]
                    q[i] += dD * s
            for i in range(d):
                q_next[i] = q[i]
    F = np.zeros((k, k))
    for b in range(B):
        F += Fb[b]
    return F


# ---------------------------------------------------------------------------
# Many rank-1 networks at once (one input, one output)
# ---------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _rank1_forward_row(km, ku, g, ku_next, mm, mu, uu, vm, vu, dt, erf):
    # one time step of kappa_u and the gain for every trial (vectorised over trials)
    for b in range(km.shape[0]):
        a = km[b]
        c = ku[b]
        gt = 1.0
        if erf:
            gt = 1.0 / math.sqrt(1.0 + _PI_2 * (mm * a * a + 2.0 * mu * a * c + uu * c * c))
        g[b] = gt
        ku_next[b] = (1.0 - dt) * c + dt * gt * (vm * a + vu * c)


@njit(cache=True, error_model="numpy")
def _rank1_backward_row(km, ku, g, target, w, lam, acc, zm, zu, vm, vu, mu, uu, dt, last, erf):
    # one time step of the adjoint for every trial; acc holds per-trial sums:
    # 0-3 zm, zu, vm, vu; 4-6 mm, mu, uu; 7 loss
    a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
    a4, a5, a6, a7 = acc[4], acc[5], acc[6], acc[7]
    for b in range(km.shape[0]):
        a = km[b]
        c = ku[b]
        gt = g[b]
        o = zm * a + zu * c
        err = gt * o - target[b]
        wt = w[b]
        a7[b] += wt * err * err
        gy = 2.0 * wt * err
        psi = gy * o
        lnext = lam[b]
        newl = gy * gt * zu
        if not last:
            psi += lnext * dt * (vm * a + vu * c)
            a2[b] += lnext * dt * gt * a
            a3[b] += lnext * dt * gt * c
            newl += lnext * ((1.0 - dt) + dt * gt * vu)
        a0[b] += gy * gt * a
        a1[b] += gy * gt * c
        if erf:
            psi *= -0.5 * _PI_2 * gt * gt * gt  # dL/dDelta; dg/dDelta = -(pi/4) g^3
            a4[b] += psi * a * a
            a5[b] += 2.0 * psi * a * c
            a6[b] += psi * c * c
            newl += 2.0 * psi * (mu * a + uu * c)
        lam[b] = newl


@njit(cache=True, error_model="numpy", nogil=True)
def rank1_many(S, x, target, w, dt, erf):
    """Loss and ``Gamma`` of the reduced theory for ``n`` rank-1 networks on one batch.

    ``S (n, 4, 4)`` in the order ``(m, u, v, z)``; ``x, target, w (B, T)``; ``erf``
    selects the erf gain (else linear). The input coordinate ``kappa_m`` is shared
    by all networks and computed once; each network runs ``kappa_u`` and its adjoint
    (the equations of ``_theory_forward`` / ``_theory_backward`` written out for
    rank 1). Returns ``L (n,)`` and ``Gamma (n, 4, 4)``.

    The inner loops run over the batch, one time step at a time, with one
    accumulator per trial, summed in trial order at the end: the compiler
    vectorises them without reassociating any sum (no ``fastmath``), so the result
    is bit-identical whatever the CPU's vector width. The GIL is released, so
    disjoint sets of networks can run on several threads.
    """
    n = S.shape[0]
    B, T = x.shape
    km = np.zeros((T + 1, B))
    for t in range(T):
        for b in range(B):
            km[t + 1, b] = (1.0 - dt) * km[t, b] + dt * x[b, t]
    tg = np.ascontiguousarray(target.T)
    wt = np.ascontiguousarray(w.T)
    L = np.zeros(n)
    Gam = np.zeros((n, 4, 4))
    ku = np.zeros((T + 1, B))
    g = np.ones((T + 1, B))
    spare = np.empty(B)
    lam = np.zeros(B)
    acc = np.zeros((8, B))
    tot = np.zeros(8)
    for i in range(n):
        mm, mu, uu = S[i, 0, 0], S[i, 0, 1], S[i, 1, 1]
        vm, vu, zm, zu = S[i, 2, 0], S[i, 2, 1], S[i, 3, 0], S[i, 3, 1]
        ku[0, :] = 0.0
        for t in range(T):
            _rank1_forward_row(km[t], ku[t], g[t], ku[t + 1], mm, mu, uu, vm, vu, dt, erf)
        _rank1_forward_row(km[T], ku[T], g[T], spare, mm, mu, uu, vm, vu, dt, erf)
        acc[:, :] = 0.0
        lam[:] = 0.0
        for t in range(T, 0, -1):
            _rank1_backward_row(km[t], ku[t], g[t], tg[t - 1], wt[t - 1], lam, acc, zm, zu,
                                vm, vu, mu, uu, dt, t == T, erf)
        tot[:] = 0.0
        for b in range(B):
            for q in range(8):
                tot[q] += acc[q, b]
        L[i] = tot[7]
        G = Gam[i]
        G[0, 0] = 2.0 * tot[4]
        G[1, 1] = 2.0 * tot[6]
        G[0, 1] = G[1, 0] = tot[5]
        G[2, 0] = G[0, 2] = tot[2]
        G[2, 1] = G[1, 2] = tot[3]
        G[3, 0] = G[0, 3] = tot[0]
        G[3, 1] = G[1, 3] = tot[1]
    return L, Gam


# Each batched kernel is compiled twice, serial and parallel (lrtools._dispatch).
net_forward = _dual(_net_forward)
net_backward = _dual(_net_backward)
theory_forward = _dual(_theory_forward)
theory_backward = _dual(_theory_backward)


def warmup() -> None:
    """Compile (or load from numba's cache) every kernel on tiny inputs."""
    X = np.random.default_rng(0).standard_normal((6, 4))
    idx = [np.array([i], dtype=np.int64) for i in range(4)]
    x = np.zeros((2, 2, 1))
    S = X.T @ X / 6
    for code in (LINEAR, ERF, TANH):
        none = np.zeros((0, 0, 0))
        for work in (0, _PARALLEL_WORK):
            for A, P in ((none, none), (np.empty((2, 3, 6)), np.empty((2, 3, 6)))):
                for w in (np.zeros(0), np.full(6, 1.0 / 6)):
                    y, kap, rec = net_forward(X, *idx, x, 0.1, code, A, P, w, work=work)
                    net_backward(X, *idx, x, kap, rec, y, 0.1, code, A, P, w, work=work)
            y, kap = theory_forward(S, *idx, x, 0.1, code, work=work)
            theory_backward(S, *idx, kap, y, 0.1, code, work=work)
        net_simulate(X, *idx, x, 0.1, code, np.zeros((0, 0, 0)), False, np.zeros(0))
    from ._sampling import flip_flop_pulses

    flip_flop_pulses(np.random.default_rng(0), 2, 40, 0.1, 0.5, 0.5, 2.0, 1.0, 2.0)


__all__ = ["PHI_CODES", "numba"]
