"""Execute every notebook of the book in fast mode (or ``--full``) with papermill.

The notebooks are listed in ``_toc.yml`` (Jupyter Book 1.x format) and written
as jupytext MyST markdown files. Each one is converted to ``.ipynb`` with
jupytext, executed with papermill and the parameter ``fast=True`` on the
``python3`` kernel, in its own folder (as the book build does), and saved under
the output folder with the same relative path, e.g.
``_build/fast/book/01_linear.ipynb``. The wall time of each notebook is printed
and written to ``<output>/timings.json``.

The exit status is non-zero if any notebook fails (all notebooks are still
run, unless ``--fail-fast`` is given), if a notebook listed in the table of
contents is missing, if a notebook has no cell tagged ``parameters``, if its text
quotes a glued number that no cell glued, or if an output would put on the page
something no reader should see: stderr output, a Python warning or a file-system
path (:func:`stray_outputs`). Key numbers go to ``$LRTOOLS_NUMBERS`` if set.

Usage::

    python tools/run_notebooks.py                  # every notebook in _toc.yml
    python tools/run_notebooks.py book/01_linear   # only these
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Progress bars off; the kernels inherit this environment. MPLBACKEND must not
# be set here: it would replace the kernel's inline backend and drop every figure.
CI_ENV = {"TQDM_DISABLE": "1", "LRTOOLS_PROGRESS": "0"}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def toc_files(toc_path: Path) -> list[str]:
    """Return the documents of a Jupyter Book table of contents, in reading order.

    Parameters
    ----------
    toc_path : pathlib.Path
        A ``_toc.yml`` in the ``jb-book`` or ``jb-article`` format.

    Returns
    -------
    list of str
        The ``root`` followed by every ``file`` entry of the parts, chapters and
        sections, as written (relative to the folder of ``_toc.yml``, usually
        without suffix). ``glob`` entries are expanded; ``url`` entries skipped.
    """
    import yaml

    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            elif "glob" in entry:
                matches = sorted(toc_path.parent.glob(entry["glob"] + ".*"))
                files.extend(str(m.relative_to(toc_path.parent).with_suffix("")) for m in matches)
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([toc])
    return files


def resolve(base: Path, name: str) -> Path:
    """Return the source file of the document ``name`` (suffix optional)."""
    path = base / name
    if path.suffix in (".md", ".ipynb") and path.is_file():
        return path
    for suffix in (".md", ".ipynb"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name!r} is listed in _toc.yml but no {name}.md or .ipynb exists")


def read_notebook(path: Path):
    """Read a notebook with jupytext; return ``None`` for a markdown page.

    A MyST ``.md`` file is a notebook when its front matter has a
    ``kernelspec`` (the rule MyST-NB applies); other ``.md`` files are plain
    pages and are not executed.
    """
    import jupytext

    nb = jupytext.read(path)
    if path.suffix == ".md" and "kernelspec" not in nb.metadata:
        return None
    return nb


def has_parameters_cell(nb) -> bool:
    """Return whether a code cell of ``nb`` is tagged ``parameters``."""
    return any(
        cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])
        for cell in nb.cells
    )


# What a published page must not show: a Python warning, a file-system path of the
# machine that built it. (stderr output is refused whatever it says.)
_WARNING = re.compile(r"\b[A-Z]\w*Warning\b(?::|\s*\()")
_ABS_PATH = re.compile(r"(?:^|[\s'\"(=\[,])(?:/(?:[\w.+-]+/)+[\w.+-]*|[A-Za-z]:\\\\[\w.\\ -]+)")
_PATH_REPR = re.compile(r"\b(?:Posix|Windows)Path\(")


def stray_outputs(path: Path) -> list[str]:
    """Outputs of an executed notebook that must not reach the book.

    Every stream written to stderr, and any output text that holds a Python
    warning, an absolute file-system path or a ``PosixPath`` repr; one line per
    problem, naming the cell.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    problems = []
    n_code = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        n_code += 1
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out.get("text", "")
                if out.get("name") == "stderr":
                    problems.append(f"code cell {n_code}: stderr output {text.strip()[:120]!r}")
                    continue
            else:
                data = out.get("data", {})
                text = str(data.get("text/plain", "")) + str(data.get("text/html", ""))
                if out.get("output_type") == "error":
                    text = f"{out.get('ename')}: {out.get('evalue')}"
            for what, pattern in (("a Python warning", _WARNING), ("an absolute path", _ABS_PATH),
                                  ("a path object", _PATH_REPR)):
                m = pattern.search(text)
                if m:
                    problems.append(f"code cell {n_code}: {what} {m.group(0).strip()!r}")
    return problems


