"""The kernels against the previous kernels and a plain PyTorch autograd version, in one run.

Usage: python benchmarks/bench_kernels.py [--repeat 7] [--json out.json] [--write-readme]

For each case, one training epoch's computation (loss and gradient on one batch)
is timed three ways in the same process, interleaved (one call of each per
round, in an order that turns from round to round, ``--repeat`` rounds, the
fastest call of each kept: on a shared machine the minimum is the least disturbed
measurement):

* ``lrtools``: what :meth:`lrtools.LowRankRNN.loss_and_gradient` runs now (and
  :func:`lrtools.theory.loss_and_gamma_many` for the fused reduced theory);
* ``previous``: the kernels as they were before (``_baseline_kernels.py``, a frozen
  copy), called with the same policy (serial or parallel, stored or recomputed
  activity) as the network class used with them;
* ``PyTorch``: what a user would write instead, the same equations with tensors
  (float64, matrix products per step) and ``loss.backward()``, on the same CPU
  with as many threads as numba.

The same run reports the largest relative deviation of the loss and gradient
(or ``Gamma``) from the previous kernels' and from PyTorch's. ``--write-readme``
puts the table into ``benchmarks/README.md`` between its marker comments.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _baseline_kernels as OLD  # noqa: E402

from lrtools import LowRankRNN, memory, tasks, theory  # noqa: E402
from lrtools import _kernels as K  # noqa: E402
from lrtools.network import squared_error  # noqa: E402

BEGIN, END = "<!-- bench-kernels:begin -->", "<!-- bench-kernels:end -->"
_STORE_LIMIT = 50_000_000  # the previous network class kept phi(h), phi'(h) up to this many


# --- the previous kernels, called as the network class called them ------------
def previous_loss_and_gradient(net: LowRankRNN, batch, weights, dt):
    x, target, _ = batch
    B, T = x.shape[:2]
    work = B * T * net.N
    threaded = work >= OLD._PARALLEL_WORK and numba.get_num_threads() > 1
    if net._code != OLD.LINEAR and not threaded and 2 * B * (T + 1) * net.N <= _STORE_LIMIT:
        A, P = np.empty((B, T + 1, net.N)), np.empty((B, T + 1, net.N))
    else:
        A = P = np.zeros((0, 0, 0))
    y, kap = OLD.net_forward(net.X, *net._idx, x, dt, net._code, A, P, net._w, work=work)
    loss, gy = squared_error(y, target, weights)
    return loss, OLD.net_backward(net.X, *net._idx, x, kap, gy, dt, net._code, A, P, net._w,
                                  work=work)


# --- what a user would write in PyTorch ----------------------------------------
def torch_loss_and_gradient(net: LowRankRNN, batch, weights, dt):
    x, target, _ = batch
    X = torch.tensor(net.X, requires_grad=True)
    M, U, V, Z = (X[:, torch.as_tensor(i)] for i in net._idx)
    phi = {"linear": lambda h: h, "erf": lambda h: torch.erf(math.sqrt(math.pi) / 2 * h),
           "tanh": torch.tanh}[net.phi]
    rows = (torch.full((net.N,), 1.0 / net.N, dtype=torch.float64) if net.row_weights is None
            else torch.as_tensor(net.row_weights))
    xt = torch.as_tensor(x)
    h = torch.zeros(x.shape[0], net.N, dtype=torch.float64)
    ys = []
    for t in range(x.shape[1]):
        h = (1 - dt) * h + dt * ((phi(h) * rows) @ V @ U.T + xt[:, t] @ M.T)
        ys.append((phi(h) * rows) @ Z)
    y = torch.stack(ys, dim=1)
    loss = (torch.as_tensor(weights) * (y - torch.as_tensor(target)) ** 2).sum()
    loss.backward()
    return loss.item(), X.grad.numpy()


def torch_loss_and_gamma_many(S, batch, weights, dt):
    # the reduced erf theory of n rank-1 networks at once: kappa_m shared, kappa_u (n, B)
    St = torch.tensor(S, requires_grad=True)
    mm, mu, uu = St[:, 0, 0, None], St[:, 0, 1, None], St[:, 1, 1, None]
    vm, vu, zm, zu = St[:, 2, 0, None], St[:, 2, 1, None], St[:, 3, 0, None], St[:, 3, 1, None]
    x, target = (torch.as_tensor(a[:, :, 0]) for a in batch[:2])
    w = torch.as_tensor(weights[:, :, 0])

    def gain(km, ku):
        return 1.0 / torch.sqrt(1.0 + math.pi / 2 * (mm * km**2 + 2 * mu * km * ku + uu * ku**2))

    km = torch.zeros(x.shape[0], dtype=torch.float64)
    ku = torch.zeros(len(S), x.shape[0], dtype=torch.float64)
    L = 0.0
    for t in range(x.shape[1]):
        ku = (1 - dt) * ku + dt * gain(km, ku) * (vm * km + vu * ku)
        km = (1 - dt) * km + dt * x[:, t]
        y = gain(km, ku) * (zm * km + zu * ku)
        L = L + (w[:, t] * (y - target[:, t]) ** 2).sum(dim=1)
    L.sum().backward()
    F = St.grad.numpy()
    return L.detach().numpy(), F + F.transpose(0, 2, 1)


def previous_loss_and_gamma_many(S, batch, w, dt):
    # the same dispatch (threads over networks) with the previous fused kernel
    saved = K.rank1_many
    K.rank1_many = OLD.rank1_many
    try:
        return theory.loss_and_gamma_many(S, batch, w, dt, "erf")
    finally:
        K.rank1_many = saved


# --- the cases ------------------------------------------------------------------
def network_case(phi, N, task, seed=0, row_weights=None):
    net = LowRankRNN.random(N, 1, phi=phi, seed=seed)
    if row_weights is not None:
        net = LowRankRNN(net.X, phi=phi, row_weights=row_weights)
    batch = task.sample(np.random.default_rng(seed))
    w = task.loss_weights(batch[2])
    return {"lrtools": lambda: net.loss_and_gradient(batch, w, task.dt),
            "previous": lambda: previous_loss_and_gradient(net, batch, w, task.dt),
            "PyTorch": lambda: torch_loss_and_gradient(net, batch, w, task.dt)}


def many_case(n, task):
    S = memory.random_overlaps(n, 0)
    batch = task.sample(np.random.default_rng(0))
    w = task.loss_weights(batch[2])
    return {"lrtools": lambda: theory.loss_and_gamma_many(S, batch, w, task.dt, "erf"),
            "previous": lambda: previous_loss_and_gamma_many(S, batch, w, task.dt),
            "PyTorch": lambda: torch_loss_and_gamma_many(S, batch, w, task.dt)}


def cases():
    flip = tasks.FlipFlop(dt=0.025, t_max=20.0, batch_size=10)  # 800 steps (Figure 4)
    filt = tasks.ExponentialFilter(c=0.2, dt=0.05, t_max=20.0)  # 400 steps (Figure 1)
    nodes = 6 ** 4
    pop = np.random.default_rng(1).uniform(0.5, 1.5, nodes)
    twin = tasks.FlipFlop(dt=0.05, t_max=20.0, batch_size=128)  # 400 steps (Figures 9, 10)
    return {
        "erf network, N=600, B=10, T=800": lambda: network_case("erf", 600, flip),
        "tanh network, N=600, B=10, T=800": lambda: network_case("tanh", 600, flip),
        "linear network, N=500, B=1, T=400": lambda: network_case("linear", 500, filt),
        f"erf population, {nodes} weighted rows, B=10, T=800":
            lambda: network_case("erf", nodes, flip, row_weights=pop / pop.sum()),
        "reduced erf theory, 10 networks fused, B=128, T=400": lambda: many_case(10, twin),
    }


def deviation(a, b) -> float:
    (La, Ga), (Lb, Gb) = a, b
    return max(abs(np.max(La) - np.max(Lb)) / abs(np.max(Lb)),
               float(np.max(np.abs(np.asarray(Ga) - Gb)) / np.max(np.abs(Gb))))


def measure(impls, repeat):
    results = {name: fn() for name, fn in impls.items()}  # warm-up (compiles), and the values
    best = dict.fromkeys(impls, math.inf)
    names = list(impls)
    for r in range(repeat):
        # the order turns every round: threads left spinning by one implementation
        # (OpenMP waits a while before it sleeps) slow each of the others in turn
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            impls[name]()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best, results


def machine() -> dict[str, str]:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = next(ln.split(":", 1)[1].strip() for ln in out.splitlines()
                   if ln.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        cpu = platform.processor() or platform.machine()
    return {"cpu": cpu, "date": datetime.date.today().isoformat(),
            "numba threads": numba.get_num_threads(), "torch threads": torch.get_num_threads(),
            "numba": numba.__version__, "torch": torch.__version__,
            "parallel": K.parallel_mode()}


def table(rows, info) -> str:
    lines = [f"Measured {info['date']} on {info['cpu']}, {info['numba threads']} numba and "
             f"{info['torch threads']} torch threads (numba {info['numba']}, torch "
             f"{info['torch']}, LRTOOLS_PARALLEL={info['parallel']}); the machine was shared, "
             "each time is the fastest of the interleaved rounds. Times in ms per epoch "
             "(loss and gradient on one batch); ratios are from the same run.", "",
             "| case | lrtools | previous kernels | PyTorch autograd | previous / lrtools "
             "| PyTorch / lrtools | deviation from previous | deviation from PyTorch |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        t = r["ms"]
        lines.append(f"| {r['case']} | {t['lrtools']:.1f} | {t['previous']:.1f} | "
                     f"{t['PyTorch']:.1f} | {t['previous'] / t['lrtools']:.2f}x | "
                     f"{t['PyTorch'] / t['lrtools']:.1f}x | {r['dev_previous']:.1e} | "
                     f"{r['dev_torch']:.1e} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    path = Path(__file__).resolve().parent / "README.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN not in old:
        old += f"\n{BEGIN}\n{END}\n"
    head, rest = old.split(BEGIN, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{rest.split(END, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cases", default=None, help="comma-separated case numbers (from 0)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(numba.get_num_threads())
    K.warmup()
    todo = list(cases().items())
    if args.cases:
        todo = [todo[int(i)] for i in args.cases.split(",")]
    rows = []
    for name, make in todo:
        best, res = measure(make(), args.repeat)
        row = {"case": name, "ms": {k: 1e3 * v for k, v in best.items()},
               "dev_previous": deviation(res["lrtools"], res["previous"]),
               "dev_torch": deviation(res["lrtools"], res["PyTorch"])}
        rows.append(row)
        print(json.dumps(row), flush=True)
    info = machine()
    text = table(rows, info)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    if args.write_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
