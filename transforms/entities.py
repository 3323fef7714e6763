"""Named entities from a spaCy doc: PERSON, ORG, GPE, ... merged across
mentions with counts, without the fragments and junk a small model tags
(Title-Case headline pieces, names split at a particle)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterator

import numpy as np

from newsbeam.schemas import Entity

ENTITY_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC", "PRODUCT", "WORK_OF_ART", "LAW"}
)


# Capitalised function words that real names rarely contain mid-name; their
# presence marks a Title-Case headline fragment ("Possibly To Help Fight Ukraine").
_FRAGMENT_WORDS = frozenset(
    "to is are was were be been has have had will would can could may might should "
    "in on at by from with as into over after before about says said amid possibly "
    "confirms warns".split()
)


def _clean_entity_text(text: str) -> str:
    text = " ".join(text.split())
    for prefix in ("the ", "The "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("'s", "’s", "'", "’"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.strip(" \t-–—,.;:\"'“”‘’()[]")


def _is_title_case(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha()]
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper())
    return caps / len(words) >= 0.7


def _is_junk(span, text: str) -> bool:
    if len(text) < 2 or not any(c.isalpha() for c in text):
        return True
    if "\n" in span.text.strip():
        return True
    words = text.split()
    if len(words) > 6:
        return True
    for w in words[1:]:
        if w.lower() in _FRAGMENT_WORDS and w[0].isupper():
            return True
    if words[0].lower() in _FRAGMENT_WORDS:
        return True
    # All-lowercase "entities" are tagger noise, not names.
    return text == text.lower()


# Lower-case name particles: spaCy's small model tends to end a PERSON at the
# particle and label the rest separately ("Ursula von der" + "Leyen" as GPE).
_NAME_PARTICLES = frozenset("von van der den de da di du del della dos le la bin ibn al".split())


def _joined_names(ents) -> Iterator[tuple[Any, str]]:
    """(span, label) pairs, a PERSON ending in a name particle joined to the next entity."""
    ents = list(ents)
    i = 0
    while i < len(ents):
        ent = ents[i]
        nxt = ents[i + 1] if i + 1 < len(ents) else None
        if (ent.label_ == "PERSON" and nxt is not None and nxt.start == ent.end
                and ent[-1].text in _NAME_PARTICLES):
            yield ent.doc[ent.start:nxt.end], "PERSON"
            i += 2
            continue
        yield ent, ent.label_
        i += 1


def extract_entities(doc, title_chars: int = 0, limit: int = 50) -> list[Entity]:
    """Named entities of ``doc`` with mention counts, best first.

    Mentions are merged when safe: the same text under one label (the most
    frequent one), and a one-word PERSON mention into the unique longer PERSON
    name that ends or starts with it ("Austin" into "Lloyd Austin"; also a
    one-word ORG, which is how spaCy often mislabels a surname). Headline
    entities are kept only when the headline is not Title Case or the body names
    them too, which drops fragments like "Possibly To Help Fight Ukraine".
    """
    title_case = title_chars > 0 and _is_title_case(doc.text[:title_chars])
    mentions: list[tuple[str, str, bool]] = []
    for ent, label in _joined_names(doc.ents):
        if label not in ENTITY_LABELS:
            continue
        text = _clean_entity_text(ent.text)
        if _is_junk(ent, text):
            continue
        mentions.append((text, label, ent.start_char < title_chars))
    body_texts = {t.lower() for t, _, in_title in mentions if not in_title}
    labels: dict[str, Counter] = defaultdict(Counter)
    surface: dict[str, Counter] = defaultdict(Counter)
    for text, label, in_title in mentions:
        if in_title and title_case and text.lower() not in body_texts:
            continue
        key = text.lower()
        labels[key][label] += 1
        surface[key][text] += 1
    merged: dict[str, list] = {}
    for key, lab in labels.items():
        label = lab.most_common(1)[0][0]
        text = surface[key].most_common(1)[0][0]
        merged[key] = [text, label, sum(lab.values())]
    persons = [k for k, v in merged.items() if v[1] == "PERSON" and len(k.split()) > 1]
    # A lone surname is often mislabelled ORG ("Trump"); GPE/LOC are not merged
    # because places share names with people ("Washington").
    for key in [k for k, v in merged.items() if v[1] in ("PERSON", "ORG") and len(k.split()) == 1]:
        owners = [p for p in persons if key in (p.split()[0], p.split()[-1])]
        if len(owners) == 1:
            merged[owners[0]][2] += merged.pop(key)[2]
    ents = sorted(merged.values(), key=lambda v: (-v[2], v[0]))[:limit]
    return [Entity(text, label, np.int32(count)) for text, label, count in ents]
