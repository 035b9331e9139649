"""Decoders of histories and groups from overlap features (logistic regression).

:func:`decode` is the one decoder: cross-validated accuracy of an L2 logistic
regression (scikit-learn, ``C = 1``, liblinear) over random splits of *units*,
with measurement noise drawn afresh in every split. A unit is what a split keeps
on one side: a twin pair (both twins train or both test, :func:`decode_history`,
chapter 4) or one individual of two groups of different individuals (stratified
by group, as ``lrtools.plasticity.decode_groups`` of chapter 5 does). scikit-learn
is imported when a decoder runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["decode", "decode_history"]


def decode(
    features: np.ndarray,
    labels: np.ndarray,
    n_train: int | Sequence[int],
    *,
    strata: Sequence[Sequence[int]] | None = None,
    noise: float = 0.0,
    relative_noise: bool = False,
    n_splits: int = 50,
    seed: int = 0,
) -> np.ndarray:
    """Test accuracy of a logistic-regression decoder over random splits of units.

    Each split, in this order, draws a random permutation of the units of each
    stratum (in the order of ``strata``) and trains on the first ``n_train`` of
    them, tests on the rest; then draws the measurement noise ``xi ~ N(0, 1)`` for
    every feature of every sample, adding ``noise * xi`` (or, with
    ``relative_noise``, multiplying by ``1 + noise * xi``). It standardises with the
    training set's mean and standard deviation (a feature that is constant there
    is left unscaled), fits an L2 logistic regression (``C = 1``, liblinear) and
    scores the test samples. Training samples are ordered by stratum, then by the
    permutation, then by member of a unit. A split whose training features are
    all identical has nothing to learn and scores 0.5.

    Parameters
    ----------
    features : numpy.ndarray, shape (n_units, n_features) or (n_units, n_members, n_features)
        One sample per unit, or ``n_members`` samples per unit (a twin pair:
        two) that are always on the same side of a split.
    labels : numpy.ndarray, shape (n_units,) or (n_units, n_members)
        Class of every sample.
    n_train : int or sequence of int
        Training units per stratum (one number for all strata).
    strata : sequence of sequences of int, optional
        Unit indices of each stratum (default: one stratum of all units).
    noise : float
        Standard deviation of the measurement noise.
    relative_noise : bool
        Multiplicative noise instead of additive.
    n_splits : int
        Number of random splits.
    seed : int
        Seed of the splits and of the noise.

    Returns
    -------
    numpy.ndarray, shape (n_splits,)
        Test accuracy of each split (chance: 0.5 for balanced classes).

    Examples
    --------
    Twin pairs, both twins of a pair on the same side (:func:`decode_history`)::

        decode(F, np.tile([0, 1], (len(F), 1)), n_train_pairs, noise=0.3)

    Two groups of different individuals, the same fraction of each training
    (``lrtools.plasticity.decode_groups``)::

        decode(np.concatenate([Fa, Fb]), np.r_[np.zeros(len(Fa)), np.ones(len(Fb))],
               [round(0.75 * len(Fa)), round(0.75 * len(Fb))],
               strata=[np.arange(len(Fa)), len(Fa) + np.arange(len(Fb))],
               noise=0.01, relative_noise=True, n_splits=100)
    """
    from sklearn.linear_model import LogisticRegression

    F = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    if F.ndim == 2:
        F, y = F[:, None], y[:, None]
    if F.ndim != 3 or y.shape != F.shape[:2]:
        raise ValueError(f"features {np.shape(features)} and labels {np.shape(labels)} must "
                         "have shapes (n_units[, n_members], n_features) and "
                         "(n_units[, n_members])")
    n, n_feat = F.shape[0], F.shape[2]
    groups = [np.arange(n)] if strata is None else [np.asarray(g, dtype=int) for g in strata]
    ks = [int(k) for k in np.broadcast_to(np.asarray(n_train), (len(groups),))]
    for k, g in zip(ks, groups, strict=True):
        if not 1 <= k <= len(g) - 1:
            raise ValueError(f"need 1 <= n_train < {len(g)} units of a stratum, got {k}")
    rng = np.random.default_rng(seed)
    acc = np.empty(n_splits)
    for s in range(n_splits):
        perm = [rng.permutation(g) for g in groups]
        tr = np.concatenate([p[:k] for p, k in zip(perm, ks, strict=True)])
        te = np.concatenate([p[k:] for p, k in zip(perm, ks, strict=True)])
        xi = rng.standard_normal(F.shape)
        Fs = F * (1.0 + noise * xi) if relative_noise else F + noise * xi
        Xtr, ytr = Fs[tr].reshape(-1, n_feat), y[tr].reshape(-1)
        Xte, yte = Fs[te].reshape(-1, n_feat), y[te].reshape(-1)
        if np.ptp(Xtr, axis=0).max() == 0:  # identical features: nothing to learn
            acc[s] = 0.5
            continue
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
        sd[sd == 0] = 1.0
        clf = LogisticRegression(C=1.0, solver="liblinear")
        clf.fit((Xtr - mu) / sd, ytr)
        acc[s] = clf.score((Xte - mu) / sd, yte)
    return acc


def decode_history(
    features: np.ndarray,
    *,
    n_train_pairs: int = 8,
    n_splits: int = 50,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Decode which twin learned A and which B, with logistic regression (scikit-learn).

    Splits the pairs at random into ``n_train_pairs`` training pairs and the rest
    for testing (both twins of a pair on the same side), adds Gaussian noise of
    standard deviation ``noise`` to every feature, standardises with the training
    set's mean and standard deviation and fits an L2 logistic regression
    (``C = 1``, scikit-learn's liblinear solver): :func:`decode` with twin pairs
    as units.

    Parameters
    ----------
    features : numpy.ndarray, shape (n_pairs, 2, n_features)
        Twin 0 learned A (label 0), twin 1 learned B (label 1).
    n_train_pairs : int
        Pairs in each training set.
    n_splits : int
        Number of random splits.
    noise : float
        Standard deviation of the additive feature noise.
    seed : int
        Seed of the splits and of the noise.

    Returns
    -------
    numpy.ndarray, shape (n_splits,)
        Test accuracy of each split (chance: 0.5).
    """
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 3 or F.shape[1] != 2:
        raise ValueError(f"features must have shape (n_pairs, 2, n_features), got {F.shape}")
    n = F.shape[0]
    if not 1 <= n_train_pairs < n:
        raise ValueError(f"need 1 <= n_train_pairs < n_pairs = {n}")
    return decode(F, np.tile([0, 1], (n, 1)), n_train_pairs, noise=noise, n_splits=n_splits,
                  seed=seed)
