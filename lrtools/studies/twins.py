"""Chapter 4 studies: nonlinear twins and the history they keep (paper Figures 9, 10, 4d-f).

* :class:`TwinSettings`, :func:`twin_runs`: the paper's twin experiment
  (:class:`lrtools.twins.TwinProtocol`) in the reduced erf theory, cached;
* :func:`twin_decoding`: the A/B history decoded from the visible overlaps, the
  invisible ones, the invisible ones without the balance, and the behaviour, with
  intervals over pairs and a permutation null, beside the paper's own decoding;
* :func:`first_order_check`: the authors' first-order update against the exact map;
* :class:`NetworkCheckSettings`, :func:`network_check_runs`: task C for the median
  pair in the ``N``-dimensional erf network and in the population limit (cached);
* the key numbers of each (``*_numbers``).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import twins
from ..cache import cached_run
from ..conserved import balance
from ..decoding import decode, pair_decoding
from ..history import History
from ..memory import gap_series, gaps, outside_span
from ..twins import (
    TwinProtocol,
    median_twin_pair,
    twin_behaviour,
    twin_distances,
    twin_features,
)
from . import Settings

__all__ = [
    "TwinSettings",
    "NetworkCheckSettings",
    "FEATURE_SETS",
    "twin_runs",
    "probes",
    "twin_decoding",
    "first_order_check",
    "network_check_runs",
    "network_check_gaps",
    "twin_numbers",
    "decoding_numbers",
    "first_order_numbers",
    "network_check_numbers",
]

@dataclass(frozen=True, kw_only=True)
class TwinSettings(Settings):
    """The twin experiment of the book: the paper's protocol, more pairs, decoding with statistics.

    Parameters
    ----------
    protocol : TwinProtocol
        The experiment (:class:`lrtools.twins.TwinProtocol`); the book's default is
        the paper's protocol at the paper's scale with 50 pairs instead of 10, so
        that accuracies have intervals (the paper's 10 pairs are the first 10: the
        same starts and batches).
    paper_pairs : int
        The pairs the paper's own decoding uses (the first ``paper_pairs``).
    n_folds, n_perm, n_boot : int
        Folds over pairs, permutations of the null and bootstrap resamples of
        :func:`lrtools.decoding.pair_decoding`.
    noises : tuple of float
        Training-feature noise levels (the paper: 0 and 0.3).
    paper_runs : int
        Random splits of the paper's own decoding (8 training pairs, 2 test pairs,
        twins not kept together after the start, noise on the training set only).
    probe_trials : int
        Trials of each task in the behavioural read-out.
    record_step : int
        Decode along phase C at every ``record_step``-th record.
    check_protocol : TwinProtocol
        A smaller run of the same protocol with the authors' first-order update
        and with the exact map, to compare their conclusions: 10 pairs and 2000
        epochs per phase in both modes (:func:`check_protocol`). On the whole
        fast protocol (20 pairs, 4000 epochs per phase) the first-order update
        diverges during task C on a pair that the exact map trains.
    """

    protocol: TwinProtocol = field(default_factory=lambda: TwinProtocol.paper().replace(
        n_pairs=50))
    paper_pairs: int = 10
    n_folds: int = 5
    n_perm: int = 200
    n_boot: int = 2000
    noises: tuple[float, ...] = (0.0, 0.3)
    paper_runs: int = 50
    probe_trials: int = 2
    record_step: int = 30
    check_protocol: TwinProtocol = field(default_factory=lambda: check_protocol())

    @classmethod
    def fast(cls) -> TwinSettings:
        """The protocol at a small scale (:meth:`TwinProtocol.fast`), fewer permutations."""
        return cls(protocol=TwinProtocol.fast(), n_perm=100, n_boot=1000, record_step=10,
                   check_protocol=check_protocol())


def check_protocol() -> TwinProtocol:
    """The protocol of the first-order check: :meth:`TwinProtocol.fast`, 10 pairs, 2000 epochs."""
    return TwinProtocol.fast().replace(n_pairs=10, epochs=(2000, 2000))


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
    nodes : int
        Nodes per dimension of the population limit run beside the largest network.
    """

    Ns: tuple[int, ...] = (250, 1000)
    epochs: int = 240
    eta: float = 0.05
    batch_size: int = 4
    seed: int = 0
    nodes: int = 6

    @classmethod
    def fast(cls) -> NetworkCheckSettings:
        """``N = 100, 250``, 60 epochs, 4 nodes per dimension."""
        return cls(Ns=(100, 250), epochs=60, nodes=4)


