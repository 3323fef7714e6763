"""Pictures and players around an article: galleries, slideshows, carousels,
lightboxes and video players on pages, and image captions and credits in feed
content. Plain functions, shared by the HTML and feed-summary cleaners.

:func:`strip_media` removes, from a parsed page (lxml), the elements that mark
themselves as a gallery or a player, before trafilatura reads the page: their
text is slide captions, counters ("1 of 50", "Next slide") and player UI
("Play Video", "Now Playing", "Duration 2:31"), which trafilatura otherwise
keeps as paragraphs. Markers are generic, never site names: the element's tag,
``class``, ``id``, ``role``, ``aria-label``/``aria-roledescription``,
``itemtype`` and ``data-*`` attributes, matched against the vocabulary of
gallery and player widgets (``gallery``, ``slideshow``, ``carousel``,
``lightbox``, ``swiper``, ``video-player``, ``jwplayer``, ``vjs-``, ...).

Classes naming what a post is about rather than what the element is
(WordPress ``format-video``, ``category-galleries``, ``has-carousel``) are
not markers, nor are ``data-*`` values that are URLs.

Guards, so an article is never removed with its pictures: ``html``, ``body``,
``main`` and ``article`` elements stay, and so does anything holding one of
them, an ``h1``, ``itemprop="articleBody"``, a ``blockquote`` (an embedded
post the article quotes) or three paragraphs of running text side by side;
and when the paragraphs left outside the marked elements hold fewer than
``min_words`` words the page is a gallery or video page whose captions are
its text, and nothing is removed.

Measured on the extraction pages (trafilatura ``fast=False``, raw page vs
page less media, F1 of ``benchmarks/lib/extraction_f1.py``): scrapinghub
0.9646 -> 0.9648, dragnet 0.9262 -> 0.9329, WCXB 0.9489 -> 0.9493.

:func:`caption_reason` says whether one line of feed content is an image
caption or credit (``Photo: Reuters``, ``(Image credit: Getty Images)``,
``Block's logo. | Image: Block``, ``A screenshot from Microsoft Journal.``).
"""

from __future__ import annotations

import re
from typing import Optional

from newsbeam.transforms.text import letter_words

# Whole words (after splitting attribute values at punctuation and camelCase).
_WORDS = frozenset({
    "gallery", "galleries", "slideshow", "slideshows", "carousel", "carousels", "lightbox",
    "slider", "sliders", "swiper", "slick", "flickity", "splide", "filmstrip", "playlist",
    "jwplayer", "vjs", "videojs", "plyr", "mejs", "video", "videos", "audio",
})
# Compounds, searched in the lowercased value with camelCase split
# ("photogallery", "VideoPlayer", "owl-carousel", "jw-player", "light_box"); a
# word that can end another word starts at a boundary ("highlight-box" is no lightbox).
_COMPOUNDS = re.compile(r"galler(?:y|ies)|slideshow|carousel|(?<![a-z])(?:light[-_ ]?box|swiper|"
                        r"(?:video|media|audio|jw)[-_ ]?player)")
# Classes that label what a post is about (WordPress ``format-video``,
# ``category-galleries``), not what the element is.
_TAXONOMY = re.compile(r"^(?:format|category|categories|tag|type|post|language|topic|section|"
                       r"collection|has|with|no|is)[-_]", re.I)
# Schema.org types of a gallery or a video.
_ITEMTYPES = re.compile(r"(?:ImageGallery|MediaGallery|VideoObject|VideoGallery)\s*$")
_TAGS = frozenset({"video", "audio"})
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article"})
# An element holding one of these holds text the article quotes: an embedded
# post (kept on purpose, see transforms.clean_text), the headline, the body.
_HOLDS_TEXT = frozenset({"main", "article", "h1", "blockquote"})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
# A data-* value that is a URL, a path or JSON says nothing about the element.
_IDENTIFIER = re.compile(r"^[\w .:-]{1,60}$")
def _tokens(value: str) -> set:
    return set(_SPLIT.split(_CAMEL.sub(" ", value).lower())) - {""}


