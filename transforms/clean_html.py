"""HTML article extraction: trafilatura, then a few line rules on its paragraphs.

``extract_html(html, url)`` returns an :class:`Extracted` with the headline,
the body paragraphs and the page metadata, or raises :class:`ExtractionError`
with a short reason (``not_html``, ``no_article``).

Galleries, slideshows and video players are removed from the page first
(``transforms.media``): their captions and player labels are not the article.
trafilatura then runs as its authors ship it, with its fallback comparison against
its readability/jusText copies (``fast=False``), except that reader comments
are left out (``include_comments=False``: comments are not the article).
Skipping the fallback had won on the 91 pages it was tuned on; on sources it
was not tuned on it lost (WCXB F1 0.928 vs 0.949, recall 0.917 vs 0.955), so
it went (``benchmarks/extraction.py`` prints the leave-one-source-out table).

After trafilatura, only rules that carry out the product's contract run on
its lines (``HTML_RULES``): the headline goes to ``title`` (not repeated at
the top of the body), lines without a letter or digit go, and so do the short
lines of the boilerplate vocabulary (calls to action, newsletter prompts,
"Related:" links, credits, bylines; ``transforms.boilerplate``). Rules that
judge content (the generated-FAQ rule, digests of other stories) stay with
plain text: on guides and reviews an FAQ is the article.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

import trafilatura

from newsbeam.transforms.boilerplate import is_prose
from newsbeam.transforms.clean_text import clean_paragraphs
from newsbeam.transforms.errors import Rejected
from newsbeam.transforms.language import detect_language
from newsbeam.transforms.media import without_media
from newsbeam.transforms.text import letter_words, line_key

_MARKUP = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|div|p|article|meta|title|span|a|table|section)\b", re.I)
_LD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')
_META_DATE = re.compile(
    r'<meta[^>]+(?:property|name|itemprop)=["\'](?:article:published_time|og:published_time|pubdate|'
    r'publishdate|date|dc\.date|dcterms\.created|datePublished|sailthru\.date|parsely-pub-date)["\'][^>]*>', re.I)
_URL_DATE = re.compile(r"/(?:19|20)\d{2}/[01]?\d/(?:[0-3]?\d/)?")


class ExtractionError(Rejected):
    """The page yields no article; ``reason`` is a short machine-friendly code."""


# Reasons of ``clean_text.clean_paragraphs`` applied to trafilatura's lines.
HTML_RULES = frozenset({"separator", "repeated", "boilerplate", "call_to_action", "teaser"})
# Everything the line rules can say about an extracted page (for benchmarks and ablations).
ALL_HTML_RULES = HTML_RULES | {"faq", "digest"}


class Extracted(NamedTuple):
    title: Optional[str]
    paragraphs: list
    removed: list  # (paragraph, reason) dropped after trafilatura
    published: Optional[str]  # YYYY-MM-DD from the page, if any
    date_origin: Optional[str]  # json-ld | meta | url | page (htmldate's other heuristics)
    author: Optional[str]
    site_name: Optional[str]
    url: Optional[str]  # canonical / og:url
    html_lang: Optional[str]
    # Every line trafilatura returned, in order, with the reason a line rule
    # gives against it (None: none), whether or not that rule was applied.
    decisions: tuple = ()


def looks_like_html(html: str) -> bool:
    return bool(_MARKUP.search(html[:20000]))


def _date_origin(html: str, url: Optional[str], date: str) -> str:
    head = html[:300000]
    m = _LD_DATE.search(head)
    if m and m.group(1).startswith(date):
        return "json-ld"
    for tag in _META_DATE.findall(head):
        if date in tag:
            return "meta"
    if url and _URL_DATE.search(url) and date.replace("-", "/")[:7] in url:
        return "url"
    return "page"


_HTML_LANG = re.compile(r"<html\b[^>]*\blang=[\"']?([A-Za-z]{2,3})\b", re.I)


def _html_lang(html: str) -> Optional[str]:
    m = _HTML_LANG.search(html[:5000])
    return m.group(1).lower() if m else None


def extract_html(html: str, url: Optional[str] = None, *, favor_precision: bool = False,
                 favor_recall: bool = False, include_comments: bool = False,
                 include_tables: bool = True, rules: frozenset = HTML_RULES,
                 media: bool = True, topical: bool = False, fast: bool = False) -> Extracted:
    """Main text and metadata of one HTML page.

    Raises ``ExtractionError("not_html")`` when the input has no markup at
    all and ``ExtractionError("no_article")`` when trafilatura finds no main
    text (or nothing survives the boilerplate pass). ``rules``: the reasons
    of the line rules that may drop a line (``frozenset()``: trafilatura's
    lines as they are, but for the echoed headline). ``media``: remove
    galleries and players before trafilatura reads the page
    (:func:`transforms.media.strip_media`).
    """
    if not html or not html.strip():
        raise ExtractionError("no_article", "empty page")
    if not looks_like_html(html):
        raise ExtractionError("not_html", "no HTML markup in the first 20,000 characters")
    doc = trafilatura.bare_extraction(
        without_media(html) if media else html, url=url, fast=fast, with_metadata=True,
        include_comments=include_comments, include_tables=include_tables,
        favor_precision=favor_precision, favor_recall=favor_recall)
    if doc is None or not (doc.text or "").strip():
        raise ExtractionError("no_article", "no main text found")
    title = (doc.title or "").strip() or None
    lines = [ln.strip() for ln in doc.text.split("\n") if ln.strip()]
    decisions = []
    # The headline echoed at the top of the body is in ``title`` already.
    if title and lines and line_key(lines[0]) == line_key(title):
        decisions.append((lines[0], "headline"))
        lines = lines[1:]
    if rules:
        # The language of the extracted text decides which line rules may run on it.
        cleaned = clean_paragraphs(lines, title, topical=topical, shape=False, dedupe=False,
                                   link_lists=False, language=detect_language("\n".join(lines)))
        decisions += cleaned.decisions
    else:
        decisions += [(ln, None) for ln in lines]
    paragraphs = [ln for ln, why in decisions if why is None or (why != "headline" and why not in rules)]
    removed = [(ln, why) for ln, why in decisions if why is not None and (why == "headline" or why in rules)]
    if not paragraphs:
        raise ExtractionError("no_article", "only boilerplate found")
    if not any(is_prose(p) for p in paragraphs) and sum(len(letter_words(p)) for p in paragraphs) < 25:
        # trafilatura's last-resort fallback returns whatever text the page has (menus, footers).
        raise ExtractionError("no_article", "no sentence-shaped text, only labels or navigation")
    date = doc.date if doc.date else None
    return Extracted(
        title=title,
        paragraphs=paragraphs,
        removed=removed,
        published=date,
        date_origin=_date_origin(html, url, date) if date else None,
        author=(doc.author or None),
        site_name=(doc.sitename or None),
        url=(doc.url or None),
        html_lang=_html_lang(html),
        decisions=tuple(decisions),
    )
