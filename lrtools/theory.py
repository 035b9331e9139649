r"""Learning in overlap space: reduced activity, the loss of ``S``, the exact map.

**Reduced activity.** The activity of a low-rank network stays in the span of
its input and left factors, ``h = M kM + U kU``. Its coordinates follow

.. math::

    \kappa_{t+1} = (1 - dt)\,\kappa_t + dt\,\bigl(x_t,\; g(\Delta_t)\, S_{VX} \kappa_t\bigr),
    \qquad y_t = g(\Delta_{t+1})\, S_{ZX} \kappa_{t+1},

with ``X = [M, U]`` and ``Delta = kappa^T S_XX kappa``. For linear networks
``g = 1`` and this is exact at any N. For a nonlinearity ``phi`` and Gaussian
vector entries (large N) Stein's lemma gives ``v . phi(h) / N -> <phi'> (S_VX
kappa)`` with the gain ``g(Delta) = <phi'(h)>``, ``h ~ N(0, Delta)``: closed
form ``1 / sqrt(1 + pi Delta / 2)`` for ``erf(sqrt(pi) x / 2)``, quadrature for
``tanh`` (:func:`gain`).

**Learning.** With the loss a function ``L(S)`` and ``Gamma`` its symmetric
derivative (``Gamma_ab = dL/dsigma_ab`` for ``a != b``, ``2 dL/dsigma_aa`` on the
diagonal), gradient descent on the vectors with rate ``N eta`` is
``X' = X (I - eta Gamma)``, so exactly

.. math::

    S' = (I - \eta \Gamma) S (I - \eta \Gamma), \qquad
    \frac{dS}{d\tau} = -(\Gamma S + S \Gamma) \quad (\tau = \eta \cdot \text{epoch}).

(Ger & Barak, 2026.) Written for the vector ``sigma`` of overlaps the flow is
``d sigma / d tau = -G(S) grad_sigma L`` with the preconditioner ``G``
(:func:`preconditioner`), which depends on the invisible overlaps too.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence

import numpy as np
from scipy.integrate import solve_ivp

from . import _kernels as K
from . import _progress
from ._checks import (
    check_dt,
    check_epochs,
    check_input,
    check_nonnegative,
    check_rate,
    phi_code,
    shape_from_names,
)
from .history import DivergenceError, History
from .network import squared_error
from .overlaps import Overlaps, left_right, psd_sqrt
from .tasks import Batch, Task, batches

__all__ = [
    "run",
    "loss",
    "gamma",
    "loss_and_gamma",
    "loss_and_gamma_many",
    "learn",
    "learn_many",
    "overlap_noise",
    "flow",
    "preconditioner",
    "overlap_gradient",
    "invariants",
    "gain",
    "filter_optimum",
    "UPDATES",
    "CLOSURES",
]

UPDATES = ("exact", "first-order", "direct")
CLOSURES = ("gaussian", "population")

# Loss growth (relative to the initial loss + 1) taken as divergence.
_DIVERGENCE_FACTOR = 1e6


def _indices(names: Sequence[str]) -> tuple[np.ndarray, ...]:
    rank, n_in, n_out = shape_from_names(names)
    c = np.cumsum([0, n_in, rank, rank, n_out])
    return tuple(np.arange(c[i], c[i + 1], dtype=np.int64) for i in range(4))


def _work(x: np.ndarray) -> int:
    # rough operation count of a reduced-theory pass, for choosing the parallel kernel
    return 16 * x.shape[0] * x.shape[1]


def _as_overlaps(S: Overlaps) -> Overlaps:
    if not isinstance(S, Overlaps):
        raise TypeError(f"expected lrtools.Overlaps, got {type(S).__name__}")
    return S


def gain(delta: np.ndarray | float, phi: str = "erf") -> tuple[np.ndarray, np.ndarray]:
    """Gaussian gain ``g(Delta) = E[phi'(h)]``, ``h ~ N(0, Delta)``, and ``dg/dDelta``.

    ``phi="erf"``: ``g = (1 + pi Delta / 2)^(-1/2)`` (closed form).
    ``phi="tanh"``: Gauss-Hermite quadrature for ``Delta <= 1`` and the
    trapezoidal rule in ``h`` above (both exponentially accurate).
    ``phi="linear"``: ``g = 1``.
    """
    d = np.atleast_1d(np.asarray(delta, dtype=np.float64))
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise ValueError("the variance Delta must be finite and non-negative")
    g, dg = K.gain_array(phi_code(phi), np.ascontiguousarray(d))
    if np.ndim(delta) == 0:
        return g[0], dg[0]
    return g.reshape(np.shape(delta)), dg.reshape(np.shape(delta))


def run(
    S: Overlaps, x: np.ndarray, dt: float, phi: str = "linear", *, device: str | None = None
) -> np.ndarray:
    """Reduced prediction of the network output, same shapes as ``LowRankRNN.run``.

    Parameters
    ----------
    S : Overlaps
        Overlaps of the network.
    x : array_like, shape (B, T, n_in)
        Input.
    dt : float
        Euler step.
    phi : {"linear", "erf", "tanh"}
        Nonlinearity (nonlinear: the Gaussian, large-N limit).
    device : str, optional
        ``None``/``"cpu"``: compiled CPU kernel; another torch device: PyTorch.

    Returns
    -------
    numpy.ndarray, shape (B, T, n_out)
    """
    S = _as_overlaps(S)
    idx = _indices(S.names)
    x = check_input(x, len(idx[0]))
    if device not in (None, "cpu"):
        from . import _torch

        phi_code(phi)
        with _torch.torch.no_grad():
            y, _ = _torch.theory_run(S.matrix, idx, x, check_dt(dt), phi, device)
        return y.cpu().numpy()
    y, _ = K.theory_forward(np.ascontiguousarray(S.matrix), *idx, x, check_dt(dt),
                            phi_code(phi), work=_work(x))
    return y


def loss_and_gamma(
    S: Overlaps, batch: Batch, weights: np.ndarray, dt: float, phi: str = "linear",
    *, device: str | None = None,
) -> tuple[float, np.ndarray]:
    """Loss ``L(S) = sum w (y - y*)^2`` on one batch and ``Gamma`` (``(k, k)``, symmetric).

    ``Gamma = F + F^T`` where ``F`` is the derivative of ``L`` with respect to the
    entries of ``S`` taken as independent, which gives ``Gamma_ab = dL/dsigma_ab``
    (``a != b``) and ``Gamma_aa = 2 dL/dsigma_aa``.
    """
    x, target, _ = batch
    idx = _indices(S.names)
    x = check_input(x, len(idx[0]))
    return _loss_and_gamma(np.ascontiguousarray(S.matrix), idx, x, target, weights,
                           check_dt(dt), phi, device)


def _loss_and_gamma(Sm, idx, x, target, weights, dt, phi, device):
    if device not in (None, "cpu"):
        from . import _torch

        return _torch.theory_loss_and_gamma(Sm, idx, x, target, weights, dt, phi, device)
    code = phi_code(phi)
    y, kap = K.theory_forward(Sm, *idx, x, dt, code, work=_work(x))
    L, gy = squared_error(y, target, weights)
    F = K.theory_backward(Sm, *idx, kap, gy, dt, code, work=_work(x))
    return L, F + F.T


def loss_and_gamma_many(
    S: np.ndarray, batch: Batch, weights: np.ndarray, dt: float, phi: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """Loss and ``Gamma`` of many rank-1 networks (one input, one output) on one batch.

    The computation of :func:`loss_and_gamma` (equal to round-off, tested), fused
    over the networks: the input coordinate is shared and computed once. For
    sweeps and twin experiments that learn hundreds of networks side by side.

    Parameters
    ----------
    S : numpy.ndarray, shape (n, 4, 4)
        Overlap matrices, order ``(m, u, v, z)``.
    batch : tuple
        ``(x, target, mask)``, each ``(B, T, 1)``.
    weights : numpy.ndarray, shape (B, T, 1)
        Loss weights (:meth:`Task.loss_weights`).
    dt : float
        Euler step.
    phi : {"linear", "erf"}
        Nonlinearity.

    Returns
    -------
    L : numpy.ndarray, shape (n,)
    Gamma : numpy.ndarray, shape (n, 4, 4)
    """
    if phi not in ("linear", "erf"):
        raise ValueError(f"loss_and_gamma_many supports phi='linear' or 'erf', got {phi!r}")
    S = np.ascontiguousarray(S, dtype=np.float64)
    if S.ndim != 3 or S.shape[1:] != (4, 4):
        raise ValueError(f"S must have shape (n, 4, 4) (rank 1: m, u, v, z), got {S.shape}")
    x, target, _ = batch
    if x.ndim != 3 or x.shape[2] != 1 or target.shape != x.shape or weights.shape != x.shape:
        raise ValueError("one input and one output expected: x, target, weights of shape (B, T, 1)")
    args = (*(np.ascontiguousarray(a[:, :, 0], dtype=np.float64) for a in (x, target, weights)),
            check_dt(dt), phi == "erf")
    threads = 1 if K.parallel_mode() == "never" else min(K.numba.get_num_threads(), len(S))
    if threads < 2 or (K.parallel_mode() == "auto" and
                       len(S) * x.shape[0] * x.shape[1] < _MANY_PARALLEL_WORK):
        return K.rank1_many(S, *args)
    # networks are independent: disjoint chunks on threads (the kernel releases the
    # GIL), the same numbers as one call
    chunks = np.array_split(np.arange(len(S)), threads)
    parts = list(_thread_pool(threads).map(lambda idx: K.rank1_many(S[idx], *args), chunks))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# trials x steps x networks above which loss_and_gamma_many splits the networks on threads
_MANY_PARALLEL_WORK = 200_000
_POOLS: dict[int, concurrent.futures.ThreadPoolExecutor] = {}


def _thread_pool(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    if threads not in _POOLS:
        _POOLS[threads] = concurrent.futures.ThreadPoolExecutor(threads,
                                                                thread_name_prefix="lrtools")
    return _POOLS[threads]


def _first_batch(task: Task, seed: np.random.Generator | int | None) -> tuple[Batch, np.ndarray]:
    batch = next(batches(task, seed))
    return batch, task.loss_weights(batch[2])


def loss(S: Overlaps, task: Task, phi: str = "linear", *, seed: int | None = None) -> float:
    """Loss of the reduced network on the task's (first, for random tasks) batch."""
    batch, w = _first_batch(task, seed)
    return loss_and_gamma(_as_overlaps(S), batch, w, task.dt, phi)[0]


def gamma(S: Overlaps, task: Task, phi: str = "linear", *, seed: int | None = None) -> np.ndarray:
    """``Gamma(S)`` (``(k, k)``) on the task's (first, for random tasks) batch."""
    batch, w = _first_batch(task, seed)
    return loss_and_gamma(_as_overlaps(S), batch, w, task.dt, phi)[1]


def overlap_gradient(Gamma: np.ndarray) -> np.ndarray:
    """``dL/dS`` as a symmetric matrix of partial derivatives from ``Gamma``.

    Off-diagonal entries equal ``Gamma``; diagonal entries are ``Gamma_aa / 2``.
    """
    D = np.array(Gamma, dtype=np.float64)
    np.fill_diagonal(D, np.diag(Gamma) / 2.0)
    return D


def _diverged(what: str, epoch: int, L: float, L0: float, eta: float) -> DivergenceError:
    return DivergenceError(
        f"{what} diverged at epoch {epoch}: loss {L:.3g} (initial {L0:.3g}); "
        f"the learning rate eta={eta:g} is too large for this problem, reduce it"
    )


def overlap_noise(S: np.ndarray, s: float, N: int, rng: np.random.Generator) -> np.ndarray:
    r"""Change of overlap matrices ``(n, k, k)`` when i.i.d. noise ``s`` hits ``N x k`` vectors.

    With ``X' = X + s xi`` (``xi`` standard normal, ``N x k``) and ``S = X^T X / N``,

    .. math:: S' - S = \frac{s}{\sqrt N}\bigl(S^{1/2} C + C^\top S^{1/2}\bigr)
        + \frac{s^2}{N}\bigl(C^\top C + W\bigr)

    exactly in distribution, with ``C`` a ``k x k`` matrix of independent standard
    normals and ``W`` an independent Wishart matrix with ``N - k`` degrees of freedom
    (``X^T xi = B^T Q^T xi`` for an orthonormal basis ``Q`` of the vectors' span and
    ``B^T B = N S``; the part of ``xi`` outside the span gives ``W``, drawn here by
    Bartlett's decomposition). It costs the same at every ``N >= k``.
    """
    n, k, _ = S.shape
    C = rng.standard_normal((n, k, k))
    A = np.zeros((n, k, k))
    il = np.tril_indices(k, -1)
    A[:, il[0], il[1]] = rng.standard_normal((n, len(il[0])))
    A[:, np.arange(k), np.arange(k)] = np.sqrt(rng.chisquare(N - k - np.arange(k), size=(n, k)))
    RC = psd_sqrt(S) @ C
    return (s / np.sqrt(N)) * (RC + RC.transpose(0, 2, 1)) + (s * s / N) * (
        C.transpose(0, 2, 1) @ C + A @ A.transpose(0, 2, 1))


def _record_epochs(epochs: int, every: int | None) -> list[int]:
    if every is None:
        return []
    every = check_epochs(every, minimum=1, name="record_every")
    return sorted(set(range(0, epochs, every)) | {epochs})


def _gamma_function(names, phi, task, device, fused):
    """``f(S (n, k, k), batch, weights) -> (L (n,), Gamma (n, k, k))`` for the learner."""
    idx = _indices(names)
    if fused:
        return lambda S, b, w: loss_and_gamma_many(S, b, w, task.dt, phi)

    def per_network(S, b, w):
        x = check_input(b[0], len(idx[0]))
        if len(S) == 1:
            L, G = _loss_and_gamma(np.ascontiguousarray(S[0]), idx, x, b[1], w, task.dt, phi,
                                   device)
            return np.array([L]), G[None]
        out = [_loss_and_gamma(np.ascontiguousarray(Sm), idx, x, b[1], w, task.dt, phi, device)
               for Sm in S]
        return np.array([o[0] for o in out]), np.array([o[1] for o in out])

    return per_network


def _overlap_learning(S0, names, task, epochs, eta, phi, update, *, seed, weight_decay,
                      weight_noise, N, noise_seed, eta_drop, record_every, fused, device,
                      progress, what):
    """The one loop of learning in overlap space, for ``n`` networks at once.

    Every network sees the same batch at each epoch (one stream from ``seed``).
    Returns the loss ``(epochs, n)``, the recorded overlaps, the final rates and the
    epochs at which a rate was dropped.
    """
    S = np.array(S0, dtype=np.float64)
    n, k = S.shape[0], S.shape[1]
    epochs = check_epochs(epochs)
    if update not in UPDATES:
        raise ValueError(f"unknown update {update!r}; expected one of {UPDATES}")
    phi_code(phi)
    rates = np.broadcast_to(np.asarray(check_rate(eta), dtype=np.float64), (n,)).copy()
    weight_decay = check_nonnegative(weight_decay, "weight_decay")
    weight_noise = check_nonnegative(weight_noise, "weight_noise")
    if weight_noise > 0 and (N is None or int(N) != N or N < k):
        raise ValueError(f"synaptic noise needs the number of neurons N >= {k}, got N={N}")
    if eta_drop is not None and not (eta_drop[0] > 0 and eta_drop[1] >= 1):
        raise ValueError(f"eta_drop must be (threshold > 0, factor >= 1), got {eta_drop}")
    noise_rng = np.random.default_rng(noise_seed) if weight_noise > 0 else None
    gam = _gamma_function(names, phi, task, device, fused)
    eye = np.eye(k)
    loss = np.empty((epochs, n))
    drop = np.full(n, -1)
    rec_epochs = _record_epochs(epochs, record_every)
    recs = []
    stream = batches(task, seed)
    L0 = None
    for epoch in _progress.bar(range(epochs), total=epochs, desc=f"{what} ({update})",
                               progress=progress):
        if rec_epochs and epoch == rec_epochs[len(recs)]:
            recs.append(S.copy())
        batch = next(stream)
        L, G = gam(S, batch, task.loss_weights(batch[2]))
        L0 = L if L0 is None else L0
        bad = ~np.isfinite(L) | (L > _DIVERGENCE_FACTOR * (1.0 + L0))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise _diverged(what, epoch, L[i], L0[i], rates[i])
        if weight_decay:
            G = G + weight_decay * eye
        r = rates[:, None, None]
        if update == "exact":
            P = eye - r * G
            S = P @ S @ P
        elif update == "first-order":
            GS = G @ S
            S = S - r * (GS + GS.transpose(0, 2, 1))
        else:
            D = G.copy()
            D[:, np.arange(k), np.arange(k)] = np.diagonal(G, axis1=1, axis2=2) / 2.0
            S = S - r * D
        if noise_rng is not None:
            S = S + overlap_noise(S, weight_noise, int(N), noise_rng)
        S = 0.5 * (S + S.transpose(0, 2, 1))
        if not np.all(np.isfinite(S)):
            i = int(np.argmax(~np.all(np.isfinite(S), axis=(1, 2))))
            raise _diverged(what, epoch, L[i], L0[i], rates[i])
        loss[epoch] = L
        if eta_drop is not None:
            hit = (drop < 0) & (L < eta_drop[0])
            rates[hit] /= eta_drop[1]
            drop[hit] = epoch
    if rec_epochs:
        recs.append(S.copy())
    return {"loss": loss, "final": S, "eta": rates, "drop_epoch": drop,
            **({"overlaps": np.array(recs), "epoch": np.array(rec_epochs)} if rec_epochs else {})}


def learn(
    S: Overlaps,
    task: Task,
    epochs: int,
    eta: float,
    phi: str = "linear",
    update: str = "exact",
    *,
    seed: np.random.Generator | int | None = None,
    weight_decay: float = 0.0,
    closure: str = "gaussian",
    nodes: int = 12,
    optimizer: str = "gd",
    node_rule: str = "auto",
    progress: bool | None = None,
    device: str | None = None,
) -> History:
    """Iterate learning in overlap space.

    Parameters
    ----------
    S : Overlaps
        Initial overlaps.
    task : Task
        Task; random tasks draw one batch per epoch from ``seed`` exactly as
        :func:`lrtools.train` does.
    epochs : int
        Number of updates.
    eta : float
        Learning rate (the vectors' rate is ``N eta``).
    phi : {"linear", "erf", "tanh"}
        Nonlinearity; nonlinear losses are those of the Gaussian limit.
    update : {"exact", "first-order", "direct"}
        ``"exact"``: ``S' = (I - eta Gamma) S (I - eta Gamma)``, the image of one
        gradient step on the vectors (exact for any loss of ``S``).
        ``"first-order"``: ``S' = S - eta (Gamma S + S Gamma)``, the Euler step of
        the flow (the paper's ODE with ``G``).
        ``"direct"``: ``sigma' = sigma - eta dL/dsigma``, plain gradient descent
        on the overlaps themselves, without ``G``.
    seed : int or numpy.random.Generator, optional
        Seed of the batches of random tasks.
    weight_decay : float
        L2 penalty ``(weight_decay / 2) sum_a |a|^2 / N`` added to the loss, i.e.
        ``Gamma -> Gamma + weight_decay * I`` (the same term as in
        :func:`lrtools.train`); the recorded loss is the task loss alone.
    closure : {"gaussian", "population"}
        How a nonlinear network's averages over neurons are closed.
        ``"gaussian"``: the rows ``(m_i, u_i, v_i, z_i)`` stay Gaussian with
        covariance ``S`` (Stein's lemma; the paper's theory, exact for linear
        networks). ``"population"``: the exact ``N -> infinity`` limit of gradient
        descent on the network: the initial rows, ``N(0, S)``, are represented by
        weighted quadrature nodes (:func:`lrtools.population.population_nodes`), and the network's
        own kernels run on them with ``(1/N) sum_i`` replaced by ``sum_q w_q``
        (:func:`lrtools.train` on a network with ``row_weights``); each node moves
        by ``-eta (dL/dx_q) / w_q``, so the rows may leave the Gaussian family.
        Same tasks and batches as :func:`lrtools.train` with the same seed.
    nodes : int
        Quadrature nodes per dimension of the population (``closure="population"``).
    optimizer : {"gd", "adam"}
        ``"adam"`` needs the population (Adam acts on the vectors, each node
        keeping its own moments).
    node_rule : {"auto", "gauss-hermite", "sobol"}
        Quadrature of the population (:func:`lrtools.population.population_nodes`).
    progress : bool, optional
        Show a progress bar (default: only in a terminal).
    device : str, optional
        ``None``/``"cpu"``: compiled CPU kernels; another torch device: PyTorch
        (Gaussian closure only).

    Returns
    -------
    History
        ``loss (epochs,)`` and ``overlaps (epochs + 1, k, k)``; ``time = eta * epoch``.
        With the population, ``info`` names the quadrature rule and node count.

    See Also
    --------
    learn_many : the same loop for many networks at once.
    """
    S = _as_overlaps(S)
    eta = check_rate(eta)
    if closure not in CLOSURES:
        raise ValueError(f"unknown closure {closure!r}; expected one of {CLOSURES}")
    if closure == "population":
        if update != "exact":
            raise ValueError("the population limit follows gradient descent on the vectors: "
                             f"update must be 'exact', got {update!r}")
        from .population import learn_population

        return learn_population(S, task, epochs, eta, phi, seed=seed, nodes=nodes,
                                optimizer=optimizer, node_rule=node_rule,
                                weight_decay=weight_decay, progress=progress, device=device)
    if optimizer != "gd":
        raise ValueError("Adam acts on the vectors: use closure='population' (or lrtools.train)")
    out = _overlap_learning(S.matrix[None], S.names, task, epochs, eta, phi, update, seed=seed,
                            weight_decay=weight_decay, weight_noise=0.0, N=None, noise_seed=None,
                            eta_drop=None, record_every=1, fused=False, device=device,
                            progress=progress, what="overlap learning")
    return History(
        loss=out["loss"][:, 0],
        overlaps=out["overlaps"][:, 0],
        names=S.names,
        time=eta * np.arange(int(epochs) + 1),
        info={"eta": eta, "update": update, "phi": phi, "weight_decay": weight_decay,
              "task": repr(task), "seed": seed if isinstance(seed, int | None) else "generator"},
    )


def learn_many(
    S0: np.ndarray | Sequence[Overlaps],
    task: Task,
    epochs: int,
    eta: float | np.ndarray,
    phi: str = "linear",
    update: str = "exact",
    *,
    names: Sequence[str] | None = None,
    seed: np.random.Generator | int | None = None,
    weight_decay: float = 0.0,
    weight_noise: float = 0.0,
    N: int | None = None,
    noise_seed: np.random.Generator | int | None = None,
    eta_drop: tuple[float, float] | None = None,
    record_every: int | None = None,
    progress: bool | None = None,
    device: str | None = None,
) -> dict[str, np.ndarray]:
    r"""Learning in overlap space for many networks at once (the loop of :func:`learn`).

    Every network sees the same batches (one stream from ``seed``). Rank-1 networks
    with one input and one output, linear or erf, use the fused kernel of
    :func:`loss_and_gamma_many` (equal to :func:`learn` run on each start, to
    round-off); others run :func:`loss_and_gamma` network by network.

    **Synaptic noise in overlap space.** With ``weight_noise = s`` every entry of
    the ``N x k`` vectors receives ``s xi`` after each update (as in
    :func:`lrtools.train`). The loss depends on ``S`` only and the noise is
    isotropic, so the overlaps remain a Markov chain whose step is exactly
    :func:`overlap_noise`: equal *in distribution* to training the vectors, at any
    ``N >= k``, for linear networks.

    Parameters
    ----------
    S0 : numpy.ndarray, shape (n, k, k), or sequence of Overlaps
        Starting overlaps.
    task : Task
        Task (random tasks: one batch per epoch, shared by all networks).
    epochs : int
        Number of updates.
    eta : float or numpy.ndarray of shape (n,)
        Learning rate(s).
    phi, update, weight_decay
        As in :func:`learn`.
    names : sequence of str, optional
        Vector names (default: ``m, u, v, z`` when ``k = 4``, or those of ``S0``).
    seed : int or numpy.random.Generator, optional
        Seed of the batch stream.
    weight_noise : float
        Synaptic noise ``s`` per vector entry and epoch (needs ``N``).
    N : int, optional
        Number of neurons (only the noise depends on it).
    noise_seed : int or numpy.random.Generator, optional
        Source of the noise (independent for every network).
    eta_drop : (threshold, factor), optional
        Divide a network's rate by ``factor`` the first time its batch loss falls
        below ``threshold`` (the paper's twin experiment: ``(0.015, 5)``).
    record_every : int, optional
        Keep the overlaps every this many epochs (and the last).
    progress : bool, optional
        Show a progress bar (default: only in a terminal).
    device : str, optional
        As in :func:`learn` (the fused kernel is CPU only).

    Returns
    -------
    dict
        ``loss (epochs, n)`` (before each update), ``final (n, k, k)``, ``eta (n,)``
        (the rates at the end), ``drop_epoch (n,)`` (``-1``: never dropped); with
        ``record_every`` also ``overlaps (n_rec, n, k, k)`` at ``epoch (n_rec,)``.
    """
    if len(S0) and isinstance(S0[0], Overlaps):
        names = tuple(S0[0].names) if names is None else tuple(names)
        S0 = np.array([_as_overlaps(S).matrix for S in S0])
    S0 = np.asarray(S0, dtype=np.float64)
    if S0.ndim != 3 or S0.shape[1] != S0.shape[2] or S0.shape[0] < 1:
        raise ValueError(f"S0 must have shape (n, k, k) with n >= 1, got {S0.shape}")
    if names is None:
        if S0.shape[1] != 4:
            raise ValueError("pass the vector names for networks with k != 4 vectors")
        names = ("m", "u", "v", "z")
    names = tuple(names)
    if len(names) != S0.shape[1]:
        raise ValueError(f"{len(names)} names for {S0.shape[1]} vectors")
    fused = (names == ("m", "u", "v", "z") and phi in ("linear", "erf")
             and device in (None, "cpu") and (task.n_in, task.n_out) == (1, 1))
    return _overlap_learning(S0, names, task, epochs, eta, phi, update, seed=seed,
                             weight_decay=weight_decay, weight_noise=weight_noise, N=N,
                             noise_seed=noise_seed, eta_drop=eta_drop, record_every=record_every,
                             fused=fused, device=device, progress=progress, what="overlap learning")


def flow(
    S: Overlaps,
    task: Task,
    t_end: float,
    n_points: int = 200,
    phi: str = "linear",
    *,
    weight_decay: float = 0.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    method: str = "DOP853",
    device: str | None = None,
) -> History:
    """Integrate the gradient flow ``dS/dtau = -(Gamma S + S Gamma)``.

    ``tau`` is learning time, ``eta * epochs`` for discrete learning. Integrated
    with SciPy's adaptive ``solve_ivp`` (default DOP853, ``rtol=1e-10``).
    Random tasks are not allowed (the flow needs a fixed loss).

    Returns
    -------
    History
        ``overlaps (n_points, k, k)`` and ``loss (n_points,)`` at ``time =
        linspace(0, t_end, n_points)``.
    """
    S = _as_overlaps(S)
    if not task.deterministic:
        raise ValueError(
            "flow integrates a fixed loss; this task draws random batches "
            f"({type(task).__name__}); use learn() or a deterministic task"
        )
    if not (np.isfinite(t_end) and t_end > 0):
        raise ValueError(f"t_end must be positive, got {t_end}")
    if int(n_points) != n_points or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got {n_points}")
    batch, w = _first_batch(task, None)
    k = S.k

    def rhs(_t: float, s: np.ndarray) -> np.ndarray:
        Sm = s.reshape(k, k)
        _, Gam = loss_and_gamma(Overlaps(Sm, S.names), batch, w, task.dt, phi, device=device)
        if weight_decay:
            Gam = Gam + weight_decay * np.eye(k)
        GS = Gam @ Sm
        return -(GS + GS.T).ravel()

    t_eval = np.linspace(0.0, t_end, n_points)
    sol = solve_ivp(rhs, (0.0, t_end), S.matrix.ravel(), method=method, t_eval=t_eval,
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise DivergenceError(f"gradient flow integration failed: {sol.message}")
    traj = sol.y.T.reshape(-1, k, k)
    traj = 0.5 * (traj + traj.transpose(0, 2, 1))
    losses = np.array([loss_and_gamma(Overlaps(Sm, S.names), batch, w, task.dt, phi)[0]
                       for Sm in traj])
    return History(loss=losses, overlaps=traj, names=S.names, time=sol.t,
                   info={"update": "flow", "phi": phi, "rtol": rtol, "atol": atol,
                         "method": method, "nfev": sol.nfev, "weight_decay": weight_decay})


def preconditioner(S: Overlaps) -> tuple[np.ndarray, list[str]]:
    """The matrix ``G(S)`` of the flow written for the vector of overlaps.

    ``d sigma / d tau = -G grad_sigma L`` with ``sigma`` the upper triangle of
    ``S`` (order of :attr:`Overlaps.pair_names`). ``G`` depends on ``S`` only
    (visible and invisible overlaps), not on the loss; it is symmetric positive
    semidefinite (it is ``J J^T`` for the Jacobian ``J`` of ``sigma`` with respect
    to the vectors, up to the rate ``N``).

    Returns
    -------
    G : numpy.ndarray, shape (p, p), ``p = k (k + 1) / 2``
    names : list of str
        Overlap names labelling the rows and columns.
    """
    S = _as_overlaps(S)
    k = S.k
    iu = np.triu_indices(k)
    p = len(iu[0])
    G = np.empty((p, p))
    for col in range(p):
        grad = np.zeros((k, k))
        a, b = iu[0][col], iu[1][col]
        grad[a, b] = grad[b, a] = 1.0
        # Gamma from a unit gradient in overlap `col` (diagonal entries doubled)
        Gam = grad.copy()
        if a == b:
            Gam[a, a] = 2.0
        GS = Gam @ S.matrix
        G[:, col] = (GS + GS.T)[iu]
    return G, S.pair_names


def invariants(
    S: Overlaps | History | np.ndarray, names: Sequence[str] | None = None
) -> np.ndarray:
    """Eigenvalues of ``J S`` (ascending), conserved by the linear gradient flow.

    ``J = diag(+1 on the left vectors z, v; -1 on the right vectors m, u)``. In the
    linear case ``Gamma`` couples left with right vectors only, so ``J Gamma =
    -Gamma J`` and ``d(JS)/dtau = [Gamma, JS]``: a Lax pair. ``trace(JS) =
    (|z|^2 + |v|^2 - |m|^2 - |u|^2) / N`` is one of them. The eigenvalues are
    real (``JS`` is similar to ``S^(1/2) J S^(1/2)``).

    Parameters
    ----------
    S : Overlaps, History or numpy.ndarray of shape (..., k, k)
        One state or a trajectory (then ``names`` is needed for arrays).

    Returns
    -------
    numpy.ndarray, shape (..., k)
    """
    if isinstance(S, Overlaps):
        mats, names = S.matrix[None], S.names
    elif isinstance(S, History):
        mats, names = S.overlaps, S.names
    else:
        mats = np.asarray(S, dtype=np.float64)
        if names is None:
            raise ValueError("pass the vector names with an array of overlap matrices")
    J = left_right(names)
    m = mats.reshape(-1, mats.shape[-1], mats.shape[-1])
    out = np.empty(m.shape[:2])
    for i, Sm in enumerate(m):
        R = psd_sqrt(Sm)
        out[i] = np.linalg.eigvalsh(R @ (J[:, None] * R))
    if isinstance(S, Overlaps):
        return out[0]
    return out.reshape(mats.shape[:-1])


def filter_optimum(c: float, dt: float) -> dict[str, float]:
    """Closed-form optimum of the discrete exponential filter (rank 1, linear).

    Any network with ``sigma_zm = 1`` and ``sigma_zu sigma_vm = sigma_vu = a``,
    ``a = 1 - (1 - exp(-c dt)) / dt`` (``-> 1 - c`` as ``dt -> 0``), reproduces
    ``exp(-c t_k)`` exactly on the grid: its recurrent mode decays by
    ``1 - dt + dt a = exp(-c dt)`` per step and the input mode cancels.

    Returns
    -------
    dict
        ``{"zm": 1.0, "zu*vm": a, "vu": a}``.
    """
    check_dt(dt)
    a = 1.0 - (1.0 - np.exp(-c * dt)) / dt
    return {"zm": 1.0, "zu*vm": float(a), "vu": float(a)}
