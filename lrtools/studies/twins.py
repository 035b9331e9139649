"""Chapter 4 studies: nonlinear twins and the history they keep (paper Figures 9, 10, 4d-f).

* :class:`TwinSettings`, :func:`twin_runs`: the twin experiment in the reduced erf
  theory (:func:`lrtools.twins.twin_experiment`, cached);
* :class:`DecodingSettings`, :func:`twin_decoding`: the A/B history decoded from
  the twins' visible and invisible overlaps;
* :class:`NetworkCheckSettings`, :func:`network_check_runs`: task C for the median
  pair in the ``N``-dimensional erf network (cached);
* the key numbers of each (``*_numbers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import twins
from ..cache import cached_run
from ..conserved import balance
from ..decoding import decode_history
from ..history import History
from ..memory import gap_series, gaps, outside_span
from ..twins import median_twin_pair, twin_distances, twin_features
from . import Settings

__all__ = [
    "TwinSettings",
    "DecodingSettings",
    "NetworkCheckSettings",
    "twin_runs",
    "twin_decoding",
    "network_check_runs",
    "network_check_gaps",
    "twin_numbers",
    "decoding_numbers",
    "network_check_numbers",
]

TWIN_SCALES = ("book", "paper")


@dataclass(frozen=True, kw_only=True)
class TwinSettings(Settings):
    """The twin experiment (:func:`lrtools.twins.twin_experiment`) at book scale.

    The defaults (:meth:`paper`) are the book's full-mode settings: the paper's
    protocol with 6000 epochs of A/B and 2500 of C at ``eta_c = 0.03``;
    :meth:`paper_scale` is the paper's own (30000 + 30000 epochs, ``eta_c = 1e-3``;
    hours here).

    Parameters
    ----------
    n_pairs : int
        Number of twin pairs.
    seed : int
        Seed of the starts and of the batch streams.
    epochs_ab, epochs_c : int
        Epochs of the A/B phase and of phase C.
    eta_ab, eta_c : float
        Their learning rates.
    eta_drop : (float, float) or None
        ``(loss threshold, divisor)`` of the A/B rate, per network.
    batch_size : int
        Trials per batch.
    dt, t_max : float
        Euler step and trial length.
    record_every : int
        Epochs between recorded overlaps.
    cross_std : float
        Standard deviation of the starts' cross overlaps (before ``|.|``).
    norm_range : (float, float)
        Range of the starts' norms.
    """

    n_pairs: int = 10
    seed: int = 0
    epochs_ab: int = 6000
    epochs_c: int = 2500
    eta_ab: float = 0.01
    eta_c: float = 0.03
    eta_drop: tuple[float, float] | None = (0.015, 5.0)
    batch_size: int = 128
    dt: float = 0.05
    t_max: float = 20.0
    record_every: int = 100
    cross_std: float = 0.4
    norm_range: tuple[float, float] = (0.5, 2.0)

    @classmethod
    def fast(cls) -> TwinSettings:
        """1500 + 800 epochs at ``eta_ab = 0.02``, ``eta_c = 0.03``, batch 32."""
        return cls(epochs_ab=1500, epochs_c=800, eta_ab=0.02, eta_c=0.03, batch_size=32)

    @classmethod
    def paper_scale(cls) -> TwinSettings:
        """The paper's own settings: 30000 + 30000 epochs, ``eta_c = 1e-3`` (hours here)."""
        return cls(epochs_ab=30000, epochs_c=30000, eta_c=1e-3)

    @classmethod
    def for_scale(cls, fast: bool, twin_scale: str = "book") -> TwinSettings:
        """:meth:`fast` if ``fast``, else the book's (``"book"``) or the paper's scale.

        Parameters
        ----------
        fast : bool
            The notebooks' switch (``twin_scale`` is then ignored).
        twin_scale : {"book", "paper"}
            Full-mode scale: :meth:`paper` (the defaults) or :meth:`paper_scale`.

        Returns
        -------
        TwinSettings
            The settings.
        """
        if twin_scale not in TWIN_SCALES:
            raise ValueError(f"twin_scale must be 'book' or 'paper', got {twin_scale!r}")
        if fast:
            return cls.fast()
        return cls.paper() if twin_scale == "book" else cls.paper_scale()


@dataclass(frozen=True, kw_only=True)
class DecodingSettings(Settings):
    """Decoding the A/B history of the twins (:func:`twin_decoding`).

    Parameters
    ----------
    noises : tuple of float
        Feature noise levels of the decoding at each stage.
    noise_c : float
        Feature noise of the decoding along phase C.
    n_splits : int
        Random splits (all pairs but two train the decoder, two test it).
    every : int
        Decode at every ``every``-th record of phase C.
    seed : int
        Seed of the splits and of the noise.
    """

    noises: tuple[float, ...] = (0.0, 0.3)
    noise_c: float = 0.3
    n_splits: int = 50
    every: int = 5
    seed: int = 0


