"""Plain-function tests of the off-topic segment rule and the data-line shape rule (no Beam)."""

import pytest

from newsbeam.transforms.clean_text import clean_text, is_data
from newsbeam.transforms.coherence import off_topic_segments

HEADLINE = "Harbour authority approves deep-water berth for Northport container ships"
STORY = [
    "The Northport harbour authority on Tuesday approved plans for a deep-water berth that will let "
    "the largest container ships dock at the port for the first time.",
    "The berth, to be dredged to a depth of eighteen metres, will cost the port authority about "
    "£240m and is due to open in 2027, harbour master Elin Vasquez said.",
    "Shipping lines have bypassed Northport for a decade because its channel is too shallow for "
    "modern container vessels, sending cargo instead to rival ports further south.",
    "Vasquez said the new berth would double the number of containers the harbour can handle and "
    "create around 600 jobs on the quayside and in the logistics yards behind it.",
    "Environmental groups objected that dredging the channel would disturb seagrass beds in the "
    "estuary, and the authority agreed to fund a replanting scheme as a condition of the approval.",
    "Dockworkers' union leader Tomas Reilly welcomed the decision, saying the harbour had been "
    "losing container traffic and jobs to its competitors for years.",
]
GLUED = [
    "The orchestra's new conductor opened the season with a performance of Mahler's fifth symphony "
    "that drew a standing ovation from a sold-out concert hall.",
    "Critics praised the brass section and the slow fourth movement, which the conductor took at a "
    "daringly unhurried tempo, letting the strings linger over every phrase.",
    "The orchestra will tour the symphony to three festivals this summer before recording it for "
    "release on its own label next spring.",
]


def _text(paragraphs):
    return "\n".join([HEADLINE, *paragraphs])


@pytest.mark.parametrize("at", [0, 3, len(STORY)], ids=["start", "middle", "end"])
def test_glued_unrelated_block_is_removed_wherever_it_sits(at):
    mixed = STORY[:at] + GLUED + STORY[at:]
    c = clean_text(_text(mixed))
    assert c.paragraphs == STORY
    assert all(dict(c.removed)[g] == "off_topic" for g in GLUED)


def test_segments_are_reported_as_index_ranges():
    mixed = STORY[:3] + GLUED + STORY[3:]
    assert off_topic_segments(mixed, HEADLINE) == [(3, 3 + len(GLUED))]


def test_story_without_glue_has_no_segment():
    assert off_topic_segments(STORY, HEADLINE) == []


def test_story_with_subheaded_sections_keeps_every_section():
    sections = [
        STORY[0], STORY[1],
        "Why the channel matters",
        STORY[2], STORY[3],
        "Seagrass and the estuary",
        STORY[4],
        "The estuary's seagrass meadows shelter juvenile fish and wading birds, and marine biologists "
        "at the university have mapped them every spring since the Northport channel was last dredged.",
        "Jobs on the quayside",
        STORY[5],
        "Reilly said union members would seek training in handling the larger cranes the berth needs, "
        "and that the harbour authority had promised to recruit locally first.",
    ]
    c = clean_text(_text(sections))
    assert c.paragraphs == sections
    assert off_topic_segments([p for p in sections if len(p.split()) >= 8], HEADLINE) == []


def test_single_aside_inside_the_story_is_kept():
    aside = "Local elections are due in May, and the mayor has said she will stand again."
    mixed = STORY[:3] + [aside] + STORY[3:]
    assert aside in clean_text(_text(mixed)).paragraphs


def test_data_lines_inside_a_report_are_kept():
    lineup = [
        "Northport: Hale; Okafor, Brandt, Lindqvist, Moreau; Castillo (capt), Ferreira; Novak, Duarte.",
        "Replacements: Ibsen, Clarke, Mensah, Ortiz, Kowalczyk.",
        "Attendance: 12,480",
    ]
    match = [
        "Northport came from behind to beat Eastfield 3-1 at the harbour stadium on Saturday, with "
        "captain Ana Castillo scoring twice in the second half.",
        "Eastfield led at the break through a header from their centre-back, but Northport pressed "
        "high after the interval and equalised within five minutes.",
        "Castillo's second goal, a low shot from the edge of the area, settled the match before "
        "substitute Ibsen added a third in stoppage time.",
        "The win lifts Northport to third in the table, two points behind the leaders, with a home "
        "match against the champions next weekend.",
    ]
    c = clean_text("\n".join(["Northport beat Eastfield to climb to third", *match, *lineup]))
    assert c.paragraphs == match + lineup


def test_is_data():
    assert is_data("Holland 14, Bartlett 80.")
    assert is_data("Hale; Okafor, Brandt, Lindqvist, Moreau")
    assert is_data("Northport v Eastfield")
    assert not is_data("Putin with UAE President Mohamed bin Zayed Al Nahyan")
    assert not is_data("The berth will open in 2027, the harbour master said.")
