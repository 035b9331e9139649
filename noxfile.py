"""Nox sessions: ``lint``, ``tests`` (pytest and fast notebooks), ``book``, ``site``, ``perturb``.

Every environment is installed against ``constraints.txt``, the exact versions
the book is built with (``nox -s constraints`` regenerates it).

Run from a machine with Python >= 3.10 and git (the README's two commands; the
second is what .ci/run runs)::

    python3 -m venv .venv && .venv/bin/pip install nox && .venv/bin/nox -s book
    python3 -m venv .venv && .venv/bin/pip install nox && .venv/bin/nox -s lint tests

Each session builds its own virtual environment under ``.nox/`` with the
interpreter that runs nox.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.3.2"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"

# Every session installs against one file of exact versions (pyproject.toml keeps
# compatible ranges); `nox -s constraints` regenerates it.
CONSTRAINTS = "constraints.txt"
EXTRAS = ".[test,book,cluster]"
RUFF = "ruff==0.17.6"

# Progress bars off for every run; the notebook kernels inherit this environment
# (MPLBACKEND is left alone: the kernels need their inline backend for figures).
# The environment's own Jupyter kernel ("python3", from ipykernel) is preferred
# over a user-wide one.
CI_ENV = {
    "TQDM_DISABLE": "1",
    "LRTOOLS_PROGRESS": "0",
    "JUPYTER_PREFER_ENV_PATH": "1",
}


def _install(session: nox.Session) -> None:
    """Install torch, then the package with its test, book and cluster extras, all pinned.

    torch goes first, alone, so that pip resolves it once and never swaps in
    another build; the cluster extra (dask.distributed) lets the tests run a sweep
    on a local dask cluster (``tests/test_cluster.py``).
    """
    session.install("torch", "-c", CONSTRAINTS)
    session.install("-e", EXTRAS, "-c", CONSTRAINTS)


@nox.session
def lint(session: nox.Session) -> None:
    """Check the code with ruff (config in pyproject.toml)."""
    session.install(RUFF)
    session.run("ruff", "check", ".", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Every notebook in fast mode, pytest (posargs passed on), then the fast-mode website.

    The notebooks of ``_toc.yml`` are executed with papermill and ``fast=True``
    (executed notebooks and ``timings.json`` in ``_build/fast/``); each writes its
    key numbers to ``_build/numbers/``, which ``tests/test_regeneration.py`` then
    compares with the committed expected values. JUnit report:
    ``_build/fast/pytest-report.xml``. The executed notebooks are then rendered
    into ``_build/fast-html`` (nothing runs twice) and every page is opened in
    headless Chromium (installed with apt where it is missing and apt is usable).
    """
    _install(session)
    session.run("python", "tools/run_notebooks.py", env=CI_ENV)
    session.run("pytest", "--junitxml=_build/fast/pytest-report.xml", *session.posargs,
                env=CI_ENV | {"LRTOOLS_REQUIRE_NUMBERS": "1"})
    # the website of the fast run: its executed notebooks rendered, then browser-checked
    session.run("python", "tools/build_book.py", "--from-executed", "_build/fast", env=CI_ENV)
    if _chromium() is None:
        _install_chromium(session)
    if _chromium() is None:
        session.warn("Chromium not found and not installable here: browser check of the "
                     "fast-mode site skipped (apt install chromium; then nox -s site)")
        return
    _site_check(session, html="_build/fast-html")


@nox.session
def book(session: nox.Session) -> None:
    """Build the HTML book in ``_build/html``, executing every notebook, then check it.

    Notebooks run at their default (paper) settings. Any notebook error or
    Sphinx warning fails the session; reports go to ``_build/html/reports/``.
    Then the key numbers are compared with ``tests/expected/numbers-full.json``
    and, where Debian's Chromium is installed, every page is checked in a
    headless browser (``nox -s site`` runs that check alone and requires it).
    Extra arguments are passed to ``jupyter-book build``.
    """
    _install(session)
    session.run("python", "tools/build_book.py", *session.posargs, env=CI_ENV)
    session.run("python", "tools/keynumbers.py", "check", "--mode", "full", env=CI_ENV)
    if _chromium() is None:
        session.warn("Chromium not found: browser check skipped (apt install chromium; "
                     "then nox -s site)")
        return
    _site_check(session)


