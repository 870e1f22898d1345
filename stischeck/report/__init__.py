"""The reviewer's HTML report of a ``stischeck compare`` output folder.

``write_report(outdir)`` reads the folder's tables and products and writes
``outdir/report.html``: one self-contained file (PNG data URIs, inline CSS,
no script). Data flow: `folder` (read the tables, trailers and products)
-> `model` (build the view models of `views`: `sections`, `verdicts`,
`pixels`) -> `figures` + `html` (render). Verdicts are read from
``verdicts.csv`` and ``summary.json``, never recomputed.
"""

from pathlib import Path

__all__ = ["write_report", "parse_pixels"]


def parse_pixels(pixels) -> list:
    """
    ``["X,Y", ...]`` (FITS, 1-based) -> list of (x, y) ints; cheap, for early option checks.

    Raises
    ------
    UsageError
        A value that is not two positive integers separated by a comma.

    Examples
    --------
    >>> parse_pixels(["512,300", " 7, 9"])
    [(512, 300), (7, 9)]
    """
    from stischeck.errors import UsageError

    out = []
    for text in pixels or ():
        parts = str(text).replace(" ", "").split(",")
        try:
            x, y = (int(p) for p in parts)
        except ValueError:
            raise UsageError(
                f"--pixel {text}: give X,Y as two integers (FITS, 1-based), e.g. 512,300"
            ) from None
        if x < 1 or y < 1:
            raise UsageError(f"--pixel {text}: FITS pixel coordinates start at 1")
        out.append((x, y))
    return out


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
    from stischeck.atomic import OutputError, write_text
    from stischeck.errors import InputFileError
    from stischeck.report.folder import load_folder, read_inputs
    from stischeck.report.html import render_html
    from stischeck.report.model import build_model

    wanted = parse_pixels(pixels)
    folder = load_folder(outdir)
    text = render_html(build_model(read_inputs(folder), wanted))
    path = Path(out) if out is not None else folder.path / "report.html"
    try:
        write_text(path, text, what="report")
    except OutputError as err:
        raise InputFileError(str(err)) from err
    return path