# ---------------------------------------------------------------------------
# cached runs (every argument enters the key)
# ---------------------------------------------------------------------------


_cached_twin_experiment = cached_run("ch4-twins")(twins.twin_experiment)
_cached_network_twin_check = cached_run("ch4-network-check")(twins.network_twin_check)


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def twin_runs(settings: TwinSettings | None = None, *, progress: bool | None = None,
              executor: concurrent.futures.Executor | None = None) -> dict[str, np.ndarray]:
    """The twin experiment of ``settings.protocol``, cached (entry ``"ch4-twins"``).

    Parameters
    ----------
    settings : TwinSettings, optional
        Default: the book's (:meth:`TwinSettings.paper`).
    progress : bool, optional
        Progress bars.
    executor : concurrent.futures.Executor, optional
        Where its jobs run (:func:`lrtools.twins.twin_experiment`; the result does
        not depend on it, so it is not part of the cache key).

    Returns
    -------
    dict
        The result of :func:`lrtools.twins.twin_experiment`.
    """
    s = TwinSettings() if settings is None else settings
    return _cached_twin_experiment(s.protocol, progress=progress, executor=executor)


def probes(protocol: TwinProtocol, n_trials: int, seed: int = 12345) -> list:
    """Fixed probe trials of the three tasks for the behavioural read-out: ``[(batch, dt)]``."""
    rng = np.random.default_rng(seed)
    out = []
    for task in (protocol.task_a, protocol.task_b, protocol.task_c):
        out.append((dataclasses.replace(task, batch_size=n_trials).sample(rng), task.dt))
    return out


def _features(data: dict, stage: str, probe_batches: list) -> dict[str, np.ndarray]:
    f = twin_features(data, stage)
    f["behaviour"] = twin_behaviour(data, stage, probe_batches)
    return f


FEATURE_SETS = ("visible", "invisible", "balance_free", "behaviour")
STAGES = (("start", "start"), ("ab", "after A / B"), ("c", "after C"))


