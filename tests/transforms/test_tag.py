"""Tests for transforms.tag: plain functions first, then the Beam composite."""

from __future__ import annotations

import logging

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import Article
from newsbeam.transforms import tag
from newsbeam.transforms.entities import extract_entities
from newsbeam.transforms.spacy_model import load_model, model_languages
from newsbeam.transforms.tag import TagArticles, article_text, tag_article
from newsbeam.transforms.themes import UNCLASSIFIED, ThemeScorer
from tests import SEED_FILES, records
from tests.transforms.tag_examples import SHORT_ITEMS, THEME_EXAMPLES
from tests.transforms.test_clean_text import DE_HEADLINE, DE_PARAGRAPHS

IPTC_SLUGS = {
    "arts-culture-entertainment-media", "conflict-war-peace", "crime-law-justice",
    "disaster-accident-emergency", "economy-business-finance", "education", "environment",
    "health", "human-interest", "labour", "lifestyle-leisure", "politics", "religion",
    "science-technology", "society", "sport", "weather",
}


@pytest.fixture(scope="module")
def nlp():
    return load_model("auto")


@pytest.fixture(scope="module")
def scorer():
    return ThemeScorer.from_file()


def themes_of(nlp, scorer, title, body):
    doc = nlp(f"{title}\n\n{body}")
    return scorer.select(scorer.score(doc, len(title)))


def make_article(article_id: str, title: str, text: str, language: str = "en") -> Article:
    return records.article(article_id, url=f"file:///{article_id}.txt", source=f"{article_id}.txt",
                           title=title, text=text, ingested_at=1_700_000_000_000_000, language=language)


# --------------------------------------------------------------------------- lexicon


def test_packaged_lexicon_covers_the_17_iptc_themes(scorer):
    assert set(scorer.slugs) == IPTC_SLUGS


@pytest.mark.parametrize("slug", sorted(THEME_EXAMPLES))
def test_every_theme_is_reachable_on_realistic_text(nlp, scorer, slug):
    title, body = THEME_EXAMPLES[slug]
    assert themes_of(nlp, scorer, title, body)[0] == slug


@pytest.mark.parametrize("title,body,expected", SHORT_ITEMS)
def test_short_feed_items_get_a_theme(nlp, scorer, title, body, expected):
    assert themes_of(nlp, scorer, title, body)[0] == expected


def test_multi_label_story_gets_both_themes(nlp, scorer):
    themes = themes_of(
        nlp, scorer, "Sanctions on arms sales hit defence company's profits",
        "The government imposed sanctions on weapons exports after the invasion. The defence company said "
        "quarterly profits fell 30% and its shares dropped, as troops and missiles remain in demand at the front.",
    )
    assert {"conflict-war-peace", "economy-business-finance"} <= set(themes)


def test_nothing_fits_is_unclassified(scorer):
    assert scorer.select(scorer.score("Lorem ipsum dolor sit amet.")) == [UNCLASSIFIED]
    assert scorer.shares([]) == []


def test_phrases_win_over_their_words(scorer):
    # "labour market" is labour; "Labour" alone (the UK party) is politics.
    assert [s for s, _ in scorer.score("the labour market")][0] == "labour"
    assert [s for s, _ in scorer.score("Labour")][0] == "politics"
    # Neutral phrases do not count at all.
    assert scorer.score("at a press conference") == []


def test_headline_counts_more_than_body(scorer):
    text = "Election\n\nelection"
    with_title = dict(scorer.score(text, title_chars=len("Election")))["politics"]
    without = dict(scorer.score(text))["politics"]
    assert with_title > without


def test_repeated_word_is_sublinear(scorer):
    one = dict(scorer.score("goal"))["sport"]
    ten = dict(scorer.score(" ".join(["goal"] * 10)))["sport"]
    assert one < ten < 3 * one


def test_lemmas_match_inflected_forms(nlp, scorer):
    assert "conflict-war-peace" in dict(scorer.score(nlp("Soldiers were shelling the villages")))


