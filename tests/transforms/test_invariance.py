"""Cleaning is invariant to the form of a plain text (issue 13).

For every change of form in ``benchmarks.lib.forms.FORMS`` (rewrapped at a
width from 40 to 100, CRLF, indented first lines, trailing spaces, NBSP,
quotes, soft hyphens, a dateline, an all-caps headline, ...), ``clean_text``
of the changed text keeps at least 99.5% of the words it keeps of the text as
written, and gives back the same paragraphs (word for word, modulo the form).
Run over the bundled seeds and over articles Hypothesis makes up.

One form is held to less: hard-wrapped text with single newlines between
paragraphs and no indents. Where a full line ends a sentence nothing in the
text says whether the paragraph ended there, so paragraphs may be joined or
split at such lines, and a split-off closing sentence may then be judged on
its own; the topical rules then see other paragraphs and may drop one
(``benchmarks.invariance`` measures how often). On the seeds it must keep
80% of the words; made-up articles (a few short paragraphs of repeated
words, as Hypothesis shrinks them) are not held to it.
"""

import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from benchmarks.lib.forms import FORMS, as_written, hard_wrap, score
from newsbeam.transforms.clean_text import clean_text
from tests import SEED_FILES

AMBIGUOUS = {"wrap 40-100, single newline"}
SETTINGS = settings(max_examples=4, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])


def _seed_article(path):
    """Headline and paragraphs of a seed as written (navigation above the headline left out)."""
    text = path.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    i = lines.index(clean_text(text).title)
    return lines[i], lines[i + 1:]


SEEDS = {p.stem[:3]: _seed_article(p) for p in SEED_FILES}


def _check(form: str, title: str, paras: list, rng: random.Random) -> None:
    base = clean_text(as_written(title, paras))
    changed = clean_text(FORMS[form](rng, title, paras))
    kept, total, restored, units = score(base, changed)
    assert kept >= (0.8 if form in AMBIGUOUS else 0.995) * total, (form, kept, total)
    if form not in AMBIGUOUS:
        assert restored == units, (form, restored, units, changed.paragraphs)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("seed", list(SEEDS))
@SETTINGS
@given(rng_seed=st.integers(0, 2**32))
@example(rng_seed=170)  # seed 001 with NBSP in "Other news": its digest was kept
def test_seeds_clean_the_same_in_every_form(form, seed, rng_seed):
    _check(form, *SEEDS[seed], random.Random(rng_seed))


def test_wrapped_seeds_keep_their_words_at_every_width():
    # One width per seed hid it: at some widths a guessed break split a
    # paragraph, and the topical rule removed the pieces as a run (seed 002 kept
    # 85% of its words) where the whole paragraph was an aside it keeps.
    for seed, (title, paras) in SEEDS.items():
        base = clean_text(as_written(title, paras))
        for width in range(40, 101):
            changed = clean_text("\n".join(hard_wrap(block, width) for block in (title, *paras)))
            kept, total, _, _ = score(base, changed)
            assert kept >= 0.95 * total, (seed, width, kept, total)


# Made-up articles: sentences of common words, long words and compounds
# (wrappers break after their hyphens), numbers and quotes.
_WORDS = st.sampled_from((
    "the", "a", "of", "to", "in", "and", "on", "for", "with", "by", "from", "at", "as", "that", "said",
    "would", "has", "were", "officials", "council", "minister", "government", "airport", "station",
    "railway", "committee", "construction", "passengers", "kilometres", "international", "well-known",
    "long-term", "decision-makers", "approximately", "responsibility", "infrastructure", "3,000", "2024",
    "$1.5", "billion", "Monday", "Brussels", "Ukraine", "Reuters"))


@st.composite
def _sentence(draw):
    words = draw(st.lists(_WORDS, min_size=6, max_size=28))
    text = " ".join(words)
    text = text[0].upper() + text[1:] + draw(st.sampled_from([".", ".", ".", "?", "!"]))
    return f'"{text}" he said.' if draw(st.booleans()) and draw(st.booleans()) else text


@st.composite
def _article(draw):
    title = " ".join(w.capitalize() for w in draw(st.lists(_WORDS, min_size=4, max_size=11)))
    paras = [" ".join(draw(st.lists(_sentence(), min_size=1, max_size=4))) for _ in range(draw(st.integers(2, 7)))]
    if draw(st.booleans()):
        at = draw(st.integers(1, len(paras) - 1))
        paras.insert(at, " ".join(w.capitalize() for w in draw(st.lists(_WORDS, min_size=2, max_size=4))))
    return title, paras


@pytest.mark.parametrize("form", [f for f in FORMS if f not in AMBIGUOUS])
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(article=_article(), rng_seed=st.integers(0, 2**32))
def test_made_up_articles_clean_the_same_in_every_form(form, article, rng_seed):
    _check(form, *article, random.Random(rng_seed))
