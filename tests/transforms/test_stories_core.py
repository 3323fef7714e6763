"""Story ids (transforms/stories_core.py) on small synthetic articles."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbeam.transforms import stories_core as sc

DAY = sc.DAY
T0 = 1_700_000_000 * 1_000_000  # a fixed start, in microseconds


def art(article_id: str, day: float, source: str, title: str, text: str, ents=()) -> sc.ArticleFeatures:
    return sc.ArticleFeatures(article_id, T0 + int(day * DAY), source, title, text,
                              [(e, "GPE", 1) for e in ents], ["disaster-accident-emergency"])


QUAKE_A1 = art("qa1", 0, "herald.example", "Magnitude 6.4 earthquake strikes Valdoria, 32 dead",
               "A magnitude 6.4 earthquake struck the Valdoria province early on Tuesday, killing 32 people "
               "in the mountain town of Brenzic and collapsing the old Brenzic bridge. Rescue teams searched "
               "the rubble of the Brenzic market through the night.", ["Valdoria", "Brenzic"])
QUAKE_A2 = art("qa2", 0.3, "courier.example", "Brenzic earthquake: death toll rises to 32",
               "Rescuers in Brenzic pulled survivors from the market rubble after Tuesday's 6.4 magnitude "
               "earthquake in Valdoria province. Officials said 32 people died and the Brenzic bridge fell.",
               ["Brenzic", "Valdoria"])
QUAKE_A3 = art("qa3", 1.5, "wire.example", "Valdoria quake survivors camp outside Brenzic",
               "A day after the 6.4 magnitude earthquake killed 32 in Brenzic, survivors camped outside the "
               "town as aftershocks rattled Valdoria province and the Brenzic market stayed closed.",
               ["Valdoria", "Brenzic"])
# The same kind of event in the same province, months later: another town, toll and magnitude.
QUAKE_B = art("qb1", 150, "herald.example", "Magnitude 5.8 earthquake hits Valdoria, 7 dead",
              "A magnitude 5.8 earthquake hit the Valdoria province on Sunday, killing 7 people in the "
              "coastal village of Ostrel, where a school and the harbour wall collapsed.", ["Valdoria", "Ostrel"])
ARREST_1 = art("ar1", 0.5, "herald.example", "Police arrest Tomas Kerel over Lindmark bank fraud",
               "Police arrested Tomas Kerel, a former Lindmark Bank manager, on suspicion of a 4 million "
               "fraud against pensioners in Harwick.", ["Tomas Kerel", "Lindmark Bank", "Harwick"])
ARREST_2 = art("ar2", 0.7, "courier.example", "Police arrest Mira Sollen over Castell charity fraud",
               "Police arrested Mira Sollen, treasurer of the Castell Trust charity, on suspicion of a "
               "90,000 fraud against donors in Pelham.", ["Mira Sollen", "Castell Trust", "Pelham"])
ARREST_1B = art("ar1b", 1.0, "wire.example", "Ex-Lindmark manager Kerel held in Harwick pension fraud",
                "Tomas Kerel, who managed the Lindmark Bank branch in Harwick, is held by police over the "
                "4 million pension fraud, prosecutors said.", ["Tomas Kerel", "Lindmark Bank", "Harwick"])

ALL = [QUAKE_A1, QUAKE_A2, QUAKE_A3, QUAKE_B, ARREST_1, ARREST_2, ARREST_1B]


def through_tables(index: sc.StoryIndex) -> sc.StoryIndex:
    """The index as the next run reads it: ``stories/`` and ``_story_terms/`` as Arrow tables."""
    from newsbeam.schemas import Story, from_table, to_table
    from newsbeam.transforms.stories import Frequencies, index_of, rows_of

    stories, freq = rows_of(index)
    return index_of(from_table(Story, to_table(Story, stories)), index.config,
                    Frequencies.from_rows(freq.rows(), index.config.df_bits))


def run(articles, index=None):
    index = index or sc.StoryIndex()
    ids, merges = sc.assign_all(articles, index)
    return ids, merges, index


def test_outlets_reporting_one_event_share_the_first_articles_id():
    ids, _, _ = run(ALL)
    assert ids["qa1"] == ids["qa2"] == ids["qa3"] == "qa1"
    assert ids["ar1"] == ids["ar1b"] == "ar1"


def test_look_alike_events_get_stories_of_their_own():
    ids, _, _ = run(ALL)
    assert ids["qb1"] == "qb1"
    assert ids["ar2"] == "ar2"  # same day, same words, other names


def test_look_alike_event_months_later_is_never_compared():
    index = sc.StoryIndex()
    run([QUAKE_A1, QUAKE_A2], index)
    v = index.vectors(QUAKE_B)
    assert index.candidates(QUAKE_B.when, index.blocking_keys(v.terms, v.entities)) == []
    assert sc.assign(QUAKE_B, index) == ("qb1", [])


def test_order_of_arrival_within_one_timestamp_does_not_matter():
    same_time = [a._replace(when=T0) for a in (QUAKE_A1, QUAKE_A2, ARREST_1, ARREST_2, ARREST_1B)]
    results = {tuple(sorted(run(list(p))[0].items())) for p in itertools.permutations(same_time)}
    assert len(results) == 1


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(5)), st.permutations(range(5)))
def test_grouping_depends_on_what_articles_say_not_on_their_ids_or_order(names, order):
    # Ids hash the input's path: the same files read from another folder get other ids,
    # and pages that give only a date share one time.
    same_time = [a._replace(when=T0) for a in (QUAKE_A1, QUAKE_A2, ARREST_1, ARREST_2, ARREST_1B)]
    renamed = [same_time[i]._replace(article_id=f"id-{names[i]}") for i in order]

    def groups(articles):
        ids, _, _ = run(articles)
        by_story: dict = {}
        for a in articles:
            by_story.setdefault(ids[a.article_id], set()).add(a.title)
        return sorted(map(sorted, by_story.values()))

    assert groups(renamed) == groups(same_time)


def test_story_ids_written_in_a_first_run_never_change():
    first, later = [QUAKE_A2, ARREST_2], [QUAKE_A1, QUAKE_A3, ARREST_1, ARREST_1B, QUAKE_B]
    ids1, _, index = run(first)
    ids2, _, _ = run(later, through_tables(index))
    # An earlier report of a story begun in run 1 joins it under run 1's id.
    assert ids2["qa1"] == ids2["qa3"] == ids1["qa2"] == "qa2"
    assert ids2["ar1"] != ids1["ar2"]


def test_runs_split_in_time_give_the_same_ids_as_one_run():
    one, _, _ = run(ALL)
    ordered = sorted(ALL, key=sc.story_order)
    ids1, _, index = run(ordered[:3])
    ids2, _, _ = run(ordered[3:], through_tables(index))  # the state survives its table form
    assert {**ids1, **ids2} == one


def test_an_article_joining_two_stories_records_a_merge_and_rewrites_nothing():
    config = sc.StoryConfig(threshold=0.3)
    a = art("m1", 0, "x.example", "Dam at Korvel fails", "The Korvel dam failed after heavy rain, "
            "flooding the Korvel valley farms.", ["Korvel"])
    b = art("m2", 0.1, "y.example", "Floods cut Senna railway", "Floodwater cut the Senna railway line "
            "and stranded trains near Senna station.", ["Senna"])
    bridge = art("m3", 0.5, "z.example", "Korvel dam failure floods Senna railway",
                 "The Korvel dam failure sent floodwater down the Korvel valley, cutting the Senna railway "
                 "and stranding trains near Senna station.", ["Korvel", "Senna"])
    ids, merges, index = run([a, b, bridge], sc.StoryIndex(config))
    assert (ids["m1"], ids["m2"]) == ("m1", "m2")
    assert merges == [sc.Merge("m2", "m1", bridge.when, "m3")]
    assert ids["m3"] == "m1" and sc.resolve("m2", merges) == "m1"
    assert index.stories["m2"].merged_into == "m1"


def test_index_stays_bounded_by_the_window():
    def word(n: int) -> str:  # a made-up word per number: events share no vocabulary
        letters = "bcdfghklmnprstvz"
        return "".join(letters[int(d, 16)] + "a" for d in f"{n:04x}")

    index, sizes, ids = sc.StoryIndex(sc.StoryConfig(window_days=3)), [], set()
    for day in range(60):
        for k in range(3):  # three unrelated events a day, each reported twice
            words = " ".join(word(day * 30 + k * 10 + j) for j in range(5))
            for outlet in ("a.example", "b.example"):
                ids.add(sc.assign(art(f"{day}-{k}-{outlet}", day + 0.1 * k, outlet, words, words), index)[0])
        index.expire(T0 + (day + 1) * DAY)
        sizes.append(len(index.stories))
    assert len(ids) == 60 * 3  # the two reports of each event share a story
    # Only stories an article within the window of now could still join stay loaded.
    assert max(sizes) == sizes[-1] == 3 * 3  # three a day, days d-2..d after expiring at d+1


def test_assign_is_deterministic_across_fresh_indexes():
    assert run(ALL)[0] == run(list(reversed(ALL)))[0]


@pytest.mark.parametrize("article", [art("e1", 0, "", "", ""), art("e2", 0, "s", "Only a title", "")])
def test_articles_without_words_get_a_story_of_their_own(article):
    ids, _, _ = run([article, article._replace(article_id="e3")])
    assert ids[article.article_id] == article.article_id