def twin_decoding(data: dict, settings: TwinSettings | None = None) -> dict:
    """Decode the A/B history of the twins from four feature sets at each stage.

    :func:`lrtools.decoding.pair_decoding` (cross-validated over pairs, bootstrap
    interval over pairs, permutation null) from the visible overlaps, the
    invisible ones, the invisible ones with the balance in place of ``sigma_vv``
    (:func:`lrtools.twins.twin_features`) and the behaviour (outputs on probe
    trials, :func:`lrtools.twins.twin_behaviour`); and the paper's own decoding on
    its 10 pairs (:func:`lrtools.decoding.decode`: random splits of 16 training and
    4 test networks, twins not kept together after the start, noise on the
    training set only), from the visible and invisible overlaps.

    Returns
    -------
    dict
        ``pairs``: ``{(stage label, feature set, noise): pair_decoding result}``;
        ``paper``: ``{(stage label, "visible"|"invisible", noise): accuracies
        (paper_runs,)}``; ``along_c``: ``{"visible"|"invisible"|"behaviour":
        accuracy}`` (no noise) at the epochs ``epoch_c`` of phase C.
    """
    s = TwinSettings() if settings is None else settings
    pb = probes(s.protocol, s.probe_trials)
    n = data["start"].shape[0]
    res: dict = {"pairs": {}, "paper": {}}
    k = min(s.paper_pairs, n)
    for stage, label in STAGES:
        f = _features(data, stage, pb)
        for kind in FEATURE_SETS:
            for z in s.noises:
                res["pairs"][(label, kind, z)] = pair_decoding(
                    f[kind], n_folds=s.n_folds, noise=z, n_perm=s.n_perm, n_boot=s.n_boot,
                    seed=len(res["pairs"]))
        for kind in ("visible", "invisible"):
            Fk = f[kind][:k]
            for z in s.noises:
                if stage == "start":  # twins are identical: the paper keeps pairs together
                    acc = decode(Fk, np.tile([0, 1], (k, 1)), k - 2, noise=z,
                                 train_noise_only=True, n_splits=s.paper_runs, seed=1)
                else:
                    acc = decode(Fk.reshape(2 * k, -1), np.tile([0, 1], k), [k - 2, k - 2],
                                 strata=[np.arange(0, 2 * k, 2), np.arange(1, 2 * k, 2)],
                                 noise=z, train_noise_only=True, n_splits=s.paper_runs, seed=1)
                res["paper"][(label, kind, z)] = acc
    records = data["c"][::s.record_step]
    res["along_c"] = {kind: [] for kind in ("visible", "invisible", "behaviour")}
    for r in range(len(records)):
        f = _features({"c": records[:r + 1]}, "c", pb)
        for kind in res["along_c"]:
            res["along_c"][kind].append(pair_decoding(f[kind], n_folds=s.n_folds, n_perm=0,
                                                      n_boot=10, seed=r)["accuracy"])
    res["along_c"] = {k_: np.array(v) for k_, v in res["along_c"].items()}
    res["epoch_c"] = data["c_epoch"][::s.record_step]
    return res


def first_order_check(settings: TwinSettings | None = None, *,
                      progress: bool | None = None) -> dict:
    """The authors' first-order update against the exact map, on ``check_protocol``.

    Both runs (cached) from the same starts and batches; returns their results
    (``exact``, ``first_order``) and the pair decoding after C from the invisible
    overlaps and from the behaviour (``decoding``), no feature noise.
    """
    s = TwinSettings() if settings is None else settings
    runs = {"exact": _cached_twin_experiment(s.check_protocol, update="exact",
                                             progress=progress),
            "first_order": _cached_twin_experiment(s.check_protocol, update="first-order",
                                                   progress=progress)}
    pb = probes(s.check_protocol, s.probe_trials)
    dec = {}
    for name, d in runs.items():
        f = _features(d, "c", pb)
        for kind in ("visible", "invisible", "behaviour"):
            dec[(name, kind)] = pair_decoding(f[kind], n_folds=s.n_folds, n_perm=s.n_perm,
                                              n_boot=s.n_boot, seed=7)
    return {**runs, "decoding": dec}


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
                                         batch_size=s.batch_size,
                                         nodes=s.nodes if Nc == s.Ns[-1] else 0)
        H.update({(k, Nc): History.from_arrays(chk, f"{k}/") for k in ("net_A", "net_B")})
        H.update({k: History.from_arrays(chk, f"{k}/") for k in ("th_A", "th_B")})
        if Nc == s.Ns[-1] and s.nodes:
            H.update({k: History.from_arrays(chk, f"{k}/") for k in ("pop_A", "pop_B")})
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


