"""Unit tests of paragraph reassembly (``transforms.paragraphs``)."""

import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbeam.transforms.paragraphs import guessed_paragraphs, paragraphs, wrap_width
from tests import SEED_FILES

HEADLINE = "Council approves the airport tram line"
PARAS = [
    ("The city council approved on Monday a new tram line linking the central station to the "
     "airport, ending a decade of debate over how to connect the two parts of the well-known city."),
    ("The tram line will run for twelve kilometres and stop at six stations, the council said, "
     "with construction due to start next spring once the last planning objections are settled."),
    ("Council members who opposed the line argued that buses to the airport would be cheaper, "
     "but the transport committee found that trams carry more passengers per hour than buses."),
]


def _wrap(p: str, width: int) -> str:
    return textwrap.fill(p, width, break_long_words=False)


@pytest.mark.parametrize("width", [40, 55, 70, 72, 100])
@pytest.mark.parametrize("sep", ["\n\n", "\n"])
def test_hard_wrapped_paragraphs_are_rejoined(width, sep):
    text = sep.join([HEADLINE, "By Jane Doe"] + [_wrap(p, width) for p in PARAS])
    assert paragraphs(text) == [HEADLINE, "By Jane Doe", *PARAS]


def test_empty_and_blank_text():
    assert paragraphs("") == [] and paragraphs(" \n\t\r\n\u00a0\n") == []
    assert paragraphs("  One line.  ") == ["One line."]


def test_one_paragraph_per_line_is_left_alone():
    assert paragraphs("\n".join([HEADLINE, *PARAS])) == [HEADLINE, *PARAS]
    assert paragraphs("\n\n".join([HEADLINE, *PARAS])) == [HEADLINE, *PARAS]
    for seed in SEED_FILES:
        lines = [ln.strip() for ln in seed.read_text(encoding="utf-8").splitlines() if ln.strip()]
        assert paragraphs(seed.read_text(encoding="utf-8")) == lines, seed.name


def test_line_breaks_crlf_cr_and_unicode():
    wrapped = "\n".join(_wrap(p, 70) for p in PARAS)
    for nl in ("\r\n", "\r", "\u2028"):
        assert paragraphs(wrapped.replace("\n", nl)) == paragraphs(wrapped)


def test_indented_first_lines_mark_paragraphs():
    text = "\n".join("    " + _wrap(p, 66) for p in PARAS)
    assert paragraphs(text) == PARAS
    text = "\n".join("\t" + _wrap(p, 66) for p in PARAS)
    assert paragraphs(text) == PARAS


def test_trailing_spaces_tabs_and_nbsp():
    wrapped = "\n\n".join(_wrap(p, 60) for p in PARAS)
    assert paragraphs(wrapped.replace("\n", "  \t\n")) == PARAS
    nbsp = [p.replace("tram line", "tram\u00a0line") for p in PARAS]
    assert paragraphs("\n\n".join(_wrap(p, 60) for p in nbsp)) == nbsp


def test_soft_hyphens_go_and_words_broken_at_one_rejoin():
    shy = [p.replace("airport", "air\u00adport") for p in PARAS]
    assert paragraphs("\n".join(_wrap(p, 70) for p in shy)) == PARAS
    # A typesetter broke a word at its soft hyphen: no hyphen shows, the word goes on.
    lines = "\n".join(_wrap(p, 70) for p in PARAS).split("\n")
    i = next(k for k in range(len(lines) - 1) if len(lines[k + 1].split()[0]) >= 5)
    lines[i] += " " + lines[i + 1][:3] + "\u00ad"
    lines[i + 1] = lines[i + 1][3:]
    assert paragraphs("\n".join(lines)) == PARAS


def _broken_at(paragraph: str, word: str) -> str:
    """``paragraph`` and PARAS[1] wrapped at the first width that breaks ``paragraph`` after ``word``."""
    for width in range(40, 101):
        text = _wrap(paragraph, width)
        if word + "\n" in text:
            return text + "\n\n" + _wrap(PARAS[1], width)
    raise AssertionError(word)


def test_words_broken_at_a_hyphen():
    # Wrappers only break at hyphens the text has: "well-" / "known" keeps it.
    text = _broken_at(PARAS[0], "well-")
    assert paragraphs(text) == [PARAS[0], PARAS[1]]
    # A typeset "inter-" / "national" loses it when the text also writes the word whole.
    para = ("The new line from the central station and the old harbour will carry inter-national "
            "travellers from the airport, which has "
            "international flights to forty cities, to the centre in under twenty minutes.")
    text = _broken_at(para, "inter-")
    assert paragraphs(text)[0] == para.replace("inter-national", "international")
    only = para.replace("which has international", "which has long-haul")
    text = _broken_at(only, "inter-")
    assert paragraphs(text)[0] == only  # no evidence: the hyphen stays


def test_short_standalone_lines_are_not_glued():
    body = "\n".join(_wrap(p, 64) for p in PARAS)
    text = "\n".join(["TRAM LINE APPROVED AFTER A DECADE OF DEBATE", "By Jane Doe, Transport Correspondent",
                      body, "Airport Link Details", _wrap(PARAS[0], 64)])
    assert paragraphs(text) == ["TRAM LINE APPROVED AFTER A DECADE OF DEBATE", "By Jane Doe, Transport Correspondent",
                                *PARAS, "Airport Link Details", PARAS[0]]


