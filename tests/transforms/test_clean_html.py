"""Plain-function tests of HTML extraction, including bad input."""

from pathlib import Path

import pytest

from newsbeam.transforms.clean_html import ExtractionError, extract_html

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def article_html():
    return (FIXTURES / "article.html").read_text(encoding="utf-8")


def test_article_text_and_metadata(article_html):
    e = extract_html(article_html, url="https://courier.example.org/x")
    assert e.title == "Harbour town votes to rebuild its flooded sea wall"
    assert e.paragraphs[0].startswith("The town council of Port Ellery voted on Tuesday")
    assert e.paragraphs[-1] == "The council will publish the tender in April and expects to choose a contractor by the summer."
    assert "Engineers favour a stepped design" in e.paragraphs  # subheading kept
    body = "\n".join(e.paragraphs)
    for junk in ["newsletter", "READ MORE", "Follow Maria", "Related stories", "Choir", "Leave a Reply",
                 "about time they fixed", "All rights reserved", "Home"]:
        assert junk.lower() not in body.lower(), junk
    assert e.published == "2023-03-14" and e.date_origin == "json-ld"
    assert e.author == "Maria Lindqvist"
    assert e.site_name == "Coastal Courier"
    assert e.url == "https://courier.example.org/news/2023/03/14/sea-wall-vote"
    assert e.html_lang == "en"
    assert {r for _, r in e.removed} >= {"boilerplate"}


def test_not_html():
    with pytest.raises(ExtractionError) as err:
        extract_html("This is just a line of text.\nAnd another one, with no markup at all.")
    assert err.value.reason == "not_html"
    with pytest.raises(ExtractionError) as err:
        extract_html("%PDF-1.4 \x00\x01\x02 binary garbage")
    assert err.value.reason == "not_html"


def test_page_without_article():
    page = "<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav><footer>© 2024</footer></body></html>"
    with pytest.raises(ExtractionError) as err:
        extract_html(page)
    assert err.value.reason == "no_article"
    with pytest.raises(ExtractionError):
        extract_html("   ")


def test_truncated_markup_still_yields_text(article_html):
    cut = article_html[: article_html.index("Engineers favour")]
    e = extract_html(cut)
    assert e.paragraphs[0].startswith("The town council of Port Ellery")


def test_malformed_markup():
    page = ("<html><body><div><p>The ferry service between the islands resumed on Friday after a "
            "two-week suspension caused by storms <b>and <i>unclosed tags</p><p>Operators said the "
            "timetable would return to normal by Monday, with extra sailings at the weekend.</div></span>")
    e = extract_html(page)
    assert any("ferry service" in p for p in e.paragraphs)


def test_deeply_nested_markup_does_not_crash():
    para = ("<p>The regional library reopened after renovation, with a new reading room and longer "
            "opening hours for students during the exam period.</p>")
    page = "<html><body>" + "<div>" * 5000 + para + "</div>" * 5000 + "</body></html>"
    # 5,000 levels deep: lxml stops descending, so the paragraph is not found; a
    # clean rejection, not a RecursionError that would end the worker.
    with pytest.raises(ExtractionError) as err:
        extract_html(page)
    assert err.value.reason == "no_article"


def test_wrongly_decoded_page_gives_clean_output(article_html):
    # Bytes in UTF-8 decoded as Latin-1 (a wrong declared charset): mojibake, but no crash.
    garbled = article_html.encode("utf-8").decode("latin-1")
    e = extract_html(garbled)
    assert e.paragraphs and "Port Ellery" in e.paragraphs[0]