def twin_numbers(data: dict, settings: TwinSettings) -> dict[str, float]:
    """Key numbers of the nonlinear twins (:func:`twin_runs`).

    Parameters
    ----------
    data : dict
        From :func:`twin_runs`.
    settings : TwinSettings
        Its settings.

    Returns
    -------
    dict
        The protocol (``n_pairs``, ``paper_pairs``, ``epochs_ab``, ``epochs_c``,
        ``eta_ab``, ``eta_c``, ``batch``, ``loss_scale_c``, ``tau_c``: the learning
        time of C, ``eta_c * epochs_c * loss_scale_c``, in units of the plain mean
        squared error); twin distances (:func:`lrtools.twins.twin_distances`, mean
        and sd over pairs) ``vis_dist_ab``, ``inv_dist_ab``, ``vis_dist_c``,
        ``inv_dist_c``, ``vis_dist_c_sd``, ``inv_dist_c_sd``; ``dist_ratio_vis`` and
        ``dist_ratio_inv`` (end of A/B over end of C); losses ``loss_ab_a``,
        ``loss_ab_b`` (mean over the last 100 epochs and networks), ``loss_c_max``,
        ``loss_c_start``; ``drop_frac`` (networks whose A/B rate dropped); balance
        (:func:`lrtools.conserved.balance`) ``balance_twin_gap``,
        ``balance_start_drift``; mean twin gaps ``vv_gap``, ``uu_gap``, ``zz_gap``,
        ``zv_gap``; ``zz_B_larger`` (fraction of pairs whose B twin has the larger
        ``sigma_zz``).
    """
    p = settings.protocol
    loss_scale = float(getattr(p.task_c, "loss_scale", 1.0))
    dist = twin_distances(data)
    e_ab = int(data["ab_epoch"][-1])
    i_ab = int(np.searchsorted(dist["epoch"], e_ab))
    final = data["c"][-1]  # (pairs, 2, 4, 4)
    bal = balance(final)  # (pairs, 2)
    ab_tail = data["ab_loss"][-100:].mean(axis=0)  # (pairs, 2)
    return {
        "n_pairs": int(data["start"].shape[0]), "paper_pairs": settings.paper_pairs,
        "epochs_ab": e_ab, "epochs_c": int(data["c_epoch"][-1]), "eta_ab": p.eta_ab,
        "eta_c": p.eta_c, "batch": p.batch_size, "loss_scale_c": loss_scale,
        "tau_c": p.eta_c * int(data["c_epoch"][-1]) * loss_scale,
        "vis_dist_ab": dist["visible"][i_ab].mean(), "inv_dist_ab": dist["invisible"][i_ab].mean(),
        "vis_dist_c": dist["visible"][-1].mean(), "inv_dist_c": dist["invisible"][-1].mean(),
        "vis_dist_c_sd": dist["visible"][-1].std(), "inv_dist_c_sd": dist["invisible"][-1].std(),
        "dist_ratio_vis": dist["visible"][i_ab].mean() / dist["visible"][-1].mean(),
        "dist_ratio_inv": dist["invisible"][i_ab].mean() / dist["invisible"][-1].mean(),
        "loss_ab_a": ab_tail[:, 0].mean(), "loss_ab_b": ab_tail[:, 1].mean(),
        "loss_c_max": data["c_loss"][-100:].mean(axis=0).max(),
        "loss_c_start": data["c_loss"][:10].mean(),
        "drop_frac": float(np.mean(data["ab_drop"] >= 0)),
        "balance_twin_gap": np.max(np.abs(bal[:, 0] - bal[:, 1])),
        "balance_start_drift": np.max(np.abs(bal - balance(data["start"])[:, None])),
        "vv_gap": np.mean(np.abs(final[:, 0, 2, 2] - final[:, 1, 2, 2])),
        "uu_gap": np.mean(np.abs(final[:, 0, 1, 1] - final[:, 1, 1, 1])),
        "zz_gap": np.mean(np.abs(final[:, 0, 3, 3] - final[:, 1, 3, 3])),
        "zv_gap": np.mean(np.abs(final[:, 0, 2, 3] - final[:, 1, 2, 3])),
        "zz_B_larger": np.mean(final[:, 1, 3, 3] > final[:, 0, 3, 3]),
    }


def _key(stage: str, kind: str, noise: float) -> str:
    return f"{stage.replace(' / ', '').replace(' ', '_')}_{kind}_{noise:g}".replace(".", "")


