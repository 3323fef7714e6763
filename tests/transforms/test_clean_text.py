"""Plain-function tests of the plain-text cleaner (no Beam)."""

from newsbeam.transforms.boilerplate import is_boilerplate, is_prose
from newsbeam.transforms.clean_text import clean_paragraphs, clean_text
from newsbeam.transforms.coherence import coherence_scores, near_title
from newsbeam.transforms.dates import find_dateline

HEADLINE = "City council approves new tram line to the airport"
LEAD = [
    "The city council approved on Monday a new tram line linking the central station to the airport, "
    "ending a decade of debate over how to connect the two.",
    "The tram line will run for twelve kilometres and stop at six stations, the council said, "
    "with construction of the airport tram due to start next spring.",
    "Council members who opposed the tram line argued that buses to the airport would be cheaper, "
    "but the transport committee found trams carry more passengers per hour.",
    "The airport operator welcomed the decision and said the tram would cut car traffic at the terminal "
    "by a third once the line opens to passengers.",
]
OTHER = [
    "The national football team won its qualifying match against the visitors by three goals to nil, "
    "with the striker scoring twice in the first half.",
    "The coach praised the defence after the match and said the squad would travel to the away fixture "
    "with confidence in the group stage.",
]


def _kept(result):
    return result.paragraphs


def test_headline_is_first_plausible_line_and_nav_crumbs_go():
    c = clean_text("Home\n\nNews\n" + HEADLINE + "\n" + "\n".join(LEAD))
    assert c.title == HEADLINE
    assert ("Home", "nav") in c.removed and ("News", "nav") in c.removed
    assert c.paragraphs == LEAD


def test_a_text_that_opens_with_body_text_has_no_nav_above_a_later_short_line():
    # Without a header the first short line among the first six ("The plan.")
    # was taken as the headline and the paragraphs above it dropped as nav;
    # how many paragraphs came first depended on how the text was wrapped.
    opening = " ".join(LEAD[:3])  # one paragraph of body text, over 40 words
    text = "\n".join([opening, LEAD[3], "The vote.", *OTHER[:1]])
    c = clean_text(text)
    assert not [line for line, why in c.removed if why == "nav"]
    assert opening in c.paragraphs and LEAD[3] in c.paragraphs
    assert c.title is None


def test_crumbs_above_a_headline_still_go_when_the_body_follows():
    c = clean_text("Home\nNews\n" + HEADLINE + "\n" + " ".join(LEAD[:3]) + "\n" + LEAD[3])
    assert c.title == HEADLINE
    assert [line for line, why in c.removed if why == "nav"] == ["Home", "News"]


def test_repeated_headline_is_dropped():
    c = clean_text(HEADLINE + "\n" + HEADLINE + "\n" + "\n".join(LEAD))
    assert c.paragraphs == LEAD
    assert (HEADLINE, "repeated") in c.removed


def test_given_headline_is_not_repeated_in_body():
    c = clean_text(HEADLINE + "\n" + "\n".join(LEAD), headline=HEADLINE)
    assert c.title == HEADLINE and c.paragraphs == LEAD


def test_separator_block_of_unrelated_bulletins_is_removed():
    text = "\n".join([HEADLINE, *LEAD, "Sport", "-", OTHER[0], "-", OTHER[1], "-",
                      "Heavy rain is expected across the north of the country over the weekend, "
                      "forecasters said, with flood warnings issued for several rivers."])
    c = clean_text(text)
    assert c.paragraphs == LEAD
    reasons = dict(c.removed)
    assert reasons[OTHER[0]] == "off_topic" and reasons["Sport"] == "off_topic"
    assert reasons["-"] == "separator"


def test_glued_run_in_the_middle_is_removed_but_single_aside_kept():
    glued = clean_text("\n".join([HEADLINE, LEAD[0], LEAD[1], *OTHER, LEAD[2], LEAD[3]]))
    assert glued.paragraphs == LEAD
    aside = "Local elections are due in May, and the mayor has said she will stand again."
    single = clean_text("\n".join([HEADLINE, LEAD[0], LEAD[1], aside, LEAD[2], LEAD[3]]))
    assert aside in single.paragraphs


def test_digest_label_with_bullets_is_removed_even_when_on_topic():
    items = ["⇒ " + p for p in LEAD[2:]]
    c = clean_text("\n".join([HEADLINE, LEAD[0], LEAD[1], "Other news", *items]))
    assert c.paragraphs == LEAD[:2]
    assert all(dict(c.removed)[i] == "digest" for i in items)


def test_generated_faq_removed_but_interview_qa_kept():
    qa = ["Q: Why did the council choose a tram?", "A: Trams carry more passengers per hour than buses do."]
    faq = clean_text("\n".join([HEADLINE, *LEAD, "FAQs", *qa]))
    assert faq.paragraphs == LEAD
    assert dict(faq.removed)["FAQs"] == "faq"
    interview = clean_text("\n".join([HEADLINE, *LEAD[:2], *qa, *LEAD[2:]]))
    assert qa[0] in interview.paragraphs and qa[1] in interview.paragraphs