def test_shares_are_float32_and_sum_to_one(scorer):
    shares = scorer.shares(scorer.score("Troops shelled the city as the stock market fell"))
    assert all(isinstance(s.score, np.float32) for s in shares)
    assert abs(sum(float(s.score) for s in shares) - 1.0) < 1e-3
    assert [s.theme for s in shares][0] in {"conflict-war-peace", "economy-business-finance"}


def test_max_themes_and_min_score_overrides(scorer):
    text = "War troops election parliament stocks shares football match"
    assert len(ThemeScorer.from_file(max_themes=1).select(scorer.score(text))) == 1
    assert ThemeScorer.from_file(min_score=1000).select(scorer.score(text)) == [UNCLASSIFIED]


def test_user_lexicon_adds_a_theme_without_code(tmp_path, scorer):
    path = tmp_path / "themes.toml"
    path.write_text(
        '[themes.space-mining]\nlabel = "space mining"\n'
        '[[themes.space-mining.topics]]\nlabel = "asteroids"\n'
        'strong = ["asteroid mining", "regolith"]\nentities = ["AstroForge"]\n'
    )
    custom = ThemeScorer.from_file(str(path))
    assert custom.select(custom.score("AstroForge plans asteroid mining of regolith")) == ["space-mining"]
    assert custom.explain("regolith samples") == {"space-mining": ["regolith"]}


