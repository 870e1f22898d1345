"""``stischeck info``: what stischeck found on this machine."""

from stischeck import environment

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "show cs0.e, library versions and corpus location"
DESCRIPTION = (
    "Print where cs0.e was found (--calstis, $STISCHECK_CALSTIS, PATH) and the "
    "version it reports, the versions of the libraries stischeck uses, and where the "
    "calstis corpus is ($STISCHECK_CORPUS, ../shared/calstis-corpus); one 'name: value' "
    "line each, exit 0."
)


def add_arguments(p) -> None:
    """Register ``info``'s arguments on its subparser ``p``."""
    p.add_argument("--calstis", metavar="PATH", help="cs0.e to report on")


def run(args) -> int:
    """Print one ``name: value`` line per item; exit 0."""
    path, source = environment.find_calstis(args.calstis)
    if path is None:
        print(f"cs0.e: {source}")
    else:
        version = environment.calstis_version(path) or "(printed no version)"
        print(f"cs0.e: {path} (from {source})")
        print(f"cs0.e version: {version}")
    for name, version in environment.library_versions().items():
        print(f"{name}: {version}")
    corpus = environment.find_corpus()
    print(
        f"corpus: {corpus if corpus else 'not found (../shared/calstis-corpus, STISCHECK_CORPUS)'}"
    )
    return 0
