"""How far the current kernels' numbers are from the previous kernels' (same run).

Usage: python benchmarks/check_agreement.py

Seeded cases (every nonlinearity, weighted rows or not, rank 1 and 2 with two
inputs and outputs, one step and long runs) go through the previous kernels
(``_baseline_kernels.py``) and through every variant of the current ones (serial
and parallel, activity stored or recomputed). Prints, per case, the relative
deviation of the loss, the output and the gradient (largest absolute difference
over largest absolute value), and whether the results are bit-identical; the
variants of the current kernels must agree with each other bit for bit. Then
the same for a short training run (``lrtools.train``, 20 epochs of GD, erf and
tanh) with the network's kernels swapped for the previous ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _baseline_kernels as OLD  # noqa: E402

import lrtools  # noqa: E402
from lrtools import LowRankRNN, tasks  # noqa: E402
from lrtools import _kernels as K  # noqa: E402


def case(N, rank, n_in, n_out, B, T, weighted, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, n_in + 2 * rank + n_out))
    c = np.cumsum([0, n_in, rank, rank, n_out])
    idx = tuple(np.arange(c[i], c[i + 1], dtype=np.int64) for i in range(4))
    x = rng.standard_normal((B, T, n_in))
    target = 0.3 * rng.standard_normal((B, T, n_out))
    w = rng.uniform(0.5, 1.5, N)
    return X, idx, x, target, (w / w.sum() if weighted else np.zeros(0))


def run(kernels, X, idx, x, target, w, code, store, parallel, dt=0.1):
    B, T, _ = x.shape
    A = np.empty((B, T + 1, X.shape[0])) if store else np.zeros((0, 0, 0))
    P = np.empty_like(A)
    fwd = kernels.net_forward.parallel if parallel else kernels.net_forward.serial
    bwd = kernels.net_backward.parallel if parallel else kernels.net_backward.serial
    out = fwd(X, *idx, x, dt, code, A, P, w)
    err = out[0] - target
    extra = out[2:]  # the current forward also returns the recurrent input
    grad = bwd(X, *idx, x, out[1], *extra, 2.0 * err, dt, code, A, P, w)
    return float(np.sum(err * err)), out[0], grad


def rel(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))


def kernel_cases() -> float:
    worst = 0.0
    shapes = {"rank 1": (300, 1, 1, 1, 4, 50), "rank 2, 2 in, 2 out": (200, 2, 2, 2, 3, 40),
              "one step": (100, 1, 1, 1, 1, 1), "2 inputs, long": (64, 1, 2, 1, 2, 300)}
    for label, shape in shapes.items():
        for phi, code in K.PHI_CODES.items():
            for weighted in (False, True):
                args = case(*shape, weighted)
                ref = run(OLD, *args, code, False, False)
                variants = [run(K, *args, code, s, p) for s in (False, True) for p in (False, True)]
                for v in variants[1:]:
                    if v[0] != variants[0][0] or not np.array_equal(v[2], variants[0][2]):
                        raise SystemExit(f"{label} {phi}: the kernel variants differ")
                new = variants[0]
                d = (abs(new[0] - ref[0]) / abs(ref[0]), rel(new[1], ref[1]), rel(new[2], ref[2]))
                worst = max(worst, *d)
                same = "bit-identical" if d == (0.0, 0.0, 0.0) else ""
                print(f"{label:20s} {phi:6s} {'weighted' if weighted else '        '}  loss "
                      f"{d[0]:.1e}  output {d[1]:.1e}  gradient {d[2]:.1e}  {same}")
    return worst


def training_cases() -> float:
    import lrtools.network as network

    task = tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=10)
    worst = 0.0
    for phi in ("erf", "tanh"):
        net = LowRankRNN.random(400, 1, phi=phi, seed=2)
        h_new = lrtools.train(net.copy(), task, 20, 5e-2, seed=1, progress=False)
        saved = network.K
        shim = _PreviousKernels()
        network.K = shim
        try:
            h_old = lrtools.train(net.copy(), task, 20, 5e-2, seed=1, progress=False)
        finally:
            network.K = saved
        d = (rel(h_new.loss, h_old.loss), rel(h_new.overlaps, h_old.overlaps))
        worst = max(worst, *d)
        print(f"train {phi}, N=400, 20 epochs: loss {d[0]:.1e}  overlaps {d[1]:.1e}")
    return worst


class _PreviousKernels:
    """The kernels module as the network class sees it, with the previous kernels."""

    def __getattr__(self, name):
        return getattr(K, name)

    @staticmethod
    def net_forward(*args, work):
        return (*OLD.net_forward(*args, work=work), None)

    @staticmethod
    def net_backward(X, iM, iU, iV, iZ, x, kap, rec, *rest, work):
        return OLD.net_backward(X, iM, iU, iV, iZ, x, kap, *rest, work=work)


def main() -> None:
    worst = max(kernel_cases(), training_cases())
    print(f"largest relative deviation from the previous kernels: {worst:.1e}")


if __name__ == "__main__":
    main()
