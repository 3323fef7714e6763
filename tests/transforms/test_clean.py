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
    CountLowKept,
    clean_body,
    clean_document,
    detect_language,
    kept_little,
)
from newsbeam.transforms.dates import parse_date_text
from newsbeam.transforms.ids import article_id
from newsbeam.transforms.sandbox import Sandbox, SandboxFailure
from newsbeam.transforms.text import word_count
from tests.records import raw_document
from tests.transforms.test_clean_text import DE_HEADLINE, DE_PARAGRAPHS

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
                   site_name=None, content_hash="", page_status=None, kept_ratio=0.7903)


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


# Articles in other languages, written for these tests. Before word counts
# followed Unicode scripts, a Chinese or Japanese article was "too_short" (a
# paragraph without spaces was one word).
ZH_TITLE = "新能源汽车销量创新高"
ZH_PARAGRAPHS = [
    "国家统计局周二公布的数据显示，今年前十个月全国新能源汽车产量同比增长三成以上。",
    "业内人士认为，充电设施的普及和电池成本的下降是销量增长的主要原因。",
    "多家车企表示，将在明年继续扩大产能，并加快在海外市场的布局。",
    "分析人士提醒，价格竞争可能压缩企业利润，行业整合仍将继续。",
]
JA_TITLE = "東京都が新たな防災計画を発表"
JA_PARAGRAPHS = [
    "東京都は十日、首都直下地震に備えた新しい防災計画を発表した。",
    "計画では、避難所の数を増やすとともに、高齢者の避難を支援する体制を強化する。",
    "知事は記者会見で「都民の命を守るため、できることはすべて行う」と述べた。",
    "都は来年度の予算に関連費用を盛り込み、五年以内に計画を実現する方針だ。",
]
FR_TITLE = "La mairie de Lyon rénove ses écoles"
FR_PARAGRAPHS = [
    ("La ville de Lyon a annoncé mardi un plan de rénovation de ses écoles primaires, le plus important "
     "depuis vingt ans."),
    "Les travaux porteront d'abord sur l'isolation des bâtiments et le remplacement des chaudières au fioul.",
    ("Selon l'adjointe chargée de l'éducation, une trentaine d'établissements seront concernés d'ici la fin "
     "du mandat."),
]


@pytest.mark.parametrize("title,paragraphs,language", [
    (ZH_TITLE, ZH_PARAGRAPHS, "zh"), (JA_TITLE, JA_PARAGRAPHS, "ja"), (FR_TITLE, FR_PARAGRAPHS, "fr"),
    (DE_HEADLINE, DE_PARAGRAPHS, "de"),
])
def test_articles_in_other_languages_become_rows_with_their_paragraphs(title, paragraphs, language):
    a = clean_document(raw(body="\n".join([title, *paragraphs])))
    assert (a.title, a.text.split("\n\n"), a.language) == (title, paragraphs, language)
    assert a.word_count >= 20


@pytest.mark.parametrize("title,paragraphs,language", [
    (ZH_TITLE, ZH_PARAGRAPHS, "zh"), (JA_TITLE, JA_PARAGRAPHS, "ja"),
])
def test_chinese_and_japanese_pages_become_rows(title, paragraphs, language):
    page = (f"<html lang='{language}'><head><title>{title}</title></head><body>"
            "<nav><a href='/'>首页</a></nav><article><h1>" + title + "</h1>" +
            "".join(f"<p>{p}</p>" for p in paragraphs * 2) + "</article></body></html>")
    a = clean_document(raw(kind="html", body=page, url="https://example.org/news/1"))
    assert a.language == language and a.text.startswith(paragraphs[0])
    assert a.word_count >= 60


# --- kept ratio -----------------------------------------------------------------


def test_kept_ratio_is_the_share_of_the_input_words_kept():
    # TEXT: 62 words; kept: the 9-word headline and 40 body words.
    assert clean_document(raw()).kept_ratio == round(49 / 62, 4)
    # JSON: the title counts on both sides.
    r = raw(kind="json", body="\n".join(TEXT.splitlines()[3:5]) + "\nLeave a Reply",
            title="Sea wall vote")
    assert clean_document(r).kept_ratio == round((3 + 40) / (3 + 43), 4)
    # A page: over what trafilatura extracted (title included), before the line rules.
    page = raw(kind="html", body=ARTICLE_HTML, locator="file:///data/a.html")
    a, body = clean_document(page), clean_body(page)
    assert a.kept_ratio == round((9 + a.word_count) / body.input_words, 4)
    assert 0.8 < a.kept_ratio < 1.0  # the newsletter prompt and "READ MORE" went
    assert {reason for _, reason in body.removed} >= {"boilerplate"}


def test_low_kept_articles_are_counted_per_text_source():
    config = CleanConfig()
    floors = dict(config.low_kept)
    assert not kept_little(clean_document(raw()), config)
    low = clean_document(raw())._replace(kept_ratio=floors["file"] - 0.01)
    assert kept_little(low, config)
    assert not kept_little(low._replace(kept_ratio=None), config)  # an older row
    p = TestPipeline()
    rows = [clean_document(raw()), low, low._replace(article_id="b")]
    _ = p | beam.Create(rows) | CountLowKept(config)
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]}
    assert counters == {"low_kept:file": 2}


