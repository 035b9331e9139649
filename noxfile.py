"""Nox sessions: ``lint``, ``tests`` (pytest and fast notebooks) and ``book``.

Run from a machine with Python >= 3.10 and git::

    python3 -m pip install nox && nox -s tests   # lint runs too with plain `nox`
    python3 -m pip install nox && nox -s book

Each session builds its own virtual environment under ``.nox/`` with the
interpreter that runs nox.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.3.2"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"

# torch is pinned exactly (also in pyproject.toml); installing it first, alone,
# means pip resolves it once and never swaps in another build.
TORCH = "torch==2.13.0"
RUFF = "ruff==0.17.6"

# Progress bars off for every run; the notebook kernels inherit this environment
# (MPLBACKEND is left alone: the kernels need their inline backend for figures). The environment's own
# Jupyter kernel ("python3", from ipykernel) is preferred over a user-wide one.
CI_ENV = {
    "TQDM_DISABLE": "1",
    "LRTOOLS_PROGRESS": "0",
    "JUPYTER_PREFER_ENV_PATH": "1",
}


def _install(session: nox.Session) -> None:
    """Install torch, then the package with its test and book extras."""
    session.install(TORCH)
    session.install("-e", ".[test,book]", TORCH)


@nox.session
def lint(session: nox.Session) -> None:
    """Check the code with ruff (config in pyproject.toml)."""
    session.install(RUFF)
    session.run("ruff", "check", ".", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run pytest (posargs passed on), then every notebook in fast mode.

    The notebooks of ``_toc.yml`` are executed with papermill and ``fast=True``;
    the executed notebooks, ``timings.json`` and the pytest JUnit report go to
    ``_build/fast/``.
    """
    _install(session)
    session.run("pytest", "--junitxml=_build/fast/pytest-report.xml", *session.posargs, env=CI_ENV)
    session.run("python", "tools/run_notebooks.py", env=CI_ENV)


@nox.session
def book(session: nox.Session) -> None:
    """Build the HTML book in ``_build/html``, executing every notebook.

    Notebooks run at their default (paper) settings. Any notebook error or
    Sphinx warning fails the session; reports go to ``_build/html/reports/``.
    Extra arguments are passed to ``jupyter-book build``.
    """
    _install(session)
    session.run("python", "tools/build_book.py", *session.posargs, env=CI_ENV)
