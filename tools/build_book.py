"""Build the book with every notebook executed, failing on any error.

``python tools/build_book.py --from-executed [_build/fast]`` instead renders the
notebooks a fast run already executed (``tools/run_notebooks.py``) into
``_build/fast-html``, executing nothing again: the site check of CI.

The file is also a Sphinx extension (``setup``, listed in ``_config.yml``) that
offers the executed notebook of each page for download.

Runs ``jupyter-book build . --all --warningiserror --keep-going`` (extra
arguments are passed on) in the repository root. ``_config.yml`` sets
``execute_notebooks: force`` and ``nb_execution_raise_on_error: true``, so a
failing cell stops the build with a non-zero exit status.

With raise-on-error, MyST-NB 1.x raises before it writes its own report
(``_build/html/reports/<doc>.err.log``), so this script writes the reports: the
whole build log goes to ``_build/html/reports/build.log`` and, when a notebook
fails, the failing cell and its traceback go to
``_build/html/reports/<doc>.err.log``, the path MyST-NB would use. Output is
also echoed to the terminal as it comes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
REPORTS = HTML / "reports"

CI_ENV = {"TQDM_DISABLE": "1", "LRTOOLS_PROGRESS": "0"}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FAILED_DOC = re.compile(r"ExecutionError: (?P<path>\S+\.(?:md|ipynb))\s*$", re.MULTILINE)
_CELL_ERROR = re.compile(
    r"^\S*CellExecutionError: (?P<body>.*?)(?=^The above exception|^Traceback|\Z)",
    re.MULTILINE | re.DOTALL,
)


def write_error_reports(log: str) -> list[Path]:
    """Write ``reports/<doc>.err.log`` for the notebook whose execution failed.

    Parameters
    ----------
    log : str
        The build output, colour codes removed.

    Returns
    -------
    list of pathlib.Path
        The reports written (empty when no notebook execution failed).
    """
    written = []
    docs = _FAILED_DOC.findall(log)
    cells = [m.group("body").strip() for m in _CELL_ERROR.finditer(log)]
    for path, cell in zip(docs, cells or [log], strict=False):
        try:
            doc = Path(path).resolve().relative_to(ROOT).with_suffix("")
        except ValueError:
            doc = Path(Path(path).stem)
        report = REPORTS / f"{doc}.err.log"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(cell + "\n", encoding="utf-8")
        written.append(report)
    return written


_PARALLEL_CLI = """
import importlib
import sys

# Two extensions that Jupyter Book loads do not declare whether they are safe for
# parallel reading, which makes Sphinx read serially (and warn, failing a -W
# build). Both are: sphinx_multitoc_numbering only renumbers sections on the
# merged environment after reading, and sphinx_jupyterbook_latex only adds node
# types, config values and transforms that act on one document at a time.
for name in ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex"):
    module = importlib.import_module(name)
    def setup(app, _setup=module.setup):
        meta = _setup(app) or {}
        return {**meta, "parallel_read_safe": True, "parallel_write_safe": True}
    module.setup = setup

# Sphinx cuts the sorted documents into equal runs (chapters 1-4 in one process,
# chapter 5 and the short pages in the other); read them in chunks balanced by
# their execution times instead (build_book.balanced_chunks).
import sphinx.builders

sys.path.insert(0, sys.argv[2])
from build_book import balanced_chunks

sphinx.builders.make_chunks = lambda docs, nproc, maxbatch=10: balanced_chunks(docs, nproc)

import jupyter_book.sphinx as jbs
from jupyter_book.cli.main import main

