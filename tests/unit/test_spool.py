"""Spooling the part-a imsets to a temporary file changes no product; rows come back exactly."""

import numpy as np
import pytest

from reference_impl.imset import Imset, no_err
from reference_impl.io.products import product_path, write_product
from reference_impl.io.rawfile import read_raw
from reference_impl.io.spool import ImageSpool, SpooledImage
from reference_impl.pipeline import calibrate
from stischeck import environment
from tests.support.corpus import step_params, write_raw_with_switches

_CORPUS = environment.find_corpus()
#: The corpus steps with CR rejection (a _crj; with EXPSCORR an _flt from the flagged inputs).
CR_STEPS = [p for p in step_params(_CORPUS) if p.id.endswith(("-CRCORR", "-DARKCORR", "-FLATCORR"))]


def test_a_spooled_image_gives_back_any_block_of_rows_bit_for_bit():
    rng = np.random.default_rng(7)
    sci = rng.normal(size=(37, 11)).astype(np.float32)
    dq = rng.integers(-32768, 32767, size=(37, 11)).astype(np.int16)
    with ImageSpool() as spool:
        imset = spool.put_imset(Imset(sci, no_err(sci.shape), dq))
        assert isinstance(imset.sci, SpooledImage) and imset.sci.shape == (37, 11)
        for rows in (slice(0, 5), slice(30, 37), slice(36, 99), slice(10, 10)):
            assert imset.sci[rows].tobytes() == sci[rows].tobytes()
            assert imset.dq[rows].tobytes() == dq[rows].tobytes()
        loaded = imset.load()
        assert loaded.sci.tobytes() == sci.tobytes() and loaded.dq.tobytes() == dq.tobytes()
        assert 0 in loaded.err.strides  # a broadcast constant is kept, not written


def test_a_spooled_image_refuses_anything_but_a_block_of_rows():
    with ImageSpool() as spool:
        image = spool.put(np.zeros((4, 4), np.float32))
        with pytest.raises(TypeError, match="blocks of rows"):
            image[1]
        with pytest.raises(TypeError, match="blocks of rows"):
            image[0:4:2]


@pytest.mark.corpus
@pytest.mark.parametrize("step", CR_STEPS)
def test_spooled_part_a_gives_the_products_of_part_a_in_memory(step, tmp_path):
    # spool_above_bytes=0 spools every CR run, however small; the default holds these in memory.
    raw_path = write_raw_with_switches(step, tmp_path / "in")
    written = {}
    for name, limit in (("memory", 2**62), ("spooled", 0)):
        raw = read_raw(raw_path)
        result = calibrate(
            raw, oref_dir=step.case_dir / "oref", spool_above_bytes=limit,
            consume_input=name == "spooled",
        )  # fmt: skip
        out = tmp_path / name
        out.mkdir()
        for product in result.products:
            path = product_path(raw_path, f"{out}/", product.suffix)
            write_product(product, raw.primary_header, path)
        written[name] = sorted(p.name for p in out.iterdir())
        assert written[name], "the step made no product"
    assert written["memory"] == written["spooled"]
    for name in written["memory"]:
        a = (tmp_path / "memory" / name).read_bytes()
        b = (tmp_path / "spooled" / name).read_bytes()
        # The DATE card is the day of writing: compare everything else.
        assert _without_date(a) == _without_date(b), name


def _without_date(data: bytes) -> bytes:
    cards = [data[k : k + 80] for k in range(0, len(data), 80)]
    return b"".join(c for c in cards if not c.startswith(b"DATE    ="))
