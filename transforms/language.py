"""Which language a text is in, and which language-specific rules may run on it.

The clean stage detects the language twice: of the raw text, to choose the
line rules (the prose, shape and coherence rules judge lines by English words
and delete text of other languages), and of the cleaned body, for the
article's ``language`` column. The tag stage asks the same module whether its
spaCy model and theme lexicon cover an article's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from newsbeam.transforms.text import has_words

UNDETERMINED = "und"

# Languages the line rules that judge English words (the function-word prose
# test of transforms.boilerplate, the stems of transforms.coherence, the shape
# rules of transforms.clean_text) are written for. Undetermined text (too
# little to tell) keeps every rule, as before languages were told apart.
_ENGLISH_RULES = frozenset({"en", UNDETERMINED})


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` (py3langid), "und" when there is too little text."""
    if not has_words(text, 5):
        return UNDETERMINED
    import py3langid

    lang, _ = py3langid.classify(text[:1500])
    return lang or UNDETERMINED


def english_rules_apply(language: str | None) -> bool:
    """Whether the rules that judge English words may run on text in ``language``
    (None: not known, so they run as they always did)."""
    return language is None or language in _ENGLISH_RULES


def covers(languages: Iterable[str], language: str | None) -> bool:
    """Whether a resource made for ``languages`` ("xx": any language, as spaCy's
    multilingual models say) can analyse text in ``language``. Unknown or
    undetermined text is analysed, as before languages were told apart."""
    languages = set(languages)
    return not language or language == UNDETERMINED or "xx" in languages or language in languages