@dataclass(frozen=True, kw_only=True)
class NetworkCheckSettings(Settings):
    """Task C for the median twin pair in the ``N``-dimensional erf network.

    Parameters
    ----------
    Ns : tuple of int
        Two network sizes, small then large.
    epochs : int
        Epochs of task C.
    eta : float
        Learning rate.
    batch_size : int
        Trials per batch.
    seed : int
        Seed of the vectors and of the batches.
    """

    Ns: tuple[int, ...] = (250, 1000)
    epochs: int = 240
    eta: float = 0.05
    batch_size: int = 4
    seed: int = 0

    @classmethod
    def fast(cls) -> NetworkCheckSettings:
        """``N = 100, 250``, 60 epochs."""
        return cls(Ns=(100, 250), epochs=60)


# ---------------------------------------------------------------------------
# cached runs (every argument enters the key)
# ---------------------------------------------------------------------------


_cached_twin_experiment = cached_run("ch4-twins")(twins.twin_experiment)
_cached_network_twin_check = cached_run("ch4-network-check")(twins.network_twin_check)


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def twin_runs(settings: TwinSettings | None = None) -> dict[str, np.ndarray]:
    """:func:`lrtools.twins.twin_experiment` with these settings, cached (entry ``"ch4-twins"``).

    Parameters
    ----------
    settings : TwinSettings, optional
        Default: the book's (:meth:`TwinSettings.paper`).

    Returns
    -------
    dict
        The result of :func:`lrtools.twins.twin_experiment`.
    """
    s = TwinSettings() if settings is None else settings
    return _cached_twin_experiment(**s.as_dict())


def twin_decoding(data: dict, settings: DecodingSettings | None = None) -> dict:
    """Decode the A/B history of the twins (:func:`lrtools.decoding.decode_history`) at each stage.

    All pairs but two train the decoder, the other two test it.

    Parameters
    ----------
    data : dict
        From :func:`twin_runs`.
    settings : DecodingSettings, optional
        Default: :class:`DecodingSettings`'s.

    Returns
    -------
    dict
        ``acc``: ``{(stage label, "visible"|"invisible", noise): accuracies
        (n_splits,)}`` at the start, after A / B and after C; ``acc_c``:
        ``{"visible"|"invisible": mean accuracy}`` with feature noise ``noise_c`` at
        every ``every``-th record of phase C, whose epochs are ``epoch_c``.
    """
    s = DecodingSettings() if settings is None else settings
    n_pairs = data["start"].shape[0]
    kw = dict(n_train_pairs=n_pairs - 2, n_splits=s.n_splits, seed=s.seed)
    acc = {}
    for stage, label in (("start", "start"), ("ab", "after A / B"), ("c", "after C")):
        f = twin_features(data, stage)
        for kind in ("visible", "invisible"):
            for z in s.noises:
                acc[(label, kind, z)] = decode_history(f[kind], noise=z, **kw)
    records = data["c"][::s.every]
    acc_c = {kind: np.array([
        decode_history(twin_features({"c": records[:i + 1]}, "c")[kind], noise=s.noise_c,
                       **kw).mean() for i in range(len(records))])
        for kind in ("visible", "invisible")}
    return {"acc": acc, "acc_c": acc_c, "epoch_c": data["c_epoch"][::s.every],
            "noise_c": s.noise_c, "n_splits": s.n_splits}


def network_check_runs(data: dict, settings: NetworkCheckSettings | None = None) -> dict:
    """Task C for the median twin pair at several ``N``, cached (entry ``"ch4-network-check"``).

    The pair whose final invisible distance is the median over pairs
    (:func:`lrtools.twins.median_twin_pair`) starts from its overlaps after A/B
    (:func:`lrtools.twins.network_twin_check` at every ``N`` of ``settings.Ns``).

    Parameters
    ----------
    data : dict
        From :func:`twin_runs`.
    settings : NetworkCheckSettings, optional
        Default: the paper's.

    Returns
    -------
    dict
        Histories: ``("net_A", N)``, ``("net_B", N)`` for every ``N`` in ``Ns``, and
        ``"th_A"``, ``"th_B"`` (the reduced theory, the same at every ``N``).
    """
    s = NetworkCheckSettings() if settings is None else settings
    if len(s.Ns) == 0:
        raise ValueError("need at least one network size")
    pair = data["ab"][-1, median_twin_pair(data)]
    H = {}
    for Nc in s.Ns:
        chk = _cached_network_twin_check(pair, seed=s.seed, N=Nc, epochs=s.epochs, eta=s.eta,
                                         batch_size=s.batch_size)
        H.update({(k, Nc): History.from_arrays(chk, f"{k}/") for k in ("net_A", "net_B")})
        H.update({k: History.from_arrays(chk, f"{k}/") for k in ("th_A", "th_B")})
    return H


