"""The comparator's results: frozen objects for Python callers, a tidy DataFrame, findings."""

from dataclasses import dataclass

from stischeck.diff.arrays import DQ_BIT_NAMES, REL_LADDER, SIGMA_LADDER, ULP_BINS
from stischeck.diff.headers import REPRESENTATION_KEYWORDS
from stischeck.vocabulary import Verdict

__all__ = ["ExtensionDiff", "StructureDifference", "DiffResult", "Finding", "VERDICTS"]

#: Verdicts, from best to worst.
VERDICTS = tuple(v.word for v in (Verdict.IDENTICAL, Verdict.AGREE, Verdict.DIFFER))


@dataclass(frozen=True)
class StructureDifference:
    """An extension missing on one side, or a change in how its data are stored.

    ``what`` is ``"only_a"``, ``"only_b"``, ``"shape"``, ``"dtype"``, ``"null"``
    (a null extension on one side, a stored array on the other), ``"kind"`` (a
    table against an image), ``"rows"`` or ``"columns"`` (tables).
    """

    extname: str
    extver: int
    what: str
    a: str
    b: str


@dataclass(frozen=True)
class ExtensionDiff:
    """The pixel comparison of one extension of one imset.

    ``comparison`` is a `FloatComparison` (SCI, ERR, other float data; integer
    SCI of raw files with ``integer`` set), a `DQComparison` (DQ and other
    16-bit integer data) or a `TableComparison` (``kind == "table"``).
    ``verdict`` is ``"identical"``,
    ``"agree"`` (differences all allowed by ``rules``) or ``"differ"``.
    """

    extname: str
    extver: int
    kind: str  # "float", "dq" or "table"
    comparison: object
    verdict: str
    rules: tuple = ()  # descriptions of the DataRules that allowed differences
    null_a: bool = False
    null_b: bool = False


@dataclass(frozen=True, order=True)
class Finding:
    """A one-line statement of a difference, sortable worst first (lower ``rank`` first)."""

    rank: tuple
    text: str
    extname: str = ""
    extver: int = 0
    bit: int = 0
    x: int = 0
    y: int = 0


def keyword_text(k, labels: tuple = ("A", "B")) -> str:
    """One line for a `KeywordDifference`: where, which keyword, both values."""
    la, lb = labels
    where = "primary header" if k.extname == "PRIMARY" else f"[{k.extname},{k.extver}]"
    return {
        "only_a": f"{where} {k.label}: only in {la} ({k.a!r})",
        "only_b": f"{where} {k.label}: only in {lb} ({k.b!r})",
        "differ": f"{where} {k.label}: {k.a!r} in {la}, {k.b!r} in {lb}",
        "within": f"{where} {k.label}: {k.a!r} vs {k.b!r} (within tolerance)",
        "ignored": f"{where} {k.label}: {_side(k.a)} in {la}, {_side(k.b)} in {lb}: "
        f"ignored ({k.rule})",
    }[k.status]


def _side(value) -> str:
    return "absent" if value is None else repr(value)


def k_where(k) -> tuple:
    """``(extname, extver)`` of a keyword difference."""
    return k.extname, k.extver