def test_subheading_kept_caption_and_footer_removed():
    text = "\n".join([HEADLINE, LEAD[0], "Airport Link Details", LEAD[1],
                      "The mayor with airport director Jan Nowak", "Photographer",
                      "Concerns From Bus Operators", LEAD[2], LEAD[3],
                      "Anna Kowalska", "Reporter, cyclist and lover of old maps"])
    c = clean_text(text)
    assert "Airport Link Details" in c.paragraphs
    assert "Concerns From Bus Operators" in c.paragraphs
    assert "The mayor with airport director Jan Nowak" not in c.paragraphs
    assert "Anna Kowalska" not in c.paragraphs
    assert "Reporter, cyclist and lover of old maps" not in c.paragraphs
    assert [p for p in c.paragraphs if is_prose(p)] == LEAD


def test_boilerplate_lines():
    for line in ["Leave a Reply", "Related Articles", "Back to top button", "Source", "Contributor",
                 "Translation by Jane Doe", "Your email address will not be published. Required fields are marked *",
                 "Share this article", "You may also like", "READ MORE: Ferry timetable changes",
                 "Follow Jane Doe on Twitter for more", "© 2024 Example Media. All rights reserved.",
                 "Subscribe to our newsletter for the latest updates"]:
        assert is_boilerplate(line), line
    for line in ["Sources said the talks would resume next week.", "The contributor list was published on Monday.",
                 "Related talks were held in Geneva, officials said.", "Conclusion"]:
        assert not is_boilerplate(line), line


def test_coherence_scores_rank_glued_paragraphs_lowest():
    scores = coherence_scores(LEAD + OTHER, HEADLINE)
    assert max(scores[len(LEAD):]) < min(scores[: len(LEAD)])


def test_dateline_only_at_the_top_and_standalone():
    assert find_dateline(["Published 14 March 2023", "Body text follows here."]) == "14 March 2023"
    assert find_dateline(["October 28, 2024 — The council met."]) == "October 28, 2024"
    assert find_dateline(["— Jane Doe (@jane) posted about the council meeting on October 28, 2024 after it ended"]) is None


def test_near_title():
    assert near_title("City council approves tram line to airport", HEADLINE)
    assert not near_title(LEAD[0], HEADLINE)


def test_clean_paragraphs_without_dedupe_keeps_repeated_lines():
    lines = ["Eat every two hours.", LEAD[0], "Eat every two hours."]
    assert clean_paragraphs(lines, HEADLINE, dedupe=False, topical=False).paragraphs == lines


def test_empty_and_garbage_text():
    assert clean_text("").paragraphs == []
    c = clean_text("\x00\x01 ### --- \n\n ***")
    assert c.paragraphs == []


# A German story (written for these tests): the English rules take two of its
# paragraphs for another story (their content words are all "new" to English
# stop-word lists and stems) and would delete them.
DE_HEADLINE = "Amazon verfehlt die Umsatzprognosen"
DE_PARAGRAPHS = [
    "Der Onlinehändler Amazon hat im dritten Quartal weniger umgesetzt, als Analysten erwartet hatten.",
    "Die Aktie fiel nachbörslich um acht Prozent, nachdem der Konzern seine Zahlen vorgelegt hatte.",
    ("Als Grund nannte der Konzern die schwächere Nachfrage im Cloud-Geschäft und höhere Kosten für "
     "die Logistik."),
    "Neue Möglichkeiten im Werbegeschäft",
    ("Für das Weihnachtsgeschäft zeigte sich die Konzernführung dennoch zuversichtlich und verwies auf "
     "das wachsende Werbegeschäft."),
    "Finanzchef Brian Olsavsky sagte in einer Telefonkonferenz, man sehe erste Anzeichen einer Erholung.",
    ("Händler und Lieferanten rechnen mit einem starken Jahresende, auch wegen der Rabattaktionen im "
     "November."),
]


def test_german_text_keeps_its_paragraphs_and_only_language_neutral_rules_run():
    text = "\n".join([DE_HEADLINE, DE_HEADLINE, *DE_PARAGRAPHS, "* * *", "© 2026 Beispielverlag"])
    c = clean_text(text, language="de")
    assert c.title == DE_HEADLINE
    assert c.paragraphs == DE_PARAGRAPHS
    assert c.removed == [(DE_HEADLINE, "repeated"), ("* * *", "separator"),
                         ("© 2026 Beispielverlag", "boilerplate")]


def test_rules_judging_english_words_run_only_on_english_or_unknown_text():
    lines = [*LEAD, "Anna Kowalska", "Leave a Reply"]
    for language in ("en", "und", None):
        assert clean_paragraphs(lines, HEADLINE, language=language).paragraphs == LEAD
    # Another language: no footer judged by English function words, but
    # English labels from the publishing software still go.
    other = clean_paragraphs(lines, HEADLINE, language="id")
    assert other.paragraphs == [*LEAD, "Anna Kowalska"]
    assert other.removed == [("Leave a Reply", "boilerplate")]


def test_chinese_and_japanese_lines_are_deduplicated_across_punctuation():
    zh = ["国家统计局周二公布的数据显示，新能源汽车产量同比增长三成。", "国家统计局周二公布的数据显示新能源汽车产量同比增长三成",
          "业内人士认为，充电设施的普及是主要原因。", "———"]
    c = clean_paragraphs(zh, "新能源汽车销量创新高", language="zh")
    assert c.paragraphs == [zh[0], zh[2]]
    assert c.removed == [(zh[1], "repeated"), (zh[3], "separator")]
