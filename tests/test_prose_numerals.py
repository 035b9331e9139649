"""The notebook runner's check for typed numbers in prose (tools/run_notebooks.py)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("jupytext")
ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

PAGE = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Title

The loss fell by {glue:text}`drop:.1e` in $N = 500$ neurons (Figure 4, chapter 2).
It took 312 epochs, about 40 % of the run, at rate 5e-3.

```{code-cell} ipython3
x = 12345
```
"""


def test_typed_numerals_are_found_and_glue_maths_code_references_are_not():
    found = [num for _, num, _ in run_notebooks.prose_numerals(PAGE)]
    assert found == ["312", "40", "5e-3"]
    allowed = run_notebooks.prose_numerals(PAGE, allowed=["at rate 5e-3"])
    assert [num for _, num, _ in allowed] == ["312", "40"]


def test_the_book_has_no_typed_numerals_outside_its_allow_list():
    names = [p.stem for p in sorted((ROOT / "book").glob("*.md"))]
    assert names, "no chapters found"
    assert run_notebooks.prose_check(names) == []
    # every allowed phrase still occurs on its page (no stale entries)
    for doc, phrases in run_notebooks.prose_allow_list().items():
        page = (ROOT / "book" / f"{doc}.md").read_text(encoding="utf-8")
        lines = [text for _, text in run_notebooks.prose_lines(page)]
        for phrase in phrases:
            assert any(phrase in text for text in lines), (doc, phrase)