def test_bullets_stay_items():
    items = ["- the first stop is the central station", "- the second is the university",
             "\u2022 the third is the airport terminal"]
    text = "\n".join([_wrap(PARAS[0], 70), "The stops:", *items, _wrap(PARAS[1], 70)])
    assert paragraphs(text) == [PARAS[0], "The stops:", *items, PARAS[1]]


def test_dateline_line_goes_with_its_paragraph():
    text = "LONDON (Reuters) -\n" + _wrap(PARAS[0], 70) + "\n\n" + _wrap(PARAS[1], 70) + "\n\n" + _wrap(PARAS[2], 70)
    assert paragraphs(text)[0] == "LONDON (Reuters) - " + PARAS[0]


def test_wrap_width_needs_evidence():
    lines = "\n".join(_wrap(p, 70) for p in PARAS).split("\n")
    assert 58 <= wrap_width([lines]) <= 70
    assert wrap_width([[HEADLINE, *PARAS]]) == 0  # one paragraph per line
    table = ["Arsenal 3 Chelsea 1 (Saka 12, 40, Rice 77; Palmer 60)"] * 6
    assert wrap_width([table]) == 0


def test_bullet_items_with_hanging_indent():
    item = ("- the first stop is the central station, where the line meets the railway and "
            "the buses to the northern suburbs")
    lines = textwrap.wrap(item, 60, subsequent_indent="  ")
    text = "\n".join([_wrap(PARAS[0], 60), *lines, "- the second is the university", _wrap(PARAS[1], 60)])
    assert paragraphs(text) == [PARAS[0], item, "- the second is the university", PARAS[1]]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab Z.-,\u00ad\u00a0\t\n\r", "well", "The ", "- ", "\n\n", "    ", "x" * 30])
                | st.characters(), max_size=120).map("".join))
def test_any_text_keeps_its_letters_in_order(text):
    # Reassembly only ever drops whitespace, soft hyphens and hyphens at line ends.
    def letters(s: str) -> str:
        return re.sub(r"[\W_]", "", s.replace("\u00ad", ""))
    out = paragraphs(text)
    assert letters("".join(out)) == letters(text)
    assert all(p and p == p.strip() and "\n" not in p for p in out)


def test_chinese_hard_wrapped_lines_join_without_spaces():
    first = "北京今天发布了新的空气质量报告，数据显示本月的空气质量比去年同期明显改善。专家表示，这与减少燃煤和加强交通管理有关。"
    second = "东京电视台周二报道，日本政府计划明年增加对地方铁路的补贴，以维持偏远地区的交通服务。"

    def wrap(s):
        return "\n".join(s[i:i + 14] for i in range(0, len(s), 14))

    assert paragraphs(wrap(first) + "\n\n" + wrap(second)) == [first, second]
    assert paragraphs(first + "\n" + second) == [first, second]  # one paragraph per line stays


def test_a_dash_after_a_full_line_goes_on_even_before_a_capitalised_word():
    # "... not only in Europe" / "— It will also ...": a wrapper broke before
    # the dash; read as a headline followed by a new sentence, the quote was
    # cut in two and its tail judged on its own.
    quote = ('"If they are a co-belligerent, their intention is to take part in this war, that is a '
             'very serious issue, and it will have impacts not only in Europe — It will also impact '
             'things in the Indo Pacific as well," the secretary said.')
    widths = [w for w in range(40, 101) if "\n— It will" in _wrap(quote, w)]
    assert widths  # the case exists at some width
    for width in widths:
        text = "\n".join(_wrap(p, width) for p in [PARAS[0], quote, PARAS[1]])
        assert quote in paragraphs(text), width


@pytest.mark.parametrize("width", range(40, 101, 3))
def test_only_breaks_after_full_lines_count_as_guessed(width):
    blocks = [_wrap(p, width).split("\n") for p in PARAS]
    full = [len(a[-1]) + 1 + len(b[0].split()[0]) > width for a, b in zip(blocks, blocks[1:])]
    out = guessed_paragraphs("\n".join(line for b in blocks for line in b))
    assert [p for p, _ in out] == paragraphs("\n".join(line for b in blocks for line in b))
    assert not out[0][1]
    for (para, guessed) in out[1:]:
        # A paragraph that starts a written one: guessed exactly when the line before was full.
        if para in PARAS:
            assert guessed == full[PARAS.index(para) - 1], (para[:30], width)
        else:  # a paragraph split off inside a written one can only be guessed
            assert guessed
    # Blank lines mark every break: nothing is guessed.
    assert not any(g for _, g in guessed_paragraphs("\n\n".join(_wrap(p, width) for p in PARAS)))


def test_indented_first_lines_leave_nothing_to_guess():
    out = guessed_paragraphs("\n".join("    " + _wrap(p, 66) for p in PARAS))
    assert out == [(p, False) for p in PARAS]