# --- numbers typed in the prose -------------------------------------------------
# A number that a computation produced must be glued, never typed. What the prose
# may still write as numerals: references (Figure 4, chapter 2, rank 1, panel 3),
# the paper's identity (arXiv id, year), and the paper's fixed settings listed per
# chapter in tools/prose_numerals.json (each an exact phrase, e.g. "N = 500").
_STRIP = [
    re.compile(r"```.*?```", re.DOTALL),          # code fences and directives
    re.compile(r":::.*?:::", re.DOTALL),          # colon fences
    re.compile(r"\$\$.*?\$\$", re.DOTALL),         # display maths
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL),
    re.compile(r"(?<![\\$])\$(?!\$)[^$]+?\$"),        # inline maths (may span lines)
    re.compile(r"^\s*\d+\.\s", re.MULTILINE),        # numbered list items
    re.compile(r"\{[\w:-]+\}`[^`]*`"),             # roles: glue, numref, cite, eq, doc
    re.compile(r"`[^`]*`"),                        # inline code
    re.compile(r"\[[^\]]*\]\([^)]*\)"),             # links
    re.compile(r"<!--.*?-->", re.DOTALL),          # comments
    re.compile(r"^\(.*?\)=\s*$", re.MULTILINE),     # labels
]
_REFERENCE = re.compile(
    r"\b(?:Figures?|Fig\.|figures?|[Cc]hapters?|[Rr]ank|[Pp]anels?|[Pp]rediction|"
    r"[Ss]ection|[Tt]able|[Ee]quation|[Tt]heorem|[Pp]hase)s?\s+\d+[a-z]?(?:-[a-z])?"
    r"(?:(?:\s*[-–,/]\s*|\s+and\s+|\s+or\s+|\s+to\s+)\d+[a-z]?(?:-[a-z])?)*"
    r"|arXiv:\d+\.\d+|\b(?:19|20)\d\d\b|\b\d+(?:st|nd|rd|th)\b|\brank-\d\b")
_NUMERAL = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w])")


def prose_numerals(source: str, allowed: Sequence[str] = ()) -> list[tuple[int, str, str]]:
    """Numerals in the Markdown prose of a notebook that are neither glued nor allowed.

    Code, maths, roles (glue, cross-references), links and comments are removed;
    references (``Figure 4``, ``chapter 2``, ``rank 1``), the arXiv id and years
    are allowed, and so is every numeral inside one of the ``allowed`` phrases on
    its line. Returns ``(line, numeral, line text)`` for each other numeral.
    """
    out = []
    for lineno, line in prose_lines(source):
            spans = [m.span() for m in _REFERENCE.finditer(line)]
            for phrase in allowed:
                start = line.find(phrase)
                while start >= 0:
                    spans.append((start, start + len(phrase)))
                    start = line.find(phrase, start + 1)
            for m in _NUMERAL.finditer(line):
                if any(a <= m.start() and m.end() <= b for a, b in spans):
                    continue
                out.append((lineno, m.group(0), line.strip()))
    return out


def prose_lines(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of the Markdown prose of a notebook, as the numeral check reads it.

    Code, maths, roles, links, comments and labels are removed (each keeps its line
    breaks, so line numbers count within the markdown cells).
    """
    import jupytext

    nb = jupytext.reads(source, fmt="md:myst")
    out = []
    line0 = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        for pattern in _STRIP:
            text = pattern.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        out.extend((line0 + i + 1, line) for i, line in enumerate(text.splitlines()))
        line0 += cell.source.count("\n") + 1
    return out


def prose_allow_list() -> dict[str, list[str]]:
    """The allowed phrases per document (``tools/prose_numerals.json``: phrase -> reason)."""
    path = ROOT / "tools" / "prose_numerals.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {doc: list(phrases) for doc, phrases in data.items() if not doc.startswith("_")}


def prose_check(names: Sequence[str]) -> list[str]:
    """Every typed numeral in the prose of the documents ``names``, one message each."""
    allowed = prose_allow_list()
    out = []
    for name in names:
        path = ROOT / "book" / f"{Path(name).name}.md"
        for line, num, text in prose_numerals(path.read_text(encoding="utf-8"),
                                              allowed.get(path.stem, ())):
            out.append(f"{path.relative_to(ROOT)}: typed numeral {num!r} in prose "
                       f"(cell line {line}): {text[:100]}")
    return out


_GLUE_REF = re.compile(r"\{glue(?::[a-z]+)?\}`([A-Za-z_][A-Za-z0-9_]*)")


def missing_glue(path: Path) -> list[str]:
    """Names that the Markdown of an executed notebook quotes but no cell glued.

    The book build fails on such a reference (a warning under ``-W``); catching it
    here makes the fast run fail the same way.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    quoted = {m for cell in nb.cells if cell.cell_type == "markdown"
              for m in _GLUE_REF.findall(cell.source)}
    glued = {out.get("metadata", {}).get("scrapbook", {}).get("name")
             for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])}
    return sorted(quoted - glued)


