"""The twin figures draw their panels (toy runs)."""

import dataclasses

import matplotlib
import pytest

matplotlib.use("Agg")

import lrtools  # noqa: E402
from lrtools.figures import twins as figures  # noqa: E402
from lrtools.studies import twins as study  # noqa: E402


def _titles(fig):
    return [ax.get_title().split()[0] for ax in fig.axes if ax.get_title()]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LRTOOLS_CACHE", str(tmp_path_factory.mktemp("cache")))
    f = lrtools.TwinProtocol.fast()
    small = {k: dataclasses.replace(getattr(f, k), batch_size=4)
             for k in ("task_a", "task_b", "task_c")}
    p = f.replace(**small, epochs=(20, 20), n_pairs=5, record_every=10)
    s = study.TwinSettings(protocol=p, paper_pairs=4, n_folds=2, n_perm=3, n_boot=20,
                           paper_runs=3, record_step=1)
    tw = study.twin_runs(s)
    yield s, tw, study.twin_decoding(tw, s)
    mp.undo()


def test_panels(toy):
    s, tw, dec = toy
    assert _titles(figures.plot_figure9(tw, s)) == ["a", "b", "c", "d", "e", "f"]
    assert len(figures.plot_figure10(tw).axes) == 2
    assert len(figures.plot_decoding(dec).axes) == 2
    fig = figures.plot_figure4_memory(tw, dec, s)
    assert {"d", "e", "f"} <= set(_titles(fig)) | {"d"}


def test_registry_signature():
    import inspect

    for fn in (figures.figure9, figures.figure10, figures.figure4_memory):
        assert list(inspect.signature(fn).parameters) == ["fast", "progress"]
