"""Tests of the clean stage: clean_document per kind, the time-limited Cleaner,
and the CleanArticles composite under TestPipeline."""

from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import Article
from newsbeam.transforms.clean import (
    CleanArticles,
    CleanConfig,
    Cleaner,
    CleanFailure,
    clean_document,
    detect_language,
)
from newsbeam.transforms.dates import parse_date_text
from newsbeam.transforms.ids import article_id
from newsbeam.transforms.sandbox import Sandbox, SandboxFailure
from tests.records import raw_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLE_HTML = (FIXTURES / "article.html").read_text(encoding="utf-8")
TEXT = """Local
Harbour town votes to rebuild its flooded sea wall
Harbour town votes to rebuild its flooded sea wall
The town council of Port Ellery voted on Tuesday to rebuild the sea wall that failed during the winter storms.
Councillors said the old wall, built in the 1950s, had been patched so many times that nobody knew what remained.
Leave a Reply
"""
BODY = ("The town council of Port Ellery voted on Tuesday to rebuild the sea wall that failed during the winter storms."
        "\n\nCouncillors said the old wall, built in the 1950s, had been patched so many times that nobody knew what remained.")


def raw(kind="text", body=TEXT, title=None, summary=None, url=None, published_at=None, date_source=None,
        locator="file:///data/a.txt"):
    return raw_document(locator=locator, url=url, kind=kind, title=title, body=body, summary=summary,
                        published_at=published_at, date_source=date_source,
                        ingested_at=1_700_000_000_000_000)


def expected_text_article(r):
    return Article(article_id=article_id(r), url=r.locator, source=r.source,
                   title="Harbour town votes to rebuild its flooded sea wall", text=BODY, published_at=None,
                   date_source="ingested", ingested_at=r.ingested_at, language="en", themes=[], entities=[],
                   word_count=np.int32(40), duplicates=[], theme_scores=[], text_source="file", author=None,
                   site_name=None, content_hash="", page_status=None)


def test_text_document():
    r = raw()
    a = clean_document(r)
    assert a == expected_text_article(r)
    assert isinstance(a.word_count, np.int32)


def test_json_document_with_title_and_date():
    r = raw(kind="json", body="\n".join(TEXT.splitlines()[3:5]), title="Sea wall vote",
            published_at=1_600_000_000_000_000, date_source="json")
    a = clean_document(r)
    assert a.title == "Sea wall vote" and a.text == BODY
    assert (a.published_at, a.date_source, a.text_source) == (1_600_000_000_000_000, "json", "file")


def test_text_dateline_gives_date():
    r = raw(body="Harbour town votes to rebuild its flooded sea wall\nPublished 14 March 2023\n" + "\n".join(TEXT.splitlines()[3:5]))
    a = clean_document(r)
    assert a.date_source == "text" and a.published_at == parse_date_text("2023-03-14")
    assert a.text == BODY


def test_html_document():
    r = raw(kind="html", body=ARTICLE_HTML, locator="file:///data/a.html")
    a = clean_document(r)
    assert a.url == "https://courier.example.org/news/2023/03/14/sea-wall-vote"
    assert a.title == "Harbour town votes to rebuild its flooded sea wall"
    assert a.date_source == "html" and a.published_at == parse_date_text("2023-03-14")
    assert a.author == "Maria Lindqvist" and a.site_name == "Coastal Courier"
    assert a.text_source == "page" and a.language == "en"
    assert "\n\n" in a.text and "newsletter" not in a.text
    assert a.word_count == len(a.text.split())


def test_feed_falls_back_to_summary_html():
    summary = ("<p>The town council of Port Ellery voted on Tuesday to rebuild the sea wall that failed "
               "during the winter storms.</p><p>Councillors said the old wall, built in the 1950s, had been "
               "patched so many times that nobody knew what remained.</p>")
    r = raw(kind="feed", body="", summary=summary, title="Sea wall vote", url="https://x.example/a",
            published_at=1_600_000_000_000_000, date_source="feed")
    a = clean_document(r)
    assert (a.text_source, a.text, a.url, a.date_source) == ("feed", BODY, "https://x.example/a", "feed")
    page = clean_document(r._replace(body=ARTICLE_HTML))
    assert page.text_source == "page" and page.text.startswith("The town council")


def test_short_feed_summary_is_kept_when_the_page_fails():
    r = raw(kind="feed", body="<html><body><nav>Home</nav></body></html>",
            summary="Storm closes the harbour road for a second day.", title="Harbour road shut",
            url="https://x.example/b")
    a = clean_document(r)
    assert (a.text_source, a.text, a.word_count) == (
        "feed", "Storm closes the harbour road for a second day.", 9)
    with pytest.raises(CleanFailure) as failure:
        clean_document(r, CleanConfig(min_summary_words=10))
    assert failure.value.reason == "too_short"


