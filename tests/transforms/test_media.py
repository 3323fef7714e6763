"""transforms.media: galleries and players removed from pages before extraction;
captions and credits told apart from feed text."""

import lxml.html
import pytest
import trafilatura

from newsbeam.transforms.media import (
    caption_reason,
    find_media,
    media_marker,
    strip_media,
    without_media,
)

ARTICLE = [
    ("The town council of Port Ellery voted on Tuesday to rebuild the sea wall that failed during "
     "the winter storms, approving a budget of 14 million euros after a long debate."),
    ("Councillors said the old wall, built in the 1950s, had been patched so many times that "
     "engineers could no longer say how much of the original structure remained."),
    ("Two sections collapsed in January, flooding the lower harbour and the fish market, and "
     "forcing dozens of families to leave their homes for several weeks."),
    ("The engineering firm hired by the council recommended a stepped concrete wall that breaks "
     "the force of the waves instead of reflecting it back into the harbour."),
    ("Residents who spoke at the meeting mostly supported the plan, although some fishermen asked "
     "for the slipway to be kept open while the work goes on."),
    ("The council will publish the tender in April and expects to choose a contractor by the "
     "summer, with work starting before the autumn tides arrive."),
]
SLIDES = 20


def _slide(i: int) -> str:
    return (f'<div class="slide" data-slide-index="{i}"><img src="/img/{i}.jpg" alt="Harbour {i}">'
            f'<p class="caption">Waves break over the old harbour wall at high tide in picture '
            f'number {i} of the storm series, as residents look on from the promenade.</p>'
            f'<span class="counter">{i} of {SLIDES}</span></div>')


GALLERY = ('<section class="c-gallery" data-component="ImageGallery" aria-label="Image gallery">'
           '<button aria-label="Previous slide">Previous slide</button>'
           + "".join(_slide(i) for i in range(1, SLIDES + 1)) +
           '<button aria-label="Next slide">Next slide</button></section>')
PLAYER = ('<div class="media-block"><div class="jw-player-wrapper" id="VideoPlayer_123">'
          '<button class="play">Play Video</button><span>Now Playing</span>'
          '<p>Watch: Crowds gather at the harbour wall as the storm surge rises</p>'
          '<span>Duration 2:31</span></div></div>')


def page(middle: str = GALLERY + PLAYER, article_tag: str = "article") -> str:
    paras = "".join(f"<p>{p}</p>" for p in ARTICLE)
    half = len(ARTICLE) // 2
    first, second = ("".join(f"<p>{p}</p>" for p in ARTICLE[:half]),
                     "".join(f"<p>{p}</p>" for p in ARTICLE[half:]))
    assert paras == first + second
    return (f"<html><head><title>Sea wall vote</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<{article_tag}><h1>Harbour town votes to rebuild its flooded sea wall</h1>"
            f"{first}{middle}{second}</{article_tag}>"
            f"<footer>Contact us</footer></body></html>")


def tree(html: str):
    return lxml.html.document_fromstring(html)


def extract(html_or_tree) -> str:
    doc = trafilatura.bare_extraction(html_or_tree, url="https://courier.example.org/a", fast=False,
                                      include_comments=False, with_metadata=True)
    return doc.text if doc is not None else ""


UI = ["Next slide", "Previous slide", "Play Video", "Now Playing", "Duration 2:31", "Watch: Crowds",
      f"1 of {SLIDES}", "picture number 7"]


def test_gallery_and_player_are_removed_and_the_article_stays():
    root = tree(page())
    removed = strip_media(root)
    assert removed == ["class=c-gallery", "class=jw-player-wrapper"]
    text = root.text_content()
    for ui in UI:
        assert ui not in text, ui
    for p in ARTICLE:
        assert p in text


def test_trafilatura_keeps_the_gallery_unless_it_is_stripped():
    raw = extract(page())
    assert sum(ui in raw for ui in UI) >= 2, raw  # the problem being solved
    stripped = extract(without_media(page()))
    for ui in UI:
        assert ui not in stripped, ui
    for p in ARTICLE:
        assert p in stripped, p
    assert len(stripped.split()) < 0.6 * len(raw.split())


