r"""The geometry of linear rank-1 learning: horizontal directions, curvature, holonomy.

Every loss of a linear rank-1 network (one input, one output) depends on the
overlaps through three function coordinates ``f = (sigma_zm, sigma_vu, sigma_zu
sigma_vm)``, so the gradient flow moves along three fields inside the level set of
the conserved quantities (:func:`horizontal_span`). Writing the flow as the
horizontal lift of its path in function space (:func:`horizontal_lifts`), the
memory of a small closed loop in function space is its enclosed area times the
curvature of the lifts, their Lie brackets (:func:`lift_curvature`,
:func:`loop_holonomy`). Chapter 4 uses these through :mod:`lrtools.memory`, which
re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import theory
from .conserved import conserved
from .overlaps import Overlaps, vector_names
from .tasks import Task

__all__ = ["horizontal_span", "horizontal_lifts", "lift_curvature", "loop_holonomy"]

_NAMES = vector_names(1, 1, 1)  # ("m", "u", "v", "z"), as lrtools.memory.NAMES
_M, _U, _V, _Z = range(4)


# ---------------------------------------------------------------------------
# the Lax structure: horizontal directions and their brackets (linear, rank 1)
# ---------------------------------------------------------------------------


def _unit(a: int, b: int) -> np.ndarray:
    E = np.zeros((4, 4))
    E[a, b] = E[b, a] = 1.0
    return E


def _horizontal_fields(S: np.ndarray) -> list[np.ndarray]:
    # Gamma of any linear rank-1 loss is dL/dzm E_zm + dL/dvu E_vu + dL/dp (vm E_zu + zu E_vm)
    # with p = zu vm; the flow direction of each is -(E S + S E).
    E3 = S[_V, _M] * _unit(_Z, _U) + S[_Z, _U] * _unit(_V, _M)
    return [E @ S + S @ E for E in (_unit(_Z, _M), _unit(_V, _U), E3)]


def horizontal_span(S: Overlaps | np.ndarray, h: float = 1e-6) -> dict:
    """Rank of the flow directions of linear rank-1 learning and of their Lie brackets.

    Every loss of a linear rank-1 network (one input, one output) is a function of
    ``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``, so at ``S`` the gradient flow can
    only move along the three fields ``F_i(S) = -(E_i S + S E_i)`` with ``E_1 =
    E_zm``, ``E_2 = E_vu``, ``E_3 = sigma_vm E_zu + sigma_zu E_vm``. They are tangent
    to the level set of :func:`conserved` (dimension ``10 - 5 = 5``). If their Lie
    brackets ``[F_i, F_j]`` (central differences, step ``h``) add directions, the
    distribution is not integrable and closed loops can leave a net displacement.

    Returns
    -------
    dict
        ``fields``: singular values of the 3 fields; ``brackets``: singular values of
        the fields with their 3 brackets (6 values); ``level_set_dim``: ``10 -`` rank
        of the Jacobian of the conserved quantities; ``tangent``: the largest change
        of the conserved quantities along any field or bracket (0 to ``O(h^2)``).
    """
    S = np.asarray(S.matrix if isinstance(S, Overlaps) else S, dtype=np.float64)
    iu = np.triu_indices(4)

    def jac(f, W):
        return (f(S + h * W) - f(S - h * W)) / (2 * h)

    fields = [lambda X, i=i: _horizontal_fields(X)[i] for i in range(3)]
    F = [f(S) for f in fields]
    brackets = [jac(fields[j], F[i]) - jac(fields[i], F[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    rows = [M[iu] for M in F]
    sv_fields = np.linalg.svd(np.array(rows), compute_uv=False)
    sv_all = np.linalg.svd(np.array(rows + [B[iu] for B in brackets]), compute_uv=False)

    def cons(X):
        return conserved(X)

    grads = []
    for a, b in zip(*iu, strict=True):
        grads.append(jac(cons, _unit(a, b) / (1.0 if a != b else 2.0)))
    sv_cons = np.linalg.svd(np.array(grads), compute_uv=False)
    rank_cons = int(np.sum(sv_cons > 1e-6 * sv_cons[0]))
    tangent = max(float(np.max(np.abs(jac(cons, W)))) for W in F + brackets)
    return {"fields": sv_fields, "brackets": sv_all, "level_set_dim": 10 - rank_cons,
            "tangent": tangent}



#: The pairs ``(j, k)``, ``j < k``, of the function coordinates
#: ``(sigma_zm, sigma_vu, sigma_zu sigma_vm)``.
_PAIRS = ((0, 1), (0, 2), (1, 2))


def _function_coords(S: np.ndarray) -> np.ndarray:
    return np.array([S[_Z, _M], S[_V, _U], S[_Z, _U] * S[_V, _M]])


def _function_rate(S: np.ndarray, dS: np.ndarray) -> np.ndarray:
    # the derivative of _function_coords along dS
    return np.array([dS[_Z, _M], dS[_V, _U], dS[_Z, _U] * S[_V, _M] + S[_Z, _U] * dS[_V, _M]])


def horizontal_lifts(S: Overlaps | np.ndarray) -> list[np.ndarray]:
    """The horizontal lifts ``H_1, H_2, H_3`` of the function coordinates at ``S``.

    Every loss of a linear rank-1 network depends on ``S`` through ``f =
    (sigma_zm, sigma_vu, sigma_zu sigma_vm)``, and the gradient flow moves along
    the three fields ``F_i`` of :func:`horizontal_span`. ``H_j`` is the combination
    of the ``F_i`` that changes ``f_j`` at unit rate and leaves the other two
    coordinates fixed (``df(H_j) = e_j``); any flow path is ``dS/dtau = sum_j
    H_j(S) df_j/dtau``, the horizontal lift of its own path in function space.

    Returns
    -------
    list of numpy.ndarray
        Three symmetric ``(4, 4)`` matrices (order ``m, u, v, z``).
    """
    S = np.asarray(S.matrix if isinstance(S, Overlaps) else S, dtype=np.float64)
    F = _horizontal_fields(S)
    D = np.array([_function_rate(S, Fi) for Fi in F]).T  # D[j, i] = df_j(F_i)
    if not np.all(np.isfinite(D)) or np.linalg.cond(D) > 1e12:
        raise ValueError("the flow directions do not move the three function coordinates "
                         "independently at this state (singular lift)")
    inv = np.linalg.inv(D)
    return [sum(F[i] * inv[i, j] for i in range(3)) for j in range(3)]


def lift_curvature(S: Overlaps | np.ndarray, h: float = 1e-6) -> dict[tuple[int, int], np.ndarray]:
    """The curvature of the flow's horizontal distribution: brackets ``[H_j, H_k]`` at ``S``.

    ``[X, Y] = DY X - DX Y`` (central differences, step ``h``) for the lifts of
    :func:`horizontal_lifts`. The brackets leave the function coordinates fixed
    (they are vertical): they are the directions in which a small closed loop in
    function space displaces the overlaps.

    Returns
    -------
    dict
        ``{(j, k): (4, 4) array}`` for ``(j, k)`` in ``(0, 1), (0, 2), (1, 2)``.
    """
    S = np.asarray(S.matrix if isinstance(S, Overlaps) else S, dtype=np.float64)
    H = horizontal_lifts(S)

    def jac(idx: int, W: np.ndarray) -> np.ndarray:
        return (horizontal_lifts(S + h * W)[idx] - horizontal_lifts(S - h * W)[idx]) / (2 * h)

    return {(j, k): jac(k, H[j]) - jac(j, H[k]) for j, k in _PAIRS}


def _flow_area(S: np.ndarray, tasks: Sequence[Task], t_end: float, f0: np.ndarray,
               rtol: float, atol: float) -> tuple[np.ndarray, np.ndarray]:
    """Flow through consecutive tasks, integrating the signed areas swept in function space.

    Returns the final overlaps and ``a_jk = 1/2 int (f_j - f0_j) df_k - (f_k - f0_k) df_j``.
    """
    from scipy.integrate import solve_ivp

    y = np.concatenate([S.ravel(), np.zeros(3)])
    for task in tasks:
        batch, w = theory._first_batch(task, None)

        def rhs(_t: float, y: np.ndarray, batch=batch, w=w, task=task) -> np.ndarray:
            Sm = y[:16].reshape(4, 4)
            _, G = theory.loss_and_gamma(Overlaps(Sm, _NAMES), batch, w, task.dt, "linear")
            GS = G @ Sm
            dS = -(GS + GS.T)
            f, df = _function_coords(Sm) - f0, _function_rate(Sm, dS)
            da = [0.5 * (f[j] * df[k] - f[k] * df[j]) for j, k in _PAIRS]
            return np.concatenate([dS.ravel(), da])

        sol = solve_ivp(rhs, (0.0, t_end), y, method="DOP853", rtol=rtol, atol=atol)
        if not sol.success:
            raise theory.DivergenceError(f"gradient flow integration failed: {sol.message}")
        y = sol.y[:, -1]
    Sm = y[:16].reshape(4, 4)
    return 0.5 * (Sm + Sm.T), y[16:]


def loop_holonomy(
    start: Overlaps,
    *,
    dcs: Sequence[float] = (0.003, 0.006, 0.0125, 0.025, 0.05, 0.1, 0.2, 0.4),
    c_A: float = 0.2,
    flow_time: float = 20.0,
    h: float = 1e-6,
    rtol: float = 1e-11,
    atol: float = 1e-13,
) -> dict[str, np.ndarray]:
    """Flow memory of small loops against the prediction curvature x enclosed area.

    The history pair of :func:`flow_loops`: from ``start`` the flow on task A
    (``exp(-c_A t)``) for a learning time ``flow_time`` reaches ``S_1``; then A, B
    (``c_A + dc``), A's last two phases against A, A. Both paths are horizontal
    lifts of their paths in function space ``f = (sigma_zm, sigma_vu, sigma_zu
    sigma_vm)``; together (closed by the short chord between their end points)
    they make a loop, and to second order in its size the difference of the end
    states is

        S_ABA - S_AAA = sum_{j<k} A_jk [H_j, H_k](S_1),

    with ``A_jk = 1/2 oint (f_j df_k - f_k df_j)`` the signed area the loop
    encloses in the ``(f_j, f_k)`` plane (integrated along the flow with the
    overlaps) and ``[H_j, H_k]`` the curvature of :func:`lift_curvature` at ``S_1``.

    Returns
    -------
    dict
        ``dcs``; ``measured`` and ``predicted`` ``(len(dcs), 4, 4)``; ``areas``
        ``(len(dcs), 3)`` (pairs ``(0, 1), (0, 2), (1, 2)``); ``ratio`` (norm of the
        prediction over the norm of the measured displacement) and ``cosine``
        (between them), each ``(len(dcs),)``; ``chord`` (the largest difference of
        the function coordinates at the two end points: the loop's opening).
    """
    from .tasks import ExponentialFilter

    dcs = np.asarray(dcs, dtype=float)
    if dcs.ndim != 1 or len(dcs) == 0 or np.any(dcs <= 0):
        raise ValueError(f"loop sizes must be positive, got {np.atleast_1d(dcs).tolist()}")
    if not (np.isfinite(flow_time) and flow_time > 0):
        raise ValueError(f"flow_time must be positive, got {flow_time}")
    M = np.asarray(start.matrix if isinstance(start, Overlaps) else start, dtype=np.float64)
    if M.shape != (4, 4):
        raise ValueError(f"loop_holonomy needs rank-1 overlaps (m, u, v, z), got shape {M.shape}")

    def task(c: float) -> Task:
        return ExponentialFilter(c=float(c), dt=0.05, t_max=20.0)

    S1, _ = _flow_area(M, [task(c_A)], flow_time, np.zeros(3), rtol, atol)
    f0 = _function_coords(S1)
    curv = lift_curvature(S1, h)
    S_aaa, a_aaa = _flow_area(S1, [task(c_A)] * 2, flow_time, f0, rtol, atol)
    Q = _function_coords(S_aaa) - f0
    out = {k: [] for k in ("measured", "predicted", "areas", "ratio", "cosine", "chord")}
    for dc in dcs:
        S_aba, a_aba = _flow_area(S1, [task(c_A + dc), task(c_A)], flow_time, f0, rtol, atol)
        P = _function_coords(S_aba) - f0
        chord = np.array([0.5 * (P[j] * Q[k] - P[k] * Q[j]) for j, k in _PAIRS])
        area = a_aba + chord - a_aaa
        pred = sum(area[i] * curv[jk] for i, jk in enumerate(_PAIRS))
        meas = S_aba - S_aaa
        out["measured"].append(meas)
        out["predicted"].append(pred)
        out["areas"].append(area)
        out["ratio"].append(np.linalg.norm(pred) / np.linalg.norm(meas))
        cos = np.sum(pred * meas) / (np.linalg.norm(pred) * np.linalg.norm(meas))
        out["cosine"].append(float(cos))
        out["chord"].append(float(np.max(np.abs(P - Q))))
    return {"dcs": dcs, **{k: np.array(v) for k, v in out.items()}}