_build = jbs.build_sphinx
jobs = int(sys.argv[1])
jbs.build_sphinx = lambda *a, **k: _build(*a, **{**k, "jobs": jobs})
main(sys.argv[3:])
"""

#: Execution time of each notebook at paper settings, in seconds, one thread
#: (MyST-NB's timing in a fresh-clone build, 3 December 2026, 2-core Intel Xeon,
#: other work sharing the cores). Only the proportions matter: they balance the
#: parallel build (two jobs: chapters 4, 3, 1 and the short pages; chapters 2, 5).
NOTEBOOK_SECONDS = {
    "book/04_memory": 5355.0,
    "book/02_nonlinear": 4899.0,
    "book/05_predictions": 1847.0,
    "book/03_probe": 290.0,
    "book/01_linear": 88.0,
    "book/intro": 9.0,
}


def balanced_chunks(docnames, nproc: int, seconds: dict[str, float] | None = None) -> list:
    """Split documents into at most ``nproc`` chunks of about equal execution time.

    Sphinx reads each chunk in one process, its documents one after another, and
    starts ``nproc`` processes at a time. Greedy longest-first assignment: each
    document, longest first, goes to the chunk with the least time so far
    (documents without a time count as 0). With ``nproc`` chunks every chunk starts
    at once, so no queue order matters.

    Parameters
    ----------
    docnames : sequence of str
        Sphinx document names.
    nproc : int
        Number of parallel processes.
    seconds : dict, optional
        Execution time per document (default :data:`NOTEBOOK_SECONDS`).

    Returns
    -------
    list of list of str
        Every document exactly once; no empty chunk.
    """
    if nproc < 1:
        raise ValueError(f"nproc must be at least 1, got {nproc}")
    cost = NOTEBOOK_SECONDS if seconds is None else seconds
    docs = sorted(docnames, key=lambda d: -cost.get(d, 0.0))  # stable: ties keep their order
    chunks: list[list[str]] = [[] for _ in range(min(nproc, len(docs)))]
    load = [0.0] * len(chunks)
    for d in docs:
        i = min(range(len(chunks)), key=lambda j: (load[j], len(chunks[j])))
        chunks[i].append(d)
        load[i] += cost.get(d, 0.0)
    return [c for c in chunks if c]


def install_mathjax() -> Path:
    """Copy MathJax 3 (from the ``django-static-mathjax`` wheel) to ``_build/mathjax/mathjax``.

    ``_config.yml`` adds ``_build/mathjax`` to Sphinx's static path and points
    ``mathjax_path`` at it, so the book renders its equations without a network
    connection. (Not under ``_static``: Jupyter Book would load every script there.)
    """
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    src = None if spec is None or spec.origin is None else (
        Path(spec.origin).parent / "static" / "mathjax" / "es5")
    if src is None or not (src / "tex-mml-chtml.js").exists():
        raise SystemExit("MathJax not found: install the [book] extra (django-static-mathjax)")
    dest = ROOT / "_build" / "mathjax" / "mathjax"
    if not (dest / "tex-mml-chtml.js").exists():
        shutil.copytree(src, dest, dirs_exist_ok=True)
    return dest


def stage_executed(executed: Path, stage: Path) -> Path:
    """A book source folder whose notebooks are the already executed ones in ``executed``.

    Copies ``_config.yml`` (execution off), ``_toc.yml`` and every executed
    notebook of the table of contents (``<executed>/<doc>.ipynb``, as
    ``tools/run_notebooks.py`` writes them) into ``stage``, with the book's other
    source files (bibliography, static folders). Returns ``stage``; building it
    renders the fast-mode outputs without executing anything again.
    """
    import yaml

    sys.path.insert(0, str(ROOT / "tools"))
    import run_notebooks

    shutil.rmtree(stage, ignore_errors=True)
    (stage / "_build").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = "off"
    # local Sphinx extensions (this file among them) stay where they are
    for name, folder in config.get("sphinx", {}).get("local_extensions", {}).items():
        config["sphinx"]["local_extensions"][name] = str((ROOT / folder).resolve())
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    shutil.copy(ROOT / "_toc.yml", stage / "_toc.yml")
    for extra in ("references.bib",):
        if (ROOT / extra).exists():
            shutil.copy(ROOT / extra, stage / extra)
    for doc in run_notebooks.toc_files(ROOT / "_toc.yml"):
        src = run_notebooks.resolve(ROOT, doc)
        nb = executed / Path(doc).with_suffix(".ipynb")
        target = stage / Path(doc).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".md" and run_notebooks.read_notebook(src) is None:
            shutil.copy(src, stage / src.relative_to(ROOT))  # a plain page
        elif nb.exists():
            shutil.copy(nb, target)
        else:
            raise SystemExit(f"no executed notebook {nb}: run tools/run_notebooks.py first")
    mathjax = ROOT / "_build" / "mathjax"
    shutil.copytree(mathjax, stage / "_build" / "mathjax")
    return stage


def offer_executed_notebook(app, pagename, templatename, context, doctree) -> None:
    """Put a notebook page's executed ``.ipynb`` into its download menu.

    MyST-NB writes every executed notebook to ``_build/jupyter_execute``, but
    sphinx-book-theme offers it for download (as ``_sources/<page>.ipynb``) only
    when a launch service (Binder, JupyterHub, Colab, ...) is configured. For a
    page written in MyST Markdown this copies the executed notebook there and
    tells the theme, which then lists ``.ipynb`` beside ``.md`` and ``.pdf``.
    Pages whose source is already an ``.ipynb`` (the fast-mode site) and plain
    Markdown pages are left alone.
    """
    if context.get("ipynb_source") or not str(context.get("sourcename", "")).endswith(
            (".md", ".md.txt")):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


_CODE_SPAN = re.compile(r"(``.*?``|`[^`]*`)")
_BLOCK_START = re.compile(r"^\s*(?:\|\s|\|$|\+[-=])")  # a line block or a table
_LETTER_ITEM = re.compile(r"^(\s*)(\([a-z]\) )")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def plain_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    """Read two habits of the docstrings as plain text, not as reST markup.

    Bars are absolute values and norms (``|u|^2/N``, ``|excess kurtosis|``), not
    substitution references: outside code spans and roles they are escaped. A
    paragraph that opens with a panel letter, ``(a) ... (b) ...`` as in a
    figure caption, is a paragraph, not an enumerated list: its opening
    parenthesis is escaped when the next line is not indented under it. reST
    tables and line blocks are left alone. (``autodoc-process-docstring``.)
    """
    for i, line in enumerate(lines):
        if "|" in line and not _BLOCK_START.match(line):
            parts = _CODE_SPAN.split(line)
            line = "".join(p if k % 2 else p.replace("|", "\\|") for k, p in enumerate(parts))
        item = _LETTER_ITEM.match(line)
        if item and (i == 0 or not lines[i - 1].strip()) and i + 1 < len(lines) \
                and lines[i + 1].strip() and _indent(lines[i + 1]) <= _indent(line):
            line = f"{item.group(1)}\\{line[item.end(1):]}"
        lines[i] = line


def setup(app) -> dict:
    """Sphinx extension (``_config.yml``: ``sphinx.local_extensions``) of the book.

    Offers each notebook page's executed ``.ipynb`` for download
    (:func:`offer_executed_notebook`) and reads the docstrings' bars as absolute
    values (:func:`plain_docstring`).
    """
    # before sphinx-book-theme's header buttons (priority 501) are made
    app.connect("html-page-context", offer_executed_notebook, priority=500)
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", plain_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    """Build the book; return jupyter-book's exit status."""
    for key, value in CI_ENV.items():
        os.environ.setdefault(key, value)
    install_mathjax()
    if argv[:1] == ["--from-executed"]:
        # render the fast run's executed notebooks: _build/fast -> _build/fast-html
        executed = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "fast"
        return build_staged(executed.resolve(), argv[2:])
    exe = shutil.which("jupyter-book")
    if exe is None:
        print("jupyter-book not found: install the [book] extra", file=sys.stderr)
        return 2
    jobs = int(os.environ.get("BOOK_JOBS", os.cpu_count() or 1))
    # Each job gets its share of the cores: two notebooks that each start a
    # thread per core slow each other down (chapter 2 took 640 s instead of 425 s).
    share = str(max(1, (os.cpu_count() or 1) // max(jobs, 1)))
    for key in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS"):
        os.environ.setdefault(key, share)
    args = ["build", ".", "--all", "--warningiserror", "--keep-going", *argv]
    # The jupyter-book CLI has no option for Sphinx's parallel build, but its
    # build_sphinx() takes `jobs`: run the CLI with that argument filled in, so the
    # notebooks execute in `jobs` processes (MyST-NB is parallel-read safe), each
    # reading one chunk of notebooks of about equal execution time (balanced_chunks).
    cmd = [sys.executable, "-c", _PARALLEL_CLI, str(jobs), str(ROOT / "tools"), *args]
    print(f"+ jupyter-book {' '.join(args)}  ({jobs} parallel job(s); BOOK_JOBS to change)",
          flush=True)

    shutil.rmtree(REPORTS, ignore_errors=True)  # no stale reports from an earlier build
    chunks = []
    with subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    ) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            chunks.append(line)
    status = proc.returncode

    log = _ANSI.sub("", "".join(chunks))
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "build.log").write_text(log, encoding="utf-8")
    if status != 0:
        for report in write_error_reports(log):
            print(f"Notebook execution failed; cell and traceback in {report}", file=sys.stderr)
        print(f"Book build FAILED (exit {status}); log in {REPORTS / 'build.log'}", file=sys.stderr)
    return status


def build_staged(executed: Path, extra: list[str]) -> int:
    """Build the HTML of the executed notebooks in ``executed`` into ``_build/fast-html``."""
    stage = stage_executed(executed, ROOT / "_build" / "fast-site")
    exe = shutil.which("jupyter-book")
    if exe is None:
        print("jupyter-book not found: install the [book] extra", file=sys.stderr)
        return 2
    args = [exe, "build", str(stage), "--all", "--warningiserror", "--keep-going", *extra]
    print(f"+ jupyter-book build (executed notebooks of {executed})", flush=True)
    status = subprocess.run(args, cwd=stage).returncode
    out = ROOT / "_build" / "fast-html"
    shutil.rmtree(out, ignore_errors=True)
    if status == 0:
        shutil.copytree(stage / "_build" / "html", out)
        print(f"fast-mode site in {out}", flush=True)
    else:
        print(f"fast-mode site build FAILED (exit {status})", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
