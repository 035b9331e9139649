"""The exact large-N limit of learning in a nonlinear low-rank network: a population.

Every interaction in the network goes through averages over neurons
(``(1/N) sum_i v_i phi(h_i)``, ``(1/N) sum_i z_i phi(h_i)``), and each row
``(m_i, u_i, v_i, z_i)`` follows deterministic dynamics given them. So as
``N -> infinity`` gradient descent on the network becomes the evolution of the
distribution of rows, which starts as ``N(0, S0)`` and, for a nonlinear network,
leaves the Gaussian family. :func:`population_nodes` represents the start by
weighted quadrature nodes; :func:`learn_population` runs the network's own
kernels on them (:class:`~lrtools.LowRankRNN` with ``row_weights``, trained by
:func:`lrtools.train`), which converges spectrally in the number of nodes.
Called through :func:`lrtools.theory.learn` with ``closure="population"``.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_epochs, shape_from_names
from .history import History
from .network import LowRankRNN
from .overlaps import Overlaps, psd_sqrt
from .training import train

__all__ = ["population_nodes", "learn_population"]


def population_nodes(
    S: Overlaps, nodes: int = 12, *, rule: str = "auto", seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Weighted nodes representing rows drawn from ``N(0, S)``: the population limit's start.

    Parameters
    ----------
    S : Overlaps
        Covariance of the rows (``k x k``).
    nodes : int
        Nodes per dimension (tensor Gauss-Hermite) or, for Sobol, the total is the
        power of two nearest to ``nodes**4`` (at least ``2**10``).
    rule : {"auto", "gauss-hermite", "sobol"}
        ``"gauss-hermite"``: the tensor product of ``nodes`` probabilists'
        Gauss-Hermite points per dimension, mapped by ``S^{1/2}``: exact for every
        polynomial of degree below ``2 nodes`` in each variable, so smooth
        averages converge spectrally in ``nodes``; ``nodes**k`` rows. ``"sobol"``:
        scrambled Sobol points (seeded by ``seed``) mapped through the normal
        quantile, equal weights, rescaled so that their second moments are
        exactly ``S``; for many vectors, where a tensor grid is too large.
        ``"auto"``: Gauss-Hermite when ``nodes**k <= 200000`` (rank 1 with one
        input and one output up to 21 nodes), else Sobol.
    seed : int
        Seed of the Sobol scrambling.

    Returns
    -------
    X : numpy.ndarray, shape (n, k)
        The nodes (rows ``(m, u, v, z)``).
    w : numpy.ndarray, shape (n,)
        Positive weights summing to 1; ``X^T diag(w) X = S``.
    rule : str
        The rule used.
    """
    if not isinstance(S, Overlaps):
        raise TypeError(f"expected lrtools.Overlaps, got {type(S).__name__}")
    nodes = check_epochs(nodes, minimum=2, name="nodes")
    k = S.k
    if rule == "auto":
        rule = "gauss-hermite" if nodes**k <= 200_000 else "sobol"
    root = psd_sqrt(S.matrix)
    if rule == "gauss-hermite":
        x1, w1 = np.polynomial.hermite_e.hermegauss(nodes)
        w1 = w1 / w1.sum()
        grids = np.meshgrid(*([x1] * k), indexing="ij")
        xi = np.stack([g.ravel() for g in grids], axis=1)
        w = np.prod(np.stack(np.meshgrid(*([w1] * k), indexing="ij"), axis=-1).reshape(-1, k),
                    axis=1)
        w = w / w.sum()
    elif rule == "sobol":
        from scipy.stats import norm, qmc

        m = max(10, int(round(4 * np.log2(nodes))))
        u = qmc.Sobol(k, scramble=True, seed=seed).random_base2(m)
        xi = norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))
        w = np.full(len(xi), 1.0 / len(xi))
        M = xi.T @ (w[:, None] * xi)
        xi = xi @ np.linalg.inv(psd_sqrt(M))  # second moments exactly the identity
    else:
        raise ValueError(f"unknown node rule {rule!r}; expected 'auto', 'gauss-hermite' or "
                         f"'sobol'")
    return np.ascontiguousarray(xi @ root), w, rule


def learn_population(S, task, epochs, eta, phi, *, seed, nodes, optimizer, node_rule,
                     weight_decay, progress, device):
    """The population limit of :func:`lrtools.theory.learn` (``closure='population'``)."""
    if device not in (None, "cpu"):
        raise ValueError("the population limit runs on the CPU kernels")
    rank, n_in, n_out = shape_from_names(S.names)
    X, w, rule = population_nodes(S, nodes, rule=node_rule, seed=0)
    net = LowRankRNN(X, rank=rank, n_in=n_in, n_out=n_out, phi=phi, row_weights=w)
    hist = train(net, task, epochs, eta, optimizer, seed=seed, weight_decay=weight_decay,
                 progress=progress)
    info = dict(hist.info, closure="population", node_rule=rule, nodes=nodes,
                n_nodes=len(w), N="population")
    return History(loss=hist.loss, overlaps=hist.overlaps, names=S.names, time=hist.time,
                   info=info)