# --- feed summaries -------------------------------------------------------------

FEED_BODY = ("Block, the parent company of Cash App and Tidal, said in a filing that a former "
             "employee downloaded reports that contained some US customer information without "
             "permission.")


def feed_item(summary, title="Block is contacting 8.2 million customers after a former employee "
                             "downloaded company reports", **fields):
    return raw(kind="feed", body="", summary=summary, title=title, url="https://x.example/block",
               **fields)._replace(page_status="http_404")


@pytest.mark.parametrize("summary", [
    # The Verge: a figure with its caption and credit above the text.
    '<figure><img alt="A cube-like block above the text Block" src="https://x.example/b.jpg" />'
    "<figcaption><em>Block’s logo.</em> | Image: Block</figcaption></figure>"
    "<p>" + FEED_BODY + "</p>",
    # The caption as a paragraph of its own, with a credit after a bar.
    "<p>Block’s logo. | Image: Block</p><p>" + FEED_BODY + "</p>",
    # A paragraph repeating the image's alt text.
    '<p><img alt="A screenshot from Microsoft Journal." src="j.png"></p>'
    "<p>A screenshot from Microsoft Journal.</p><p>" + FEED_BODY + "</p>",
    # Plain-text summaries with credit lines.
    "Photo: Reuters\n" + FEED_BODY,
    "(Image credit: Getty Images)\n" + FEED_BODY,
    "A screenshot from Microsoft Journal.\n" + FEED_BODY,
    # A link to the page at the end.
    "<p>" + FEED_BODY + '</p><p><a href="https://x.example/block">Continue reading…</a></p>',
])
def test_feed_summary_loses_captions_credits_and_links_to_the_page(summary):
    a = clean_document(feed_item(summary))
    assert (a.text, a.text_source, a.page_status) == (FEED_BODY, "feed", "http_404")


def test_a_summary_repeated_as_alt_text_is_not_a_caption():
    summary = f'<p><img alt="{FEED_BODY}" src="b.jpg"></p><p>{FEED_BODY}</p>'
    assert clean_document(feed_item(summary)).text == FEED_BODY


def test_feed_summary_kept_ratio_leaves_pictures_out():
    # A <figure> is a picture, not text given: the whole summary's text is kept.
    figure = ('<figure><img src="b.jpg"><figcaption>Image: Block</figcaption></figure>'
              f"<p>{FEED_BODY}</p>")
    assert clean_document(feed_item(figure)).kept_ratio == 1.0
    # A credit line in the text is text given, and dropped.
    a = clean_document(feed_item("Photo: Reuters\n" + FEED_BODY))
    given = word_count(a.title) + word_count("Photo: Reuters\n" + FEED_BODY)
    assert a.kept_ratio == round((given - 2) / given, 4)


@pytest.mark.parametrize("title,summary", [
    # BBC video item: 18 words that open like a call to action.
    ("Driver in pick-up truck flipped by Texas tornado",
     "Watch the moment the vehicle is tossed in the air by the twister as storms swept across "
     "Texas."),
    # A summary restating the headline with a few words more (Jornal de Notícias).
    ("Hugo Miguel é o árbitro escolhido para apitar o Benfica-Sporting",
     "Hugo Miguel é o árbitro escolhido para apitar o Benfica-Sporting, esta quarta-feira à "
     "noite."),
    # A summary that is the headline again (NASA): all the item says.
    ("NASA to Discuss Final Test Status Today Before Artemis Moon Mission",
     "NASA to Discuss Final Test Status Today Before Artemis Moon Mission"),
    # One line without a sentence end, as feeds cut summaries.
    ("Block lays off staff",
     "Block is laying off nearly 1,000 employees as part of a restructuring, according to an "
     "internal"),
])
def test_a_short_summary_without_a_page_is_a_row(title, summary):
    a = clean_document(feed_item(summary, title=title))
    assert (a.text, a.text_source, a.title) == (summary, "feed", title)


def test_a_short_summary_without_a_title_is_a_row():
    summary = ("Watch the moment the vehicle is tossed in the air by the twister as storms swept "
               "across Texas.")
    a = clean_document(feed_item(summary, title=None))
    assert a.text_source == "feed" and summary in (a.title, a.text)


@pytest.mark.parametrize("summary,reason", [
    ("Subscribe to our newsletter for the best stories of the week", "no_article"),
    ('<a href="https://x.example/cartoon">Continue reading...</a>', "no_article"),
    ('<figure><img src="a.jpg"><figcaption>Photo: Reuters</figcaption></figure>', "no_article"),
    ("Kyiv", "too_short"),
])
def test_boilerplate_or_empty_summaries_stay_errors(summary, reason):
    with pytest.raises(CleanFailure) as failure:
        clean_document(feed_item(summary, title="Some 1,200 war crimes registered in Kyiv region"))
    assert failure.value.reason == reason
    assert failure.value.detail.endswith("; page: http_404")