def media_marker(el) -> Optional[str]:
    """The attribute (``"class=gallery"``) or tag that marks ``el`` as a gallery,
    slideshow, carousel, lightbox or media player; None when nothing does."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag.lower() in _TAGS:
        return tag.lower()
    if "-" in tag and (_tokens(tag) & _WORDS or _COMPOUNDS.search(tag.lower())):
        return tag.lower()  # custom elements: <amp-carousel>, <video-player>
    for name, value in el.attrib.items():
        name = name.lower()
        if name == "class":
            value = " ".join(c for c in value.split() if not _TAXONOMY.match(c))
        elif name in ("id", "role", "aria-label", "aria-roledescription"):
            pass
        elif name == "itemtype":
            if _ITEMTYPES.search(value):
                return f"itemtype={value}"
            continue
        elif name.startswith("data-"):
            if _tokens(name[5:]) & _WORDS:
                return name
            if not _IDENTIFIER.match(value):
                continue
        else:
            continue
        if _tokens(value) & _WORDS or _COMPOUNDS.search(_CAMEL.sub(" ", value).lower()):
            return f"{name}={value.strip()[:40]}"
    return None


def _protected(el) -> bool:
    """Whether ``el`` holds the article: a page-structure element, a headline,
    ``articleBody``, a quoted post (``blockquote``), or paragraphs side by side (three
    of 15 words or more under one parent: running text; a slideshow holds a caption or
    two per slide)."""
    if not isinstance(el.tag, str) or el.tag.lower() in _PROTECTED_TAGS:
        return True
    for inner in el.iter():
        tag = inner.tag.lower() if isinstance(inner.tag, str) else ""
        if tag in _HOLDS_TEXT or inner.get("itemprop") == "articleBody":
            return True
        if sum(1 for p in inner.iterchildren("p") if _words(p) >= 15) >= 3:
            return True
    return False


def _words(el) -> int:
    return len((el.text_content() or "").split())


def find_media(root) -> list:
    """The outermost unprotected elements under ``root`` marked as media, as
    (element, marker) pairs in document order."""
    found = []
    stack = list(reversed(root))
    while stack:  # not recursive: pages nest deeper than Python's stack
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        marker = media_marker(el)
        if marker and not _protected(el):
            found.append((el, marker))
        else:
            stack.extend(reversed(el))
    return found


def strip_media(root, min_words: int = 60) -> list:
    """Remove gallery, slideshow, carousel, lightbox and player elements from the
    lxml tree ``root`` in place; returns the markers of what was removed.

    Nothing is removed when the paragraphs (``<p>``) left outside those
    elements would hold fewer than ``min_words`` words (a gallery or video
    page: its captions are its text); a page without paragraphs is judged by
    all its text. Tails (text after an element's end tag) are kept.
    """
    found = find_media(root)
    if not found:
        return []
    paragraphs = sum(_words(p) for p in root.iter("p"))
    removed_paragraphs = sum(_words(p) for el, _ in found for p in el.iter("p"))
    if paragraphs >= min_words:
        left = paragraphs - removed_paragraphs
    else:
        left = _words(root) - sum(_words(el) for el, _ in found)
    if left < min_words:
        return []
    for el, _ in found:
        el.drop_tree()  # lxml.html: keeps the tail text
    return [marker for _, marker in found]


def strip_figures(root) -> int:
    """Remove ``<figure>``, ``<figcaption>`` and ``<picture>`` elements (a feed
    item's images with their captions and credits) from ``root``; returns how many."""
    found = [el for el in root.iter("figure", "figcaption", "picture")]
    outer = [el for el in found if not any(a in found for a in el.iterancestors())]
    for el in outer:
        el.drop_tree()
    return len(outer)


_CREDIT = (r"(?:photo(?:graph)?s?|images?|pictures?|pics?|illustrations?|graphics?|videos?|"
           r"screenshots?|footage|artwork|rendering)")
# "Photo: Reuters", "(Image credit: Getty Images)", "Image by Alex Castro / The Verge",
# "Photo by X - Pool/Getty Images", "Credit: AFP".
_CREDIT_LINE = re.compile(
    r"^\W*(?:" + _CREDIT + r"(?:\s+(?:credits?|courtesy))?\s*(?::|by\b|courtesy\b|via\b|©)|"
    r"credits?\s*:|courtesy of\b|©)", re.I)
# "Block's logo. | Image: Block": a caption with its credit after a bar.
_TRAILING_CREDIT = re.compile(r"[|/]\s*(?:" + _CREDIT + r"|credits?)\s*(?::|by\b)[^|]*$", re.I)
# "A screenshot from Microsoft Journal.", "A photo of the damaged bridge."
_DESCRIBES_PICTURE = re.compile(
    r"^\W*(?:an?\s+)?(?:(?:file|stock|undated|handout|aerial)\s+)?" + _CREDIT +
    r"\s+(?:of|from|shows?|showing|taken|shared|released|provided|posted)\b", re.I)
# "Louis C.K. in 2016. (AP Photo/Evan Agostini)": an agency credit closing a short line.
_PAREN_CREDIT = re.compile(
    r"\((?:[^()]*\b(?:photo|image|credit|getty|afp|reuters|ap|epa)\b[^()]*)\)\s*$", re.I)


def caption_reason(line: str, max_words: int = 20) -> Optional[str]:
    """``"caption"`` when a line of feed content is an image caption or credit, else None.

    Only short lines are judged (``max_words``): a paragraph that mentions a
    photo is prose.
    """
    n = len(letter_words(line))
    if n == 0 or n > max_words:
        return None
    if _CREDIT_LINE.match(line) or _TRAILING_CREDIT.search(line) or _PAREN_CREDIT.search(line) \
            or (n <= 12 and _DESCRIBES_PICTURE.match(line)):
        return "caption"
    return None


def without_media(html: str):
    """``html`` parsed as trafilatura parses it, with :func:`strip_media` applied:
    an lxml tree to hand to ``trafilatura.bare_extraction`` in place of the string
    (the string itself when it does not parse, so trafilatura reports that as before)."""
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return html
    strip_media(tree)
    return tree
