"""``newsbeam stats``: the whole warehouse's figures, aggregated by DuckDB."""

import pytest

from newsbeam.pipeline.cli import main
from newsbeam.pipeline.stats import format_summary, summary
from newsbeam.pipeline.views import connect
from tests.pipeline.sample_warehouse import SAMPLE, write_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return str(write_sample(tmp_path_factory.mktemp("sample")))


def test_summary_counts_every_table(sample):
    s = summary(connect(sample))
    assert (s.articles, s.duplicates, s.exact, s.near, s.errors) == (
        SAMPLE["articles"], SAMPLE["duplicates"], SAMPLE["exact"], SAMPLE["near"],
        SAMPLE["errors"])
    assert (s.first_date, s.last_date, s.days) == ("2026-11-01", "2026-11-03", 3)
    assert s.error_reasons == [("read", "empty", 2), ("clean", "too_short", 1),
                               ("feed", "timeout", 1)]
    assert s.date_sources[:2] == [("feed", 5), ("ingested", 3)]
    assert s.ingested_date == SAMPLE["ingested_date"]
    assert s.themes == [("politics", 6), ("economy", 3), ("sport", 3)]
    assert s.languages == [("en", 11), ("de", 1)]
    # s3 was merged into s1: two stories stand, s1 at its newest row (3 articles)
    assert (s.stories, s.multi_article_stories) == (SAMPLE["stories"], 2)
    assert s.biggest_stories == [(3, "Headline a01"), (2, "Headline a05")]


def test_the_printed_summary(sample, capsys):
    assert main(["stats", sample]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"newsbeam: {sample}: 12 articles, 2026-11-01 to 2026-11-03 (3 dates)",
        "  duplicates: 3 (exact 2, near 1)   errors: 4",
        "  error reasons: read:empty 2, clean:too_short 1, feed:timeout 1",
        "  dates found in: feed 5, ingested 3, html 2, json 1, text 1   "
        "(filed under the ingestion date, no publication date: 3)",
        "  themes (first): politics 6, economy 3, sport 3",
        "  languages: en 11, de 1",
        "  stories: 2 (2 with more than one article)",
        "        3  Headline a01",
        "        2  Headline a05",
    ]


def test_an_empty_warehouse_has_a_summary_too(tmp_path):
    text = format_summary(summary(connect(str(tmp_path))), "w")
    assert text.splitlines() == ["newsbeam: w: 0 articles, no articles",
                                 "  duplicates: 0 (exact 0, near 0)   errors: 0"]


def test_long_lists_are_cut_with_what_is_left():
    from newsbeam.pipeline.stats import _counts

    pairs = [(f"t{i}", 20 - i) for i in range(15)]
    assert _counts(pairs, limit=2) == "t0 20, t1 19, 13 more (156)"


def test_a_missing_warehouse_exits_2(tmp_path, capsys):
    assert main(["stats", str(tmp_path / "none")]) == 2
    assert "warehouse not found" in capsys.readouterr().err