def decoding_numbers(dec: dict) -> dict[str, float]:
    """Decoding accuracies of :func:`twin_decoding`, with intervals and p-values.

    For every (stage, feature set, noise) of the pair decoding, ``acc_<key>``
    (accuracy), ``acc_<key>_lo`` and ``_hi`` (the 95% interval over pairs),
    ``acc_<key>_p`` (permutation p-value); for the paper's decoding,
    ``paper_<key>`` and ``paper_<key>_sd`` (mean and sd over its random splits,
    the paper's error bar). ``<key>`` is e.g. ``after_C_invisible_03``
    (``" / "`` and dots dropped, spaces to ``_``). Also ``along_c_<kind>_end``,
    the accuracy at the end of phase C without noise, and ``min_p`` (the
    smallest p-value found).
    """
    out = {}
    for (stage, kind, z), r in dec["pairs"].items():
        k = _key(stage, kind, z)
        out[f"acc_{k}"] = r["accuracy"]
        out[f"acc_{k}_lo"], out[f"acc_{k}_hi"] = r["lo"], r["hi"]
        out[f"acc_{k}_p"] = r["p_value"]
    for (stage, kind, z), v in dec["paper"].items():
        k = _key(stage, kind, z)
        out[f"paper_{k}"] = float(np.mean(v))
        out[f"paper_{k}_sd"] = float(np.std(v))
    for kind, v in dec["along_c"].items():
        out[f"along_c_{kind}_end"] = float(v[-1])
    ps = [r["p_value"] for r in dec["pairs"].values()]
    out["min_p"] = float(min(ps))
    return out


def first_order_numbers(check: dict, settings: TwinSettings) -> dict[str, float]:
    """The authors' first-order update against the exact map (:func:`first_order_check`).

    ``fo_<update>_<kind>`` (accuracy after C) and ``fo_<update>_<kind>_p``;
    ``fo_inv_dist_<update>`` (mean invisible twin distance after C);
    ``fo_overlap_gap`` (the largest difference of a final overlap between the two
    updates) and the scale of that run (``fo_n_pairs``, ``fo_epochs_ab``,
    ``fo_epochs_c``, ``fo_batch``).
    """
    out = {}
    for (name, kind), r in check["decoding"].items():
        out[f"fo_{name}_{kind}"] = r["accuracy"]
        out[f"fo_{name}_{kind}_p"] = r["p_value"]
    for name in ("exact", "first_order"):
        out[f"fo_inv_dist_{name}"] = float(twin_distances(check[name])["invisible"][-1].mean())
    out["fo_overlap_gap"] = float(np.max(np.abs(check["exact"]["c"][-1]
                                                - check["first_order"]["c"][-1])))
    p = settings.check_protocol
    out.update(fo_n_pairs=p.n_pairs, fo_epochs_ab=p.epochs[0], fo_epochs_c=p.epochs[1],
               fo_batch=p.batch_size)
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
        **_population_gaps(H, N2),
        "check_loss": max(H[("net_A", N2)].loss[-20:].mean(), H[("net_B", N2)].loss[-20:].mean()),
    }


def _population_gaps(H: dict, N2: int) -> dict[str, float]:
    # the twins' gaps at the end of C in the population limit, if it was run
    if "pop_A" not in H:
        return {}
    g = gap_series(H["pop_A"], H["pop_B"], "erf")
    err = {kind: max(gaps(H[f"pop_{t}"].final, H[f"th_{t}"].final, "erf")[kind]
                     for t in ("A", "B")) for kind in ("visible", "invisible")}
    th = gap_series(H["th_A"], H["th_B"], "erf")["invisible"][-1]
    net = gap_series(H[("net_A", N2)], H[("net_B", N2)], "erf")["invisible"][-1]
    pop = g["invisible"][-1]
    return {"check_vis_pop": g["visible"][-1], "check_inv_pop": pop,
            "check_pop_vs_th": "above" if pop > th else "below",
            "check_net_closer": ("the population limit" if abs(net - pop) < abs(net - th)
                                 else "the Gaussian theory"),
            "check_pop_vis_err": err["visible"], "check_pop_inv_err": err["invisible"],
            "check_zz_pop_excess": max(H[f"pop_{t}"].final["zz"] - H[f"th_{t}"].final["zz"]
                                       for t in ("A", "B"))}
