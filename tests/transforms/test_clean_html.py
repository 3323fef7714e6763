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


def test_decisions_list_every_line_in_order_with_its_reason(article_html):
    e = extract_html(article_html, url="https://courier.example.org/x")
    kept = [line for line, why in e.decisions if why is None]
    assert kept == e.paragraphs
    assert [(line, why) for line, why in e.decisions if why] == e.removed


def test_without_rules_the_body_is_trafilaturas_text_less_the_headline(article_html):
    import trafilatura

    e = extract_html(article_html, url="https://courier.example.org/x", rules=frozenset())
    lines = [ln.strip() for ln in trafilatura.extract(article_html, url="https://courier.example.org/x",
                                                      include_comments=False).split("\n") if ln.strip()]
    assert e.removed == [(lines[0], "headline")]
    assert e.paragraphs == lines[1:]


def test_a_pages_faq_is_article_text():
    # On guides and reviews the FAQ is content; the generated-FAQ rule is for plain text only.
    qa = "".join(f"<p>Q: How long does step {n} of the repair take for a beginner?</p>"
                 f"<p>A: Step {n} takes about {n * 10} minutes with the right tools and some patience.</p>"
                 for n in range(1, 4))
    page = ("<html><head><title>Replacing brake pads at home</title></head><body><article>"
            "<h1>Replacing brake pads at home</h1>"
            "<p>Brake pads wear out with use, and replacing them yourself saves money if you work carefully "
            "and follow the manufacturer's torque figures for every bolt on the caliper.</p>"
            "<p>Start by loosening the wheel nuts, lifting the car on a jack and securing it on stands "
            "before you take the wheel off and reach the caliper behind it.</p>"
            f"<h2>Frequently asked questions</h2>{qa}</article></body></html>")
    e = extract_html(page)
    assert "Frequently asked questions" in e.paragraphs
    assert sum(p.startswith(("Q:", "A:")) for p in e.paragraphs) == 6