@nox.session
def perturb(session: nox.Session) -> None:
    """Rerun the perturbation study and re-derive the key numbers' tolerances.

    Runs the notebooks once per configuration of ``tools/perturb.py`` (BLAS kernel
    families, numba's target CPU, numpy's SIMD paths, thread counts, serial and
    parallel kernels; about an hour in fast mode on 2 cores), writes
    ``tests/expected/spread-<mode>.json`` and rewrites
    ``tests/expected/numbers-<mode>.json`` with ``tools/keynumbers.py derive``.
    Review the diff before committing. ``nox -s perturb -- --mode full`` does the
    same at the paper's settings (five configurations, a few hours);
    ``-- --configs a,b`` runs only some.
    """
    _install(session)
    mode = "full" if "full" in session.posargs else "fast"
    session.run("python", "tools/perturb.py", "run", *session.posargs, env=CI_ENV)
    session.run("python", "tools/perturb.py", "summary", "--mode", mode, env=CI_ENV)
    session.run("python", "tools/keynumbers.py", "derive", "--mode", mode, env=CI_ENV)


@nox.session
def site(session: nox.Session) -> None:
    """Open every page of the built book in headless Chromium (needs ``nox -s book`` first).

    Checks images, MathJax, error output and navigation; screenshots go to
    ``_build/site-check/``. Requires Debian's ``chromium`` (or ``$CHROMIUM``).
    """
    if _chromium() is None:
        session.error("Chromium not found: install Debian's chromium or set $CHROMIUM")
    _site_check(session)


@nox.session
def constraints(session: nox.Session) -> None:
    """Rewrite ``constraints.txt``: the newest versions the ranges of pyproject.toml allow.

    Installs lrtools with every extra into a fresh environment, without
    constraints, and writes its ``pip freeze`` (lrtools itself, pip and the CUDA
    runtime wheels of torch left out, local version labels such as ``+cpu``
    dropped, so that the pins hold for every build of a package). Review the
    diff, then run ``nox -s tests book``.
    """
    import re
    from pathlib import Path

    session.install("torch")
    session.install("-e", ".[test,book,cluster,gpu,site]")
    frozen = session.run("python", "-m", "pip", "freeze", "--exclude-editable", silent=True)
    # the CUDA runtime wheels of a GPU build of torch are left to torch itself
    skip = ("pip==", "lrtools", "nvidia-", "nvidia_", "cuda-", "cuda_", "triton==")
    pins = sorted({re.sub(r"\+\S*$", "", line.strip()) for line in frozen.splitlines()
                   if "==" in line and not line.lower().startswith(skip)}, key=str.lower)
    path = Path(CONSTRAINTS)
    header = [line for line in path.read_text(encoding="utf-8").splitlines()
              if line.startswith("#")] if path.exists() else []
    path.write_text("\n".join([*header, *pins]) + "\n", encoding="utf-8")
    session.log(f"wrote {len(pins)} pins to {path}")


def _chromium() -> str | None:
    import os
    import shutil

    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


def _install_chromium(session: nox.Session) -> None:
    """Debian's chromium through apt, where apt is there and we may use it (root or sudo)."""
    import os
    import shutil

    apt = shutil.which("apt-get")
    if apt is None:
        return
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run(*prefix, apt, "update", "-q", external=True, env=env, success_codes=[0, 100])
    session.run(*prefix, apt, "install", "-y", "-q", "--no-install-recommends", "chromium",
                external=True, env=env, success_codes=[0, 100])


def _site_check(session: nox.Session, html: str = "_build/html") -> None:
    session.install("pytest", "playwright", "pyyaml", "-c", CONSTRAINTS)
    session.run("pytest", "-q", "site_tests", "-p", "no:cacheprovider",
                env=CI_ENV | {"LRTOOLS_SITE_HTML": html})
