from stischeck.vocabulary import DEFAULT_SDQFLAGS, DEFAULT_TIMEOUT_S, Verdict, verdict_rank


def test_sdqflags_default_is_calstis_fifteen_bits():
    # hstcal's stis code: Get_KeyI(hdr, "SDQFLAGS", use_def, 32767, ...)
    assert DEFAULT_SDQFLAGS == 32767 == (1 << 15) - 1


def test_default_timeout_is_ten_minutes():
    assert DEFAULT_TIMEOUT_S == 600.0


def test_verdicts_rank_identical_best_error_worst():
    order = [verdict_rank(w) for w in ("identical", "agree", "differ", "error")]
    assert order == sorted(order) and len(set(order)) == 4
    assert Verdict.EMPTY.rank == Verdict.AGREE.rank
    assert str(Verdict.DIFFER) == "differ"


def test_unknown_verdict_word_ranks_as_given():
    assert verdict_rank("nonsense") == Verdict.ERROR.rank
    assert verdict_rank("nonsense", unknown=0) == 0