def test_feed_item_page_status_says_why_the_page_was_not_used():
    summary = "<p>" + BODY + "</p>"
    item = raw(kind="feed", body=ARTICLE_HTML, summary=summary, title="Sea wall vote",
               url="https://x.example/a")._replace(page_status="ok")
    assert (clean_document(item).text_source, clean_document(item).page_status) == ("page", "ok")
    # Fetched, but no article in the page: the summary, and why.
    empty_page = item._replace(body="<html><body><nav>Home</nav></body></html>")
    a = clean_document(empty_page)
    assert (a.text_source, a.page_status) == ("feed", "no_article")
    # Not fetched: the fetch's reason is kept.
    for status in ("http_404", "robots_disallowed", "timeout", "no_link"):
        a = clean_document(item._replace(body="", page_status=status))
        assert (a.text_source, a.page_status, a.text) == ("feed", status, BODY)
    # Files have no page.
    assert clean_document(raw()).page_status is None
    assert clean_document(raw(kind="html", body=ARTICLE_HTML)).page_status is None


def test_feed_item_without_page_or_summary_is_one_error_naming_the_page_reason():
    item = raw(kind="feed", body="", summary=None, url="https://x.example/gone")
    with pytest.raises(CleanFailure) as failure:
        clean_document(item._replace(page_status="http_404"))
    assert (failure.value.reason, failure.value.detail) == (
        "no_article", "no article in the feed summary; page: http_404")
    with pytest.raises(CleanFailure) as failure:
        clean_document(item._replace(body="<html><body><nav>Home</nav></body></html>",
                                     page_status="ok"))
    assert failure.value.reason == "no_article"
    assert failure.value.detail.endswith("; page: no_article")
    with pytest.raises(CleanFailure) as failure:  # a summary too short to keep
        clean_document(item._replace(summary="Two words.", page_status="timeout"))
    assert (failure.value.reason, failure.value.detail) == ("too_short", "2 words < 5; page: timeout")


@pytest.mark.parametrize("doc,reason", [
    (raw(body="   \n "), "empty"),
    (raw(kind="html", body="plain words, no markup at all"), "not_html"),
    (raw(kind="html", body="<html><body><nav><a href='/'>Home</a></nav></body></html>"), "no_article"),
    (raw(body="Short headline here\nToo short."), "too_short"),
    (raw(kind="feed", body="", summary=""), "no_article"),
    (raw(kind="pdf"), "unknown_kind"),
])
def test_rejections(doc, reason):
    with pytest.raises(CleanFailure) as err:
        clean_document(doc)
    assert err.value.reason == reason


def test_too_large():
    with pytest.raises(CleanFailure) as err:
        clean_document(raw(body=TEXT * 100), CleanConfig(max_chars=1000))
    assert err.value.reason == "too_large"


def test_language():
    assert detect_language(BODY) == "en"
    assert detect_language("Le conseil municipal a voté mardi la reconstruction de la digue.") == "fr"
    assert detect_language("ok") == "und"


def test_cleaner_turns_sandbox_failures_into_error_results(monkeypatch):
    for failure, reason in (("timeout", "timeout"), ("crashed", "extractor_crash"),
                            ("memory_limit", "extractor_crash")):
        def fail(self, fn, *args, failure=failure):
            raise SandboxFailure(failure, "detail")

        monkeypatch.setattr(Sandbox, "call", fail)
        assert Cleaner().clean(raw()) == ("error", reason, "cleaning: detail")


def test_cleaner_stops_a_document_past_its_time_limit():
    para = "<p>" + "The council met again on Tuesday to discuss the harbour wall and its costs. " * 20 + "</p>"
    page = "<html><body>" + para * 3000 + "</body></html>"  # ~4.6 MB: seconds to clean
    with Cleaner(CleanConfig(timeout_seconds=0.05)) as cleaner:
        assert cleaner.clean(raw(kind="html", body=page))[:2] == ("error", "timeout")


@pytest.mark.slow  # seconds of extraction
def test_huge_page_is_cleaned_within_limit():
    para = "<p>" + "The council met again on Tuesday to discuss the harbour wall and its costs. " * 20 + "</p>"
    page = "<html><body>" + para * 3000 + "</body></html>"  # ~4.6 MB
    with Cleaner(CleanConfig(timeout_seconds=60.0)) as cleaner:
        status, article = cleaner.clean(raw(kind="html", body=page))
    assert status == "ok" and "harbour wall" in article.text


def test_clean_articles_composite():
    good = raw()
    bad = raw(kind="html", body="no markup here", locator="file:///data/b.html")
    with TestPipeline() as p:
        out = p | beam.Create([good, bad]) | CleanArticles(CleanConfig(timeout_seconds=30.0))
        assert_that(out["articles"], equal_to([expected_text_article(good)]), label="Articles")
        errors = out["errors"] | beam.Map(lambda e: (e.source, e.stage, e.error, e.detail, e.at > 0))
        assert_that(errors, equal_to([("file:///data/b.html", "clean", "not_html",
                                       "no HTML markup in the first 20,000 characters", True)]), label="Errors")
