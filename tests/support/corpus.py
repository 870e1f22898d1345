"""Read corpus cases and products for the regression tests."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from reference_impl.io.fitsutil import extension_data, find_hdu


@dataclass(frozen=True)
class CorpusStep:
    case: str
    step: str
    case_dir: Path
    manifest: dict
    step_entry: dict

    @property
    def id(self) -> str:
        return f"{self.case}-{self.step}"

    @property
    def raw(self) -> Path:
        return self.case_dir / self.manifest["raw"]["file"]

    @property
    def products(self) -> dict[str, Path]:
        """Suffix (flt, crj) -> stored product."""
        out = {}
        for p in self.step_entry["products"]:
            path = self.case_dir / p["file"]
            out[path.name.split(".")[0].rsplit("_", 1)[1]] = path
        return out


def all_steps(corpus: Path) -> list[CorpusStep]:
    """Every step of every corpus case."""
    out = []
    for case_dir in sorted(p for p in corpus.iterdir() if (p / "manifest.json").is_file()):
        manifest = json.loads((case_dir / "manifest.json").read_text())
        for entry in manifest["steps"]:
            out.append(CorpusStep(case_dir.name, entry["step"], case_dir, manifest, entry))
    return out


def step_params(corpus: Path | None) -> list:
    """
    ``pytest.param`` per corpus step (id ``<case>-<step>``) for ``parametrize``.

    Without a corpus, one parameter skipped with the corpus reason, so that the
    test says why it did not run rather than "got empty parameter set".
    """
    return _params_or_skip(corpus, all_steps)


@dataclass(frozen=True)
class StepTransition:
    """A product as one step found it and as it left it: calstis's input and output of a step.

    ``before`` is the product of the corpus step before (same suffix): the cumulative
    ladder stores every step's products, so each step's input is the previous step's output.
    """

    case: str
    step: str
    case_dir: Path
    manifest: dict
    suffix: str
    before: Path
    after: Path

    @property
    def id(self) -> str:
        return f"{self.case}-{self.suffix}"

    def reference(self, keyword: str) -> Path:
        """The case's reference file named by ``keyword`` (``DARKFILE``, ``PFLTFILE`` ...)."""
        return self.case_dir / self.manifest["reference_files"][keyword]


def step_transitions(corpus: Path, step: str) -> list[StepTransition]:
    """Every product of ``step`` whose input, the previous step's product, the corpus stores."""
    out = []
    steps = all_steps(corpus)
    for prev, this in zip(steps, steps[1:], strict=False):
        if this.step != step or prev.case != this.case:
            continue
        for suffix, after in sorted(this.products.items()):
            before = prev.products.get(suffix)
            if before is not None:
                out.append(
                    StepTransition(
                        this.case, step, this.case_dir, this.manifest, suffix, before, after
                    )
                )
    return out


def _params_or_skip(corpus: Path | None, items) -> list:
    import pytest

    from stischeck.pytest_plugin import CORPUS_SKIP_REASON

    if corpus is None:
        return [
            pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=CORPUS_SKIP_REASON))
        ]
    return [pytest.param(item, id=item.id) for item in items(corpus)]


def transition_params(corpus: Path | None, step: str) -> list:
    """``pytest.param`` per `StepTransition` of ``step``; one skipped with the corpus reason
    when there is no corpus (as `step_params`)."""
    return _params_or_skip(corpus, lambda c: step_transitions(c, step))


def sci_placement(header):
    """Binning and corner of a product's SCI extension, from its LTV/LTM (spec §7)."""
    from reference_impl.geometry import placement_from_lt

    return placement_from_lt(
        float(header.get("LTV1", 0.0)),
        float(header.get("LTV2", 0.0)),
        float(header.get("LTM1_1", 1.0)),
        float(header.get("LTM2_2", 1.0)),
    )


def imset_pairs(transition: StepTransition):
    """Yield ``(extver, before Imset, after arrays, before HDU list, after HDU list)`` per imset.

    The two products stay open while the caller works on one pair.
    """
    from reference_impl.imset import Imset

    before, before_hdul = read_imsets(transition.before)
    after, after_hdul = read_imsets(transition.after)
    with before_hdul, after_hdul:
        assert len(before) == len(after), f"{transition.id}: imset counts differ"
        for k, (science, want) in enumerate(zip(before, after, strict=True), start=1):
            yield k, Imset(*science), want, before_hdul, after_hdul


def assert_bit_identical(got, want, what: str = "") -> None:
    """SCI, ERR, DQ of two imsets equal bit for bit (same dtype and shape; NaN payloads too)."""
    for name, a, b in zip(("SCI", "ERR", "DQ"), got, want, strict=True):
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what} {name}"
        n = int(np.count_nonzero(a.view(np.uint8) != b.view(np.uint8)))
        assert n == 0, f"{what} {name}: {n} bytes differ"


def write_raw_with_switches(step: CorpusStep, dest: Path) -> Path:
    """Copy the case's raw file to ``dest`` with the step's switches set (as the corpus did)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{step.manifest['params']['rootname']}_raw.fits"
    with fits.open(step.raw) as hdul:
        for key, value in step.step_entry["switches"].items():
            hdul[0].header[key] = value
        hdul.writeto(out)
    return out


def read_imsets(path: Path) -> tuple[list[tuple[np.ndarray, ...]], fits.HDUList]:
    """SCI, ERR, DQ of every imset (null extensions expanded) and the open HDU list."""
    hdul = fits.open(path)
    n = int(hdul[0].header.get("NEXTEND", 3)) // 3
    imsets = []
    for v in range(1, n + 1):
        imsets.append(
            tuple(
                extension_data(find_hdu(hdul, e, v), dt)
                for e, dt in (("SCI", np.float32), ("ERR", np.float32), ("DQ", np.int16))
            )
        )
    return imsets, hdul
