"""Golden test: the five seeds clean to exactly the reviewed outputs in tests/golden/.

Each golden file is the title, a blank line, then the body (paragraphs
separated by a blank line). The boilerplate listed in the backfill issue is
also checked line by line so a failure says what leaked.
"""

from pathlib import Path

import pytest

from newsbeam.schemas import RawDocument
from newsbeam.transforms.clean import clean_document
from tests import REPO, SEED_FILES
from tests.records import raw_document

GOLDEN = REPO / "tests" / "golden"

MUST_GO = [
    "Politics", "COP29", "Nijat Ibrahim", "Eastern Partnership Civil Society Forum", "Leave a review",
    "Putin with UAE President Mohamed bin Zayed Al Nahyan", "Contributor", "Source", "Francesco Giganti",
    "Journalist, social media, blogger", "Related Articles", "Leave a Reply",
    "Your email address will not be published", "Back to top button", "Translation by Iurie Tataru",
    "Other news", "⇒", "FAQs", "Q: What is the significance",
]


def _raw(path: Path) -> RawDocument:
    return raw_document(source=str(path), locator=path.as_uri(),
                        body=path.read_text(encoding="utf-8"), ingested_at=0)


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.stem)
def test_seed_matches_golden(seed):
    article = clean_document(_raw(seed))
    expected = (GOLDEN / f"{seed.stem}.expected.txt").read_text(encoding="utf-8")
    assert article.title + "\n\n" + article.text + "\n" == expected


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.stem)
def test_seed_boilerplate_removed_and_article_kept(seed):
    article = clean_document(_raw(seed))
    lines = article.text.split("\n\n")
    for junk in MUST_GO:
        assert not any(line.startswith(junk) or junk in line and len(line) < 120 for line in lines), junk
    assert article.title not in lines and lines[0] != "News"
    # Every sentence-shaped source line that is not listed boilerplate survives.
    source_lines = [ln.strip() for ln in seed.read_text(encoding="utf-8").splitlines() if len(ln.split()) > 25]
    dropped_blocks = ("Germany's Foreign Minister", "On November 21", "The General Assembly", "Activist Nijat",
                      "⇒", "A: ")
    for ln in source_lines:
        if not ln.startswith(dropped_blocks):
            assert ln in lines, ln


def test_seed_specific_decisions():
    by_stem = {p.stem[:3]: clean_document(_raw(p)).text for p in SEED_FILES}
    assert "New EU diplomacy chief defines war in Ukraine as priority of mandate" in by_stem["001"]
    assert "Kaja Kallas" in by_stem["001"]
    assert "— Ursula von der Leyen (@vonderleyen) October 28, 2024" in by_stem["003"]
    for sub in ("Escalation Concerns", "Conclusion", "Future of Aid"):
        assert sub in by_stem["004"].split("\n\n")
