"""The reviewer's HTML report of a ``stischeck compare`` output folder.

``write_report(outdir)`` reads the folder's tables and products and writes
``outdir/report.html``: one self-contained file (PNG data URIs, inline CSS,
no script). Data flow: `folder` (read the tables) -> `model` (compute the
image statistics once) -> `figures` + `html` (render). Verdicts are read from
``verdicts.csv`` and ``summary.json``, never recomputed.
"""

from pathlib import Path

__all__ = ["write_report"]


def write_report(outdir, pixels=None, out=None) -> Path:
    """
    Write the HTML report of a compare output folder.

    Parameters
    ----------
    outdir : str or Path
        The ``--outdir`` of ``stischeck compare``.
    pixels : list of str, optional
        ``"X,Y"`` pixels (FITS, 1-based, in the final product's coordinates)
        to follow through the steps, besides the most negative ones.
    out : str or Path, optional
        Where to write (default ``outdir/report.html``).

    Returns
    -------
    Path
        The report file.

    Raises
    ------
    InputFileError
        ``outdir`` is missing or not a compare folder.
    UsageError
        A pixel is malformed or outside the final product.
    """
    from stischeck.errors import InputFileError
    from stischeck.report.folder import load_folder
    from stischeck.report.html import render_html
    from stischeck.report.model import build_model, parse_pixels

    wanted = parse_pixels(pixels)
    folder = load_folder(outdir)
    text = render_html(build_model(folder, wanted))
    path = Path(out) if out is not None else folder.path / "report.html"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputFileError(f"{path}: cannot write the report ({err.strerror})") from err
    return path