def error_summary(exc: BaseException) -> str:
    """Return the exception raised in the notebook, without colour codes."""
    if hasattr(exc, "ename"):  # papermill.PapermillExecutionError
        lines = [f"{exc.ename}: {exc.evalue}", *exc.traceback]
        return _ANSI.sub("", "\n".join(lines))
    return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="documents to run (default: all in the toc)")
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "fast")
    parser.add_argument("--kernel", default="python3")
    parser.add_argument("--timeout", type=int, default=5400, help="per-cell timeout (s)")
    parser.add_argument("--full", action="store_true",
                        help="run at the paper's settings (fast=False) instead of fast mode")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    parser.add_argument("--log-output", action="store_true", help="echo cell outputs")
    parser.add_argument("--no-prose-check", action="store_true",
                        help="skip the check for typed numerals in prose")
    args = parser.parse_args(argv)

    for key, value in CI_ENV.items():
        os.environ.setdefault(key, value)

    import papermill as pm
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(args.kernel)
    print(f"kernel {args.kernel!r}: {' '.join(spec.argv[:3])} (runner: {sys.executable})")

    base = args.toc.resolve().parent
    names = args.names or toc_files(args.toc)
    names = [n.removesuffix(".md").removesuffix(".ipynb") for n in names]
    if not args.no_prose_check:
        typed = prose_check([n for n in names if (ROOT / "book" / f"{Path(n).name}.md").exists()])
        for message in typed:
            print(f"  TYPED    {message}", flush=True)
        if typed:
            print(f"{len(typed)} numerals in prose are neither glued nor in "
                  "tools/prose_numerals.json: glue them (or allow a fixed setting there)")
            return 1
    out_dir = args.output.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    fast = not args.full
    suffix = "-fast" if fast else ""
    numbers = Path(os.environ.get("LRTOOLS_NUMBERS") or ROOT / "_build" / "numbers")
    records = []
    failed = []
    start_all = time.perf_counter()
    for name in names:
        try:
            src = resolve(base, name)
            nb = read_notebook(src)
        except FileNotFoundError as exc:
            print(f"  MISSING  {name}: {exc}", flush=True)
            records.append({"file": name, "seconds": None, "status": "missing"})
            failed.append(name)
            continue
        if nb is None:
            print(f"  page     {name} (no kernelspec: not a notebook, skipped)", flush=True)
            continue
        if not has_parameters_cell(nb):
            print(f"  ERROR    {name}: no code cell tagged 'parameters'", flush=True)
            records.append({"file": name, "seconds": None, "status": "no parameters cell"})
            failed.append(name)
            continue
        target = out_dir / Path(name).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        # a stale numbers file must never stand in for this run's numbers
        (numbers / f"{Path(name).name}{suffix}.json").unlink(missing_ok=True)
        print(f"  running  {name} ...", flush=True)
        t0 = time.perf_counter()
        status = "ok"
        try:
            pm.execute_notebook(
                nb,
                str(target),
                parameters={"fast": fast},
                kernel_name=args.kernel,
                cwd=str(src.parent),
                progress_bar=False,
                log_output=args.log_output,
                execution_timeout=args.timeout,
            )
        except Exception as exc:  # report every failure, then go on
            status = "failed"
            failed.append(name)
            print(error_summary(exc), file=sys.stderr, flush=True)
        else:
            missing = missing_glue(target)
            stray = stray_outputs(target)
            if missing:
                print(f"{name}: the text quotes numbers that no cell glued: {missing}",
                      file=sys.stderr, flush=True)
            for problem in stray:
                print(f"{name}: {problem}", file=sys.stderr, flush=True)
            if missing or stray:
                status = "failed"
                failed.append(name)
        seconds = time.perf_counter() - t0
        records.append({"file": name, "seconds": round(seconds, 2), "status": status})
        print(f"  {status:<7}  {name:<28} {seconds:8.1f} s", flush=True)
        if failed and args.fail_fast:
            break

    total = time.perf_counter() - start_all
    report = {
        "parameters": {"fast": fast},
        "kernel": args.kernel,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "total_seconds": round(total, 2),
        "notebooks": records,
    }
    (out_dir / "timings.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"total {total:.1f} s; timings in {out_dir / 'timings.json'}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