def network_check_gaps(H: dict, Ns: Sequence[int]) -> dict:
    """Twin gaps (visible, invisible) over task C, per network size and for the theory.

    Parameters
    ----------
    H : dict
        From :func:`network_check_runs`.
    Ns : sequence of int
        Its network sizes.

    Returns
    -------
    dict
        ``{(N or "th", "visible"|"invisible"): gaps per epoch}``
        (:func:`lrtools.memory.gap_series`, erf).
    """
    runs_c = {Nc: (H[("net_A", Nc)], H[("net_B", Nc)]) for Nc in Ns}
    runs_c["th"] = (H["th_A"], H["th_B"])
    gap = {}
    for src, (hA, hB) in runs_c.items():
        g = gap_series(hA, hB, "erf")
        gap.update({(src, kind): g[kind] for kind in g})
    return gap


# ---------------------------------------------------------------------------
# key numbers
# ---------------------------------------------------------------------------


def twin_numbers(data: dict, settings: TwinSettings, *,
                 paper_time: float = 30.0) -> dict[str, float]:
    """Key numbers of the nonlinear twins (:func:`twin_runs`).

    Parameters
    ----------
    data : dict
        From :func:`twin_runs` / :func:`lrtools.twins.twin_experiment`.
    settings : TwinSettings
        Its settings (``eta_c``: the learning rate of phase C in ``data``).
    paper_time : float
        Learning time of C in the paper (``vis_dist_30`` is the visible distance then,
        or at the end if C is shorter).

    Returns
    -------
    dict
        ``n_pairs``, ``epochs_ab``, ``epochs_c``, ``eta_c``, ``tau_c``; twin distances
        (:func:`lrtools.twins.twin_distances`, mean and sd over pairs) ``vis_dist_ab``,
        ``inv_dist_ab`` (end of A/B), ``vis_dist_c``, ``inv_dist_c``, ``vis_dist_c_sd``,
        ``inv_dist_c_sd`` (end of C), ``vis_dist_30``; losses ``loss_c_max`` (largest
        over networks of the mean of the last 100 epochs), ``loss_c_start``; balance
        (:func:`lrtools.conserved.balance`) ``balance_twin_gap``,
        ``balance_start_drift``; mean twin gaps ``vv_gap``, ``uu_gap``, ``zz_gap``;
        ``zz_B_larger`` (fraction of pairs whose B twin has the larger ``sigma_zz``).
    """
    eta_c = settings.eta_c
    if eta_c <= 0:
        raise ValueError(f"eta_c must be positive, got {eta_c}")
    n_pairs = data["start"].shape[0]
    dist = twin_distances(data)
    e_ab = int(data["ab_epoch"][-1])
    i_ab = int(np.searchsorted(dist["epoch"], e_ab))
    i_30 = int(np.searchsorted(dist["epoch"], e_ab + round(paper_time / eta_c)))
    final = data["c"][-1]  # (pairs, 2, 4, 4)
    bal = balance(final)  # (pairs, 2)
    return {
        "n_pairs": n_pairs, "epochs_ab": e_ab, "epochs_c": int(data["c_epoch"][-1]),
        "eta_c": eta_c, "tau_c": eta_c * int(data["c_epoch"][-1]),
        "vis_dist_ab": dist["visible"][i_ab].mean(), "inv_dist_ab": dist["invisible"][i_ab].mean(),
        "vis_dist_c": dist["visible"][-1].mean(), "inv_dist_c": dist["invisible"][-1].mean(),
        "vis_dist_c_sd": dist["visible"][-1].std(), "inv_dist_c_sd": dist["invisible"][-1].std(),
        "vis_dist_30": dist["visible"][min(i_30, len(dist["epoch"]) - 1)].mean(),
        "loss_c_max": data["c_loss"][-100:].mean(axis=0).max(),
        "loss_c_start": data["c_loss"][:10].mean(),
        "balance_twin_gap": np.max(np.abs(bal[:, 0] - bal[:, 1])),
        "balance_start_drift": np.max(np.abs(bal - balance(data["start"])[:, None])),
        "vv_gap": np.mean(np.abs(final[:, 0, 2, 2] - final[:, 1, 2, 2])),
        "uu_gap": np.mean(np.abs(final[:, 0, 1, 1] - final[:, 1, 1, 1])),
        "zz_gap": np.mean(np.abs(final[:, 0, 3, 3] - final[:, 1, 3, 3])),
        "zz_B_larger": np.mean(final[:, 1, 3, 3] > final[:, 0, 3, 3]),
    }


