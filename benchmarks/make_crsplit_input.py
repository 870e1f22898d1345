"""Build a full-frame CRSPLIT=N raw file from the corpus full-frame case, for benchmarks.

Usage::

    python benchmarks/make_crsplit_input.py CORPUS_CASE_DIR N OUT_RAW [--seed 1]

The corpus case ``img_ampD_g1_full_cr2`` has two 300 s imsets. This writes N
imsets of ``600/N`` s each (TEXPTIME stays 600 s, so the corpus CRREJTAB,
which has rows for CRSPLIT 1-8, applies): the scene is the pixel-wise
minimum of the two corpus imsets (cosmic rays mostly removed), its signal
above the row's overscan level scaled to the shorter exposure, with fresh
Poisson and read noise and new cosmic rays per imset. NEXTEND, CRSPLIT,
EXPTIME, EXPSTART and EXPEND are set to match; every other keyword, the
overscan and the reference files stay the corpus case's (run it with the
case's ``oref/``). Deterministic for a seed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits

READ_NOISE_DN = 5.7  # about the corpus CCDTAB's, for the synthetic noise only
SECONDS_PER_DAY = 86400.0
GAP_S = 60.0  # between imsets


def build(case_dir: Path, n_imsets: int, out: Path, *, seed: int) -> Path:
    """Write the CRSPLIT=``n_imsets`` raw file ``out``; returns it."""
    raw_path = next(case_dir.glob("*_raw.fits*"))
    rng = np.random.default_rng(seed)
    with fits.open(raw_path) as hdul:
        primary = hdul[0].header.copy()
        sci1, sci2 = (hdul["SCI", v].data.astype(np.float64) for v in (1, 2))
        templates = {e: hdul[e, 1].header.copy() for e in ("SCI", "ERR", "DQ")}
        null_err, null_dq = hdul["ERR", 1].copy(), hdul["DQ", 1].copy()
    total_s = float(primary["TEXPTIME"])
    exptime = total_s / n_imsets
    scene = np.minimum(sci1, sci2)
    # Overscan level per row from the leading serial overscan (amp D: columns 1-15).
    level = np.median(scene[:, 1:16], axis=1, keepdims=True)
    signal = np.clip(scene - level, 0.0, None) * (exptime / float(templates["SCI"]["EXPTIME"]))
    t0 = float(templates["SCI"]["EXPSTART"])
    hdus = [fits.PrimaryHDU(header=primary)]
    for k in range(1, n_imsets + 1):
        frame = level + rng.poisson(signal) + rng.normal(0.0, READ_NOISE_DN, scene.shape)
        n_hits = int(1500 * exptime / 300.0)
        j = rng.integers(20, scene.shape[0], n_hits)
        i = rng.integers(19, scene.shape[1] - 19, n_hits)
        amplitude = rng.uniform(150.0, 5000.0, n_hits)
        frame[j, i] += amplitude
        frame[np.clip(j + 1, 0, scene.shape[0] - 1), i] += 0.4 * amplitude  # short tracks
        data = np.clip(np.rint(frame), 0, 65535).astype(np.uint16)
        start = t0 + (k - 1) * (exptime + GAP_S) / SECONDS_PER_DAY
        sci_header = templates["SCI"].copy()
        for key in ("BSCALE", "BZERO"):
            sci_header.remove(key, ignore_missing=True)
        sci_header["EXTVER"] = k
        sci_header["EXPTIME"] = exptime
        sci_header["EXPSTART"] = start
        sci_header["EXPEND"] = start + exptime / SECONDS_PER_DAY
        hdus.append(fits.ImageHDU(data=data, header=sci_header))
        for null in (null_err, null_dq):
            hdu = null.copy()
            hdu.header["EXTVER"] = k
            hdus.append(hdu)
    primary = hdus[0].header
    primary["NEXTEND"] = 3 * n_imsets
    primary["CRSPLIT"] = n_imsets
    primary["TEXPSTRT"] = t0
    primary["TEXPEND"] = float(hdus[-3].header["EXPEND"])
    out.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList(hdus).writeto(out, overwrite=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case_dir", type=Path, help="the corpus case img_ampD_g1_full_cr2")
    ap.add_argument("n_imsets", type=int, help="CRSPLIT (1-8: the CRREJTAB has those rows)")
    ap.add_argument("out", type=Path, help="output *_raw.fits")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not 1 <= args.n_imsets <= 8:
        ap.error("N must be 1 to 8")
    build(args.case_dir, args.n_imsets, args.out, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