def test_empty_lexicon_is_rejected(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("[scoring]\nmin_score = 1\n")
    with pytest.raises(ValueError, match="no \\[themes"):
        ThemeScorer.from_file(str(path))


def _seed(path):
    lines = [line for line in open(path, encoding="utf-8").read().splitlines() if line.strip()]
    return lines[0], "\n\n".join(lines[1:])


@pytest.mark.parametrize("path", SEED_FILES)
def test_seeds_are_war_stories(nlp, scorer, path):
    # Uncleaned seeds: boilerplate and the COP29 sidebar must not change the verdict.
    title, body = _seed(path)
    themes = themes_of(nlp, scorer, title, body)
    assert "conflict-war-peace" in themes
    assert themes[0] in ("conflict-war-peace", "politics")
    assert "environment" not in themes


def test_seed_count_is_five():
    assert len(SEED_FILES) == 5


def test_short_climate_sidebar_does_not_make_war_story_environment(nlp, scorer):
    title = "Troops massed on the border as shelling intensifies"
    body = (
        "Artillery fire hit the city overnight and the army said soldiers repelled an offensive. "
        "Defence officials said more missiles were being deployed to the front line.\n\n"
        "COP29: Climate talks in Baku open with calls to cut emissions."
    )
    assert themes_of(nlp, scorer, title, body)[0] == "conflict-war-peace"


# --------------------------------------------------------------------------- entities


def test_entities_merge_surname_and_drop_headline_fragments(nlp):
    title = "U.S. Confirms: North Korean Troops Are In Russia, Possibly To Help Fight Ukraine"
    body = (
        "The Pentagon chief Lloyd Austin said it remains to be seen what the troops are doing in Russia. "
        "Austin added that North Korean soldiers were training in eastern Russia. "
        "Austin spoke to reporters in Washington."
    )
    ents = extract_entities(nlp(f"{title}\n\n{body}"), len(title))
    by_text = {e.text: e for e in ents}
    assert "Lloyd Austin" in by_text and by_text["Lloyd Austin"].label == "PERSON"
    assert "Austin" not in by_text
    assert int(by_text["Lloyd Austin"].count) >= 2
    assert all(isinstance(e.count, np.int32) for e in ents)
    assert not any("Possibly" in e.text or "Fight" in e.text for e in ents)
    # The headline mention of Russia counts: the body names it too.
    assert by_text["Russia"].label == "GPE" and int(by_text["Russia"].count) == 3
    assert [int(e.count) for e in ents] == sorted((int(e.count) for e in ents), reverse=True)


def test_entities_join_a_name_split_at_its_particle(nlp):
    doc = nlp("In a statement, the President of the European Commission, Ursula von der "
              "Leyen, called the deployment a serious escalation of the war.")
    entities = {(e.text, e.label) for e in extract_entities(doc)}
    assert ("Ursula von der Leyen", "PERSON") in entities
    assert not any(text in ("Leyen", "Ursula von der") for text, _ in entities)


def test_entities_keep_labels_of_interest_only(nlp):
    doc = nlp("Angela Merkel met NATO officials in Berlin on Monday and spent 5 million euros.")
    ents = extract_entities(doc)
    labels = {e.text: e.label for e in ents}
    assert labels.get("Angela Merkel") == "PERSON"
    assert labels.get("NATO") == "ORG"
    assert labels.get("Berlin") == "GPE"
    assert not {"DATE", "MONEY", "CARDINAL"} & set(labels.values())


def test_lone_surname_stays_separate_when_ambiguous(nlp):
    doc = nlp("John Smith and Mary Smith met the press. Smith said nothing.")
    texts = {e.text for e in extract_entities(doc)}
    assert "John Smith" in texts and "Mary Smith" in texts


# --------------------------------------------------------------------------- model loading


def test_auto_model_falls_back_to_blank_with_warning(monkeypatch, caplog):
    import spacy

    def missing(name, **kwargs):
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr(spacy, "load", missing)
    with caplog.at_level(logging.WARNING, logger="newsbeam.transforms.tag"):
        nlp = load_model("auto")
    assert nlp.pipe_names == []
    assert "rule-only" in caplog.text
    # Themes still work on word forms without a lemmatizer.
    scorer = ThemeScorer.from_file()
    doc = nlp("Striker scores twice as champions win the cup final")
    assert scorer.select(scorer.score(doc))[0] == "sport"
    assert extract_entities(doc) == []


def test_named_model_must_exist():
    with pytest.raises(OSError):
        load_model("no_such_model_xx")


def test_unused_components_are_not_loaded(nlp):
    assert "parser" not in nlp.pipe_names
    assert {"ner", "lemmatizer"} <= set(nlp.pipe_names)


def test_article_text_truncates_body_and_reports_title_length():
    text, n = article_text(make_article("a", "Headline", "x" * 50), max_chars=10)
    assert text == "Headline\n\n" + "x" * 10 and n == len("Headline")
    assert article_text(make_article("b", "", "body"))[0] == "body"


# --------------------------------------------------------------------------- Beam


def _summary(a: Article):
    return (a.article_id, tuple(a.themes), a.theme_scores[0].theme if a.theme_scores else None,
            any(e.text == "Lloyd Austin" for e in a.entities))


def test_tag_articles_pipeline():
    war_title = "Pentagon confirms troops deployed"
    war = make_article("war", war_title, "Defense Secretary Lloyd Austin said the troops and missiles were deployed "
                       "to the front line as the war escalated. Austin warned of a serious escalation.")
    sport_title, sport_body = THEME_EXAMPLES["sport"]
    empty = make_article("empty", "", "Lorem ipsum dolor sit amet.")
    with TestPipeline() as p:
        out = p | beam.Create([war, make_article("sport", sport_title, sport_body), empty]) | TagArticles(batch_size=2)
        assert_that(
            out["articles"] | "Summarise" >> beam.Map(_summary),
            equal_to([
                ("war", ("conflict-war-peace",), "conflict-war-peace", True),
                ("sport", ("sport",), "sport", False),
                ("empty", (UNCLASSIFIED,), None, False),
            ]),
            label="Articles",
        )
        assert_that(out["errors"], equal_to([]), label="NoErrors")


class _FlakyNlp:
    """Stands in for a spaCy pipeline that fails on one text."""

    lang = "en"

    def __init__(self):
        import spacy

        self._nlp = spacy.blank("en")

    def _check(self, text):
        if "EXPLODE" in text:
            raise ValueError("cannot parse")

    def pipe(self, texts, batch_size=1):
        texts = list(texts)
        for t in texts:
            self._check(t)
        return self._nlp.pipe(texts)

    def __call__(self, text):
        self._check(text)
        return self._nlp(text)


def test_nlp_failure_becomes_error_record_not_loss(monkeypatch):
    monkeypatch.setattr(tag, "load_model", lambda model: _FlakyNlp())
    good = make_article("good", "Striker scores in cup final", "The team won the match.")
    bad = make_article("bad", "EXPLODE", "text")
    with TestPipeline() as p:
        out = p | beam.Create([good, bad]) | TagArticles(batch_size=2)
        assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.themes[0])),
                    equal_to([("good", "sport")]), label="Kept")
        assert_that(out["errors"] | beam.Map(lambda e: (e.source, e.stage, e.error, e.detail.split(":")[0])),
                    equal_to([("bad.txt", "tag", "nlp_error", "bad")]), label="Errors")


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError):
        TagArticles(batch_size=0)