def decoding_numbers(acc: dict) -> dict[str, float]:
    """Mean and sd over splits of every decoding accuracy of :func:`twin_decoding`.

    Parameters
    ----------
    acc : dict
        ``{(stage, features, noise): accuracies}`` (``twin_decoding(...)["acc"]``).

    Returns
    -------
    dict
        ``acc_<stage>_<features>_<noise>`` (mean) and the same name with ``_sd``:
        spaces become ``_``, ``" / "`` and dots are dropped, so ``("after A / B",
        "visible", 0.3)`` gives ``acc_after_AB_visible_03``.
    """
    out = {}
    for k, v in acc.items():
        key = f"acc_{k[0].replace(' / ', '').replace(' ', '_')}_{k[1]}_{k[2]:g}".replace(".", "")
        v = np.asarray(v)
        if v.size == 0:
            raise ValueError(f"no accuracies for {k}")
        out[key] = v.mean()
        out[key + "_sd"] = v.std()
    return out


def network_check_numbers(H: dict, settings: NetworkCheckSettings) -> dict[str, float]:
    """Key numbers of the N-dimensional check of task C (:func:`network_check_runs`).

    Parameters
    ----------
    H : dict
        From :func:`network_check_runs`.
    settings : NetworkCheckSettings
        Its settings: two network sizes ``Ns``, small then large; ``epochs``,
        ``eta``, ``batch_size`` (reported as ``check_epochs``, ``check_eta``,
        ``check_batch``).

    Returns
    -------
    dict
        ``check_N1``, ``check_N2``, ``check_batch``, ``check_epochs``, ``check_eta``,
        ``check_tau``; the network's distance from the theory ``check_vis_err1``,
        ``check_vis_err2``, ``check_inv_err1``, ``check_inv_err2``; twin gaps
        ``check_vis_0``, ``check_inv_0`` (start), ``check_vis_net``,
        ``check_vis_th``, ``check_inv_net``, ``check_inv_net1``, ``check_inv_th``
        (end); the part of ``z`` outside span{m, u, v} (:func:`lrtools.memory.outside_span`) in the
        twin where it grows most, ``check_zperp_start``, ``check_zperp_net``,
        ``check_zperp_th``; ``check_zz_excess`` (network minus theory ``sigma_zz``)
        and ``check_loss`` (mean batch loss of the last 20 epochs, larger twin).
    """
    Ns, epochs, eta, batch_size = settings.Ns, settings.epochs, settings.eta, settings.batch_size
    if len(Ns) != 2:
        raise ValueError(f"need two network sizes, got {list(Ns)}")
    N1, N2 = Ns
    gap = network_check_gaps(H, Ns)
    err = {Nc: {kind: max(gaps(H[(f"net_{t}", Nc)].final, H[f"th_{t}"].final, "erf")[kind]
                          for t in ("A", "B")) for kind in ("visible", "invisible")}
           for Nc in Ns}
    zperp = {t: (outside_span(H[(f"net_{t}", N2)].final), outside_span(H[f"th_{t}"].final))
             for t in ("A", "B")}
    t_max_perp = max(zperp, key=lambda t: zperp[t][0])  # the twin where it grows most
    zz_excess = {t: H[(f"net_{t}", N2)].final["zz"] - H[f"th_{t}"].final["zz"] for t in ("A", "B")}
    return {
        "check_N1": N1, "check_N2": N2, "check_batch": batch_size, "check_epochs": epochs,
        "check_eta": eta, "check_tau": eta * epochs,
        "check_vis_err1": err[N1]["visible"], "check_vis_err2": err[N2]["visible"],
        "check_inv_err1": err[N1]["invisible"], "check_inv_err2": err[N2]["invisible"],
        "check_vis_0": gap[("th", "visible")][0], "check_inv_0": gap[("th", "invisible")][0],
        "check_vis_net": gap[(N2, "visible")][-1], "check_vis_th": gap[("th", "visible")][-1],
        "check_inv_net": gap[(N2, "invisible")][-1], "check_inv_net1": gap[(N1, "invisible")][-1],
        "check_inv_th": gap[("th", "invisible")][-1],
        "check_zperp_start": outside_span(H[f"th_{t_max_perp}"].initial),
        "check_zperp_net": zperp[t_max_perp][0], "check_zperp_th": zperp[t_max_perp][1],
        "check_zz_excess": max(zz_excess.values()),
        "check_loss": max(H[("net_A", N2)].loss[-20:].mean(), H[("net_B", N2)].loss[-20:].mean()),
    }
