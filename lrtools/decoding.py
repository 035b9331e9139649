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

__all__ = ["decode", "decode_history", "pair_decoding"]


def decode(
    features: np.ndarray,
    labels: np.ndarray,
    n_train: int | Sequence[int],
    *,
    strata: Sequence[Sequence[int]] | None = None,
    noise: float = 0.0,
    relative_noise: bool = False,
    train_noise_only: bool = False,
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
    train_noise_only : bool
        Add the noise to the training samples only (the authors' decoding; the
        test samples are the exact features).
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
        Xte, yte = (F if train_noise_only else Fs)[te].reshape(-1, n_feat), y[te].reshape(-1)
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


def _fit_predict(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    if np.ptp(Xtr, axis=0).max() == 0:  # identical features: nothing to learn
        return np.full(len(Xte), 0.5)
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    clf = LogisticRegression(C=1.0, solver="liblinear").fit((Xtr - mu) / sd, ytr)
    return clf.predict((Xte - mu) / sd).astype(float)


def _pair_scores(F: np.ndarray, y: np.ndarray, folds: list[np.ndarray], noise: float,
                 rng: np.random.Generator) -> np.ndarray:
    # cross-validated: every pair is tested once, by a decoder trained on the other folds
    n, _, d = F.shape
    score = np.empty(n)
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        Xtr = F[train].reshape(-1, d) + noise * rng.standard_normal((2 * len(train), d))
        pred = _fit_predict(Xtr, y[train].reshape(-1), F[test].reshape(-1, d))
        score[test] = (pred.reshape(-1, 2) == y[test]).mean(axis=1)
    return score


def pair_decoding(
    features: np.ndarray,
    *,
    n_folds: int = 5,
    noise: float = 0.0,
    n_perm: int = 200,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float | np.ndarray]:
    """Cross-validated decoding of twin histories, with an interval and a permutation null.

    The pairs are split into ``n_folds`` folds (both twins of a pair always in the
    same fold); a decoder (:func:`decode`'s logistic regression) trained on the
    other folds, with Gaussian noise of standard deviation ``noise`` added to its
    training features, labels the two twins of each test pair. A pair's score is
    the fraction of its twins labelled right, the accuracy the mean over pairs.
    The interval is a bootstrap over pairs (the independent units); the null
    distribution swaps the two labels of each pair at random (a fair coin per
    pair) and repeats the whole cross-validation.

    Parameters
    ----------
    features : numpy.ndarray, shape (n_pairs, 2, n_features)
        Twin 0 learned A (label 0), twin 1 learned B (label 1).
    n_folds : int
        Folds over pairs.
    noise : float
        Standard deviation of the training-feature noise.
    n_perm, n_boot : int
        Permutations of the null, bootstrap resamples of the interval.
    level : float
        Level of the interval.
    seed : int
        Seed of the folds, the noise, the permutations and the bootstrap.

    Returns
    -------
    dict
        ``accuracy``, ``lo``, ``hi`` (the interval), ``p_value`` (one-sided, of the
        null reaching the accuracy; 1 without permutations), ``null_mean``,
        ``null_hi`` (the null's ``level`` quantile; NaN without permutations) and
        ``pair_score (n_pairs,)``.
    """
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 3 or F.shape[1] != 2:
        raise ValueError(f"features must have shape (n_pairs, 2, n_features), got {F.shape}")
    n = F.shape[0]
    if not 2 <= n_folds <= n:
        raise ValueError(f"need 2 <= n_folds <= n_pairs = {n}, got {n_folds}")
    rng = np.random.default_rng(seed)
    folds = np.array_split(rng.permutation(n), n_folds)
    y = np.tile([0.0, 1.0], (n, 1))
    score = _pair_scores(F, y, folds, noise, rng)
    acc = float(score.mean())
    null = np.empty(n_perm)
    for i in range(n_perm):
        swap = rng.random(n) < 0.5
        null[i] = _pair_scores(F, np.where(swap[:, None], 1.0 - y, y), folds, noise, rng).mean()
    boot = rng.choice(score, size=(max(n_boot, 1), n)).mean(axis=1)
    a = (1 - level) / 2
    nan = float("nan")
    return {"accuracy": acc, "lo": float(np.quantile(boot, a)),
            "hi": float(np.quantile(boot, 1 - a)),
            "p_value": float((1 + np.sum(null >= acc)) / (1 + n_perm)),
            "null_mean": float(null.mean()) if n_perm else nan,
            "null_hi": float(np.quantile(null, level)) if n_perm else nan,
            "pair_score": score}