# --------------------------------------------------------------------------- languages

GERMAN = make_article("de", DE_HEADLINE, "\n\n".join(DE_PARAGRAPHS), language="de")
CHINESE = make_article("zh", "新能源汽车销量创新高",
                       "国家统计局周二公布的数据显示，今年前十个月全国新能源汽车产量同比增长三成以上。", language="zh")


def test_article_in_a_language_the_model_and_lexicon_do_not_cover_is_not_tagged(nlp, scorer):
    # The English model and lexicon on German: "Umsatzprognosen"/PERSON, and the
    # article "die" read as the English verb made it a disaster story.
    text, title_chars = article_text(GERMAN)
    tagged = tag_article(GERMAN, nlp(text), title_chars, scorer, model_languages(nlp))
    assert (tagged.themes, tagged.theme_scores, tagged.entities) == ([UNCLASSIFIED], [], [])
    # Nothing to analyse: no doc is needed.
    assert tag_article(CHINESE, None, 0, scorer, ("en",)).themes == [UNCLASSIFIED]


def test_a_lexicon_or_model_for_the_language_tags_it(tmp_path, nlp, scorer):
    path = tmp_path / "de.toml"
    path.write_text('languages = ["de"]\n[themes.wirtschaft]\nlabel = "Wirtschaft"\n'
                    '[[themes.wirtschaft.topics]]\nlabel = "Handel"\nstrong = ["umsatz", "aktie"]\n')
    german = ThemeScorer.from_file(str(path))
    assert german.languages == ("de",) and scorer.languages == ("en",)
    text, title_chars = article_text(GERMAN)
    doc = nlp(text)
    assert tag_article(GERMAN, doc, title_chars, german, ("en",)).themes == ["wirtschaft"]
    # A multilingual model ("xx") is asked for entities in any language.
    assert tag_article(GERMAN, doc, title_chars, scorer, ("xx",)).entities != []


def test_tag_articles_leaves_other_languages_unclassified_and_english_unchanged(nlp, scorer):
    war_title = "Pentagon confirms troops deployed"
    war = make_article("war", war_title, "Defense Secretary Lloyd Austin said the troops and missiles were deployed "
                       "to the front line as the war escalated. Austin warned of a serious escalation.")
    text, title_chars = article_text(war)
    war_alone = war._replace(themes=scorer.select(scorer.score(nlp(text), title_chars)),
                             theme_scores=scorer.shares(scorer.score(nlp(text), title_chars)),
                             entities=extract_entities(nlp(text), title_chars))
    assert war_alone.themes == ["conflict-war-peace"] and war_alone.entities
    with TestPipeline() as p:
        out = p | beam.Create([war, GERMAN, CHINESE]) | TagArticles(batch_size=3)
        assert_that(out["articles"], equal_to([
            war_alone,
            GERMAN._replace(themes=[UNCLASSIFIED]),
            CHINESE._replace(themes=[UNCLASSIFIED]),
        ]), label="Articles")
        assert_that(out["errors"], equal_to([]), label="NoErrors")