@pytest.mark.parametrize("html,marker", [
    ('<div class="owl-carousel owl-theme">', "class=owl-carousel owl-theme"),
    ('<div id="modalVideoPlayerContainer">', "id=modalVideoPlayerContainer"),
    ('<div class="light_box_modal">', "class=light_box_modal"),
    ('<div role="region" aria-roledescription="carousel">', "aria-roledescription=carousel"),
    ('<div data-component="VideoPlayer">', "data-component=VideoPlayer"),
    ('<div data-gallery-id="42">', "data-gallery-id"),
    ('<div itemtype="https://schema.org/ImageGallery">', "itemtype=https://schema.org/ImageGallery"),
    ("<amp-carousel>", "amp-carousel"),
    ("<video>", "video"),
    # Not media: words that merely contain a marker, a post's taxonomy, a URL, a sports player.
    ('<div class="highlight-box">', None),
    ('<div class="post format-video category-galleries">', None),
    ('<div data-href="https://example.org/lightbox/balenciaga">', None),
    ('<div class="player-bio">', None),
])
def test_markers(html, marker):
    tag = html[1:].split()[0].rstrip(">")
    assert media_marker(lxml.html.fragment_fromstring(f"{html}x</{tag}>")) == marker


def test_elements_holding_the_article_are_never_removed():
    # A wrapper marked as video that holds the article's paragraphs, its headline or a quoted post.
    wrapped = page(middle="", article_tag='div class="story has-video video-story"')
    assert strip_media(tree(wrapped)) == []
    running_text = ('<html><body><div class="video-article">'
                    + "".join(f"<p>{p}</p>" for p in ARTICLE)
                    + "</div><p>" + " ".join(ARTICLE) + "</p></body></html>")
    assert strip_media(tree(running_text)) == []
    embed = ('<div class="video-container"><blockquote class="twitter-tweet">'
             "<p>Stadia captures are 30fps tonight.</p></blockquote></div>")
    root = tree(page(middle=embed))
    assert find_media(root) == [] and strip_media(root) == []
    assert "Stadia captures" in root.text_content()


def test_a_gallery_page_keeps_its_gallery():
    # Captions are all the text there is: removing them would leave no article.
    html = (f"<html><body><h2>In pictures: the storm</h2>{GALLERY}"
            "<p>Photos by the Courier staff.</p></body></html>")
    root = tree(html)
    assert strip_media(root) == []
    assert "picture number 7" in root.text_content()


def test_without_media_hands_trafilatura_a_tree_or_the_input():
    assert isinstance(without_media(page()), lxml.html.HtmlElement)
    assert without_media("") == ""


@pytest.mark.parametrize("line", [
    "Photo: Reuters", "(Image credit: Getty Images)", "Block’s logo. | Image: Block",
    "A screenshot from Microsoft Journal.", "Image by Alex Castro / The Verge",
    "Photo by Christian Marquardt - Pool/Getty Images",
    "Louis C.K. in 2016. (AP Photo/Evan Agostini)",
    "Credit: AFP", "Illustration by Alex Castro / The Verge",
])
def test_captions_and_credits(line):
    assert caption_reason(line) == "caption"


@pytest.mark.parametrize("line", [
    "The photo agency said it would appeal against the ruling on Monday.",
    "Block is laying off nearly 1,000 employees as part of a restructuring.",
    "Watch the moment the truck is tossed in the air by the twister as storms swept Texas.",
    "The pics of Jonathan Bailey and Simone Ashley are the objects of ALL MY DESIRES...",
    ("A photo of the minister at the party was published by a tabloid on Sunday, prompting calls "
     "for an inquiry into the gathering and who had attended it that night."),
])
def test_prose_is_not_a_caption(line):
    assert caption_reason(line) is None