@dataclass(frozen=True)
class DiffResult:
    """Everything `diff_products` found for one pair of files.

    Attributes
    ----------
    path_a, path_b : str
    step : str
        The configuration the policy was applied for (``"*"`` when none).
    policy : Policy
    extensions : tuple of ExtensionDiff
    keywords : tuple of KeywordDifference
        Keyword differences, including those a tolerance allowed (``status == "within"``).
    structure : tuple of StructureDifference
    ignored : tuple of KeywordDifference
        Keywords whose cards differ but which the policy does not compare
        (``status == "ignored"``, ``rule`` the policy's reason). They do not
        change the verdict.
    """

    path_a: str
    path_b: str
    step: str
    policy: object
    extensions: tuple
    keywords: tuple
    structure: tuple
    ignored: tuple = ()

    @property
    def verdict(self) -> str:
        """``"identical"``, ``"agree"`` (within the policy) or ``"differ"``."""
        if self.structure or any(k.is_difference for k in self.keywords):
            return "differ"
        if any(e.verdict == "differ" for e in self.extensions):
            return "differ"
        if self.keywords or any(e.verdict == "agree" for e in self.extensions):
            return "agree"
        return "identical"

    @property
    def agree(self) -> bool:
        """True when identical or within the policy."""
        return self.verdict != "differ"

    @property
    def exit_code(self) -> int:
        """0 agree, 1 differ (2, cannot compare, is raised as an error)."""
        return 0 if self.agree else 1

    def findings(self, labels: tuple = ("A", "B")) -> list:
        """Every difference as a `Finding`, worst first.

        Order: structure, NaN/inf moves, DQ bits, pixels, keywords; allowed last.
        ``labels`` name the two sides in the text (``("old truth", "new run")``).
        The storage cards (BITPIX, NAXISn, NPIXn, PIXVALUE ...) of an extension
        whose shape, data type or null-versus-stored form differs are named in
        that structure finding instead of one finding each.
        """
        la, lb = labels
        out = []
        folded = {}  # (extname, extver) -> representation keywords named by a structure finding
        for s in self.structure:
            if s.what in ("shape", "dtype", "null"):
                folded.setdefault((s.extname, s.extver), [])
        for k in self.keywords:
            where = (k.extname, k.extver)
            if where in folded and k.keyword in REPRESENTATION_KEYWORDS and k.is_difference:
                folded[where].append(k.label)
        for s in self.structure:
            where = f"[{s.extname},{s.extver}]"
            text = {
                "only_a": f"{where} present only in {la}",
                "only_b": f"{where} present only in {lb}",
                "shape": f"{where} shape {s.a} in {la}, {s.b} in {lb}",
                "dtype": f"{where} data type {s.a} in {la}, {s.b} in {lb}",
                "null": f"{where} stored differently: {s.a} in {la}, {s.b} in {lb} "
                "(the pixels are compared as expanded)",
                "kind": f"{where} {s.a} in {la}, {s.b} in {lb}",
                "rows": f"{where} {s.a} in {la}, {s.b} in {lb}",
                "columns": f"{where} columns differ: {s.a}; {s.b}",
            }[s.what]
            named = folded.pop((s.extname, s.extver), None)
            if named:
                text += f"; cards {', '.join(named)} differ accordingly"
            out.append(Finding((0, 0.0), text, s.extname, s.extver))
        shown_by_structure = {
            (s.extname, s.extver) for s in self.structure if s.what in ("shape", "dtype", "null")
        }
        for e in self.extensions:
            if e.verdict == "identical":
                continue
            c = e.comparison
            where = f"{e.extname} imset {e.extver}"
            if e.kind == "table":
                for col in c.columns:
                    delta = (
                        f", max |Δ| {col.max_abs_diff:.6g}"
                        if col.max_abs_diff == col.max_abs_diff
                        else ""
                    )
                    out.append(
                        Finding(
                            (3, -float(col.n_differ)),
                            f"[{e.extname},{e.extver}] column {col.name}: {col.n_differ} of "
                            f"{c.n_rows} rows differ{delta}; first row {col.first_row}: "
                            f"{col.a!r} in {la}, {col.b!r} in {lb}",
                            e.extname,
                            e.extver,
                        )
                    )
                continue
            if e.kind == "dq":
                for bit in c.differing_bits():
                    only_a, only_b, both = c.bits[bit]
                    x, y = c.first[bit]
                    out.append(
                        Finding(
                            (2, -float(only_a + only_b)),
                            f"{where}: bit {bit} {DQ_BIT_NAMES[bit]}: only in {la} {only_a}, "
                            f"only in {lb} {only_b}, both {both} (first at [{x}, {y}])",
                            e.extname,
                            e.extver,
                            bit,
                            x,
                            y,
                        )
                    )
                continue
            allowed = " (within tolerance)" if e.verdict == "agree" else ""
            if c.nonfinite_mismatch:
                w = next(p for p in c.worst if p.abs_diff == float("inf"))
                out.append(
                    Finding(
                        (1, -float(c.nonfinite_mismatch)),
                        f"{where}: {c.nonfinite_mismatch} pixels change NaN/inf class or "
                        f"position, e.g. [{w.x}, {w.y}] {w.a!r} vs {w.b!r}",
                        e.extname,
                        e.extver,
                        0,
                        w.x,
                        w.y,
                    )
                )
            n_finite = c.n_differ - c.nonfinite_mismatch
            if n_finite:
                w = next(p for p in c.worst if p.abs_diff != float("inf"))
                rank = (3 if e.verdict == "differ" else 5, -float(c.max_ulp))
                measure = (
                    f"max |Δ| {c.max_abs_diff:.0f} (integer data)"
                    if c.integer
                    else f"max {c.max_ulp} ulp, max |Δ| {c.max_abs_diff:.6g}"
                )
                out.append(
                    Finding(
                        rank,
                        f"{where}: {n_finite} of {c.n_pixels} pixels differ{allowed}, "
                        f"{measure} at [{w.x}, {w.y}]: {w.a:.9g} in {la}, {w.b:.9g} in {lb}",
                        e.extname,
                        e.extver,
                        0,
                        w.x,
                        w.y,
                    )
                )
        for k in self.keywords:
            if (
                (k.extname, k.extver) in shown_by_structure
                and k.keyword in REPRESENTATION_KEYWORDS
                and k.is_difference
            ):
                continue  # named in the structure finding
            out.append(
                Finding((4 if k.is_difference else 6, 0.0), keyword_text(k, labels), *k_where(k))
            )
        return sorted(out)

    def to_frame(self):
        """
        One tidy row per file pair × extension × imset × statistic (or DQ bit, or keyword).

        Columns: ``file_a, file_b, step, extname, imset, subset, statistic, bit,
        bit_name, value, a, b, x, y, within, detail``. ``value`` is numeric;
        ``a``/``b`` hold the two sides' values for keyword and structure rows.
        """
        import pandas as pd

        rows = []

        def add(extname, imset, statistic, value=None, **extra):
            rows.append(
                dict(extname=extname, imset=imset, statistic=statistic, value=value, **extra)
            )

        for s in self.structure:
            add(s.extname, s.extver, f"structure:{s.what}", 1.0, a=s.a, b=s.b, within=False)
        for e in self.extensions:
            c = e.comparison
            ok = e.verdict != "differ"
            if e.kind == "table":
                add(e.extname, e.extver, "rows_differ", float(c.n_rows_differ), within=ok)
                for col in c.columns:
                    add(
                        e.extname,
                        e.extver,
                        f"column:{col.name}",
                        float(col.n_differ),
                        a=repr(col.a),
                        b=repr(col.b),
                        y=col.first_row,
                        within=False,
                        detail=f"max_abs_diff={col.max_abs_diff:.6g}",
                    )
                continue
            if e.kind == "dq":
                add(e.extname, e.extver, "n_differ", float(c.n_differ), within=c.n_differ == 0)
                for bit, (only_a, only_b, both) in sorted(c.bits.items()):
                    for stat, v in (
                        ("bit_only_a", only_a),
                        ("bit_only_b", only_b),
                        ("bit_both", both),
                    ):
                        add(
                            e.extname,
                            e.extver,
                            stat,
                            float(v),
                            bit=bit,
                            bit_name=DQ_BIT_NAMES[bit],
                            within=only_a == 0 and only_b == 0,
                        )
                continue
            for subset, stats in c.subsets.items():
                for stat, v in stats.items():
                    add(e.extname, e.extver, stat, float(v), subset=subset, within=ok)
            add(
                e.extname,
                e.extver,
                "n_outside_tolerance",
                float(c.n_outside),
                within=ok,
                detail="; ".join(e.rules),
            )
            add(
                e.extname,
                e.extver,
                "nonfinite_mismatch",
                float(c.nonfinite_mismatch),
                within=c.nonfinite_mismatch == 0,
            )
            labels = [f"ulp<={u}" for u in ULP_BINS] + [f"ulp>{ULP_BINS[-1]}"]
            for label, count in zip(labels, c.ulp_histogram, strict=True):
                add(e.extname, e.extver, f"ulp_hist:{label}", float(count), within=ok)
            for t, share in zip(REL_LADDER, c.rel_ladder, strict=True):
                add(e.extname, e.extver, f"share_rel_diff>{t:g}", share, within=ok)
            for t, share in zip(SIGMA_LADDER, c.sigma_ladder, strict=False):
                add(e.extname, e.extver, f"share_sigma>{t:g}", share, within=ok)
            classes = ("finite", "nan", "+inf", "-inf")
            for i, ra in enumerate(c.nonfinite):
                for j, count in enumerate(ra):
                    if count:
                        add(
                            e.extname,
                            e.extver,
                            f"class:{classes[i]}->{classes[j]}",
                            float(count),
                            within=i == j,
                        )
            for rank, p in enumerate(c.worst, start=1):
                add(
                    e.extname,
                    e.extver,
                    f"worst:{rank}",
                    p.abs_diff,
                    x=p.x,
                    y=p.y,
                    a=repr(p.a),
                    b=repr(p.b),
                    within=ok,
                    detail=f"ulp={p.ulp} sigma={p.sigma:.3g}",
                )
        for k in (*self.keywords, *self.ignored):
            add(
                k.extname,
                k.extver,
                f"keyword:{k.label}",
                None,
                a=repr(k.a),
                b=repr(k.b),
                within=not k.is_difference,
                detail=f"ignored: {k.rule}" if k.status == "ignored" else k.rule or k.status,
            )
        columns = [
            "file_a",
            "file_b",
            "step",
            "extname",
            "imset",
            "subset",
            "statistic",
            "bit",
            "bit_name",
            "value",
            "a",
            "b",
            "x",
            "y",
            "within",
            "detail",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        frame["file_a"], frame["file_b"], frame["step"] = self.path_a, self.path_b, self.step
        for col in ("imset", "bit", "x", "y"):
            frame[col] = frame[col].astype("Int64")
        frame["value"] = frame["value"].astype("float64")
        frame["within"] = frame["within"].astype("boolean")
        return frame
