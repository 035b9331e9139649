"""The parallel book build splits the notebooks into chunks of balanced execution time."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402  (tools/build_book.py)
import run_notebooks  # noqa: E402


def _docs():
    return sorted(str(Path(d).with_suffix("")) for d in run_notebooks.toc_files(ROOT / "_toc.yml"))


def test_every_document_is_read_exactly_once():
    docs = _docs()
    for nproc in (1, 2, 3, len(docs), len(docs) + 4):
        chunks = build_book.balanced_chunks(docs, nproc)
        assert sorted(d for c in chunks for d in c) == docs
        assert len(chunks) == min(nproc, len(docs)) and all(chunks)


def test_the_two_longest_notebooks_run_in_different_processes():
    docs = _docs()
    cost = build_book.NOTEBOOK_SECONDS
    assert set(cost) <= set(docs), "a timed notebook is not in the table of contents"
    first, second = sorted(cost, key=cost.get, reverse=True)[:2]
    chunks = build_book.balanced_chunks(docs, 2)
    where = {d: i for i, c in enumerate(chunks) for d in c}
    assert where[first] != where[second]
    loads = [sum(cost.get(d, 0.0) for d in c) for c in chunks]
    # greedy longest-first: the busier process exceeds the other by at most one document
    assert max(loads) - min(loads) <= max(cost.values())
    # Sphinx's own split (equal runs of the sorted names) puts chapters 1-4 together
    serial = max(sum(cost.get(d, 0.0) for d in docs[i:i + 4]) for i in (0, 4))
    assert max(loads) < serial


def test_balanced_chunks_rejects_no_process():
    with pytest.raises(ValueError, match="nproc"):
        build_book.balanced_chunks(["a"], 0)
