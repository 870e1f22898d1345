"""How ``cs0.e``, ``cs1.e`` and ``cs2.e`` read their command lines (hstcal 3.5 ``pkg/stis/src``).

Pure models of the argument loops, written from the C source: each takes the
argument vector after the program name and returns what the program would
run with, as a dict, or ``{"error": why}`` where the program prints its syntax
and exits non-zero. Only the parsing is modelled, not the file-list expansion
(``c_imtopen``) that follows it.
"""

__all__ = ["parse_cs0", "parse_cs1", "parse_cs2", "CS1_SWITCHES", "CS1_DEFAULT_OMIT"]

#: cs1.e switch options and the switch each turns on (cs1.c).
CS1_SWITCHES = {
    "-dqi": "dqicorr",
    "-atod": "atodcorr",
    "-blev": "blevcorr",
    "-dopp": "doppcorr",
    "-lors": "lorscorr",
    "-glin": "glincorr",
    "-lflg": "lflgcorr",
    "-bias": "biascorr",
    "-dark": "darkcorr",
    "-flat": "flatcorr",
    "-shad": "shadcorr",
    "-phot": "photcorr",
    "-stat": "statcorr",
}
#: Switches OMIT by default when no switch is on the command line (``stisomit.h``).
CS1_DEFAULT_OMIT = ("atodcorr", "shadcorr")


def parse_cs0(args: list) -> dict:
    """
    ``cs0.e`` (cs0.c ``main``): flags may be combined (``-tv``); ``-w`` takes the next argument.

    The first positional argument is the input list, the second the outroot;
    an empty argument leaves the slot empty, so the next positional one fills it.
    """
    out = dict(input="", outroot="", wavecal="", timestamps=False, savetmp=False, verbose=False)
    wavecal_next = too_many = False
    for arg in args:
        if wavecal_next:
            if arg.startswith("-"):
                return {"error": f"{arg!r} where a wavecal name was expected"}
            out["wavecal"], wavecal_next = arg, False
        elif arg.startswith("-"):
            if arg in ("--version", "--gitinfo", "--help", "-r"):
                return {"print": arg}
            for ch in arg[1:]:
                if ch == "t":
                    out["timestamps"] = True
                elif ch == "s":
                    out["savetmp"] = True
                elif ch == "v":
                    out["verbose"] = True
                elif ch == "w":
                    wavecal_next = True
                else:
                    return {"error": f"unrecognized option {arg}"}
        elif out["input"] == "":
            out["input"] = arg
        elif out["outroot"] == "":
            out["outroot"] = arg
        else:
            too_many = True
    if out["input"] == "" or too_many or wavecal_next:
        return {"error": "syntax"}
    return out


def parse_cs1(args: list) -> dict:
    """
    ``cs1.e`` (cs1.c ``main``): switch options turn single switches on.

    With no switch option at all (``-dscl`` counts as one) every switch takes
    its default, PERFORM except ATODCORR and SHADCORR. Positional arguments
    fill input, output and outblev in turn; an empty one leaves its slot empty.
    """
    switches = dict.fromkeys(CS1_SWITCHES.values(), "OMIT")
    out = dict(input="", output="", outblev="", darkscale="", timestamps=False, verbose=False)
    switch_on = too_many = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--version", "--gitinfo", "--help", "-r"):
            return {"print": arg}
        if arg in CS1_SWITCHES:
            switches[CS1_SWITCHES[arg]] = "PERFORM"
            switch_on = True
        elif arg == "-dscl":
            i += 1
            if i >= len(args):
                return {"error": "-dscl without a value (cs1.e reads past argv)"}
            out["darkscale"] = args[i]
            switch_on = True
        elif arg.startswith("-"):
            for ch in arg[1:]:
                if ch == "t":
                    out["timestamps"] = True
                elif ch == "v":
                    out["verbose"] = True
                else:
                    return {"error": f"unrecognized option {arg}"}
        elif out["input"] == "":
            out["input"] = arg
        elif out["output"] == "":
            out["output"] = arg
        elif out["outblev"] == "":
            out["outblev"] = arg
        else:
            too_many = True
        i += 1
    if out["input"] == "" or too_many:
        return {"error": "syntax"}
    if not switch_on:
        switches = {k: "OMIT" if k in CS1_DEFAULT_OMIT else "PERFORM" for k in switches}
    out["switches"] = switches
    return out


def _atof(text: str) -> float:
    """C ``atof``: the longest leading number, 0.0 when there is none."""
    import re

    m = re.match(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)", text)
    return float(m.group(0)) if m else 0.0


def parse_cs2(args: list) -> dict:
    """
    ``cs2.e`` (cs2_command.c): input and output are the first two arguments, then options.

    ``-radius``, ``-thresh``, ``-scale`` are read with ``atof``, ``-pdq`` with
    ``atoi``; ``-table``, ``-init``, ``-sky``, ``-sigmas``, ``-crmask`` as text.
    An option that was not given is absent from the result (the CRREJTAB
    value applies).
    """
    for arg in args:
        if arg in ("--version", "--gitinfo", "-r"):
            return {"print": arg}
    if len(args) < 2:
        return {"error": "syntax (cs2 input output)"}
    out = dict(input=args[0], output=args[1], timestamps=False, verbose=False)
    real = {"-radius": "radius", "-thresh": "thresh", "-scale": "scale"}
    text = {"-table": "table", "-init": "init", "-sky": "sky", "-sigmas": "sigmas"}
    i = 2
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-"):
            return {"error": f"syntax ({arg})"}
        if arg == "-t":
            out["timestamps"] = True
        elif arg == "-v":
            out["verbose"] = True
        elif arg in real or arg in text or arg in ("-pdq", "-crmask"):
            i += 1
            if i >= len(args):
                return {"error": f"{arg} without a value"}
            value = args[i]
            if arg in real:
                out[real[arg]] = _atof(value)
            elif arg == "-pdq":
                out["pdq"] = int(_atof(value))
            elif arg == "-crmask":
                out["crmask"] = value == "yes"
            else:
                out[text[arg]] = value
        else:
            return {"error": f"syntax ({arg})"}
        i += 1
    return out
