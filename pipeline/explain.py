"""``newsbeam explain FILE``: what the clean stage keeps and drops of one input, and why.

The file is read as ``backfill`` reads it (``transforms.read``: a ``.txt``,
``.html``/``.htm``, ``.json`` or ``.jsonl`` file, optionally compressed; every
record of a JSON file in turn) and cleaned in this process as the clean stage
cleans it. Printed, in the input's order: each paragraph with ``KEEP``,
``HEAD`` (the headline) or ``DROP <reason>`` (the rule that removed it, see
``transforms.clean_text``); then the headline, the language, the kept ratio
(the ``kept_ratio`` column) and the verdict: a row, or the error row's reason.

For a page the paragraphs are trafilatura's: what trafilatura itself left
out (menus, sidebars, comments, ...) is not listed, only counted against the
page's visible words, and the galleries and players :mod:`transforms.media`
finds are named. The verdict is the clean stage's; deduplication and tagging
come after it.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from typing import Optional

from apache_beam.pvalue import TaggedOutput

from newsbeam.pipeline.usage import CommandParser, UsageError
from newsbeam.schemas import RawDocument
from newsbeam.transforms.clean import (
    CleanConfig,
    CleanFailure,
    article_from_body,
    clean_body,
    kept_little,
)
from newsbeam.transforms.ids import now_micros
from newsbeam.transforms.language import detect_language
from newsbeam.transforms.read import DEFAULT_MAX_BYTES, InputError, ReadFileFn, list_inputs
from newsbeam.transforms.text import word_count


def read_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list:
    """The ``RawDocument``s and read ``ErrorRecord``s of one input file, as ``backfill``
    reads it."""
    try:
        items = list_inputs([path])
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    if len(items) != 1:
        raise UsageError(f"explain takes one file; {path} stands for {len(items)}")
    reader = ReadFileFn(max_bytes, now_micros())
    return [out.value if isinstance(out, TaggedOutput) else out for out in reader.process(items[0])]


def _ordered(source: str, units: list) -> list:
    """``units`` ((label, text) pairs) in the order their text occurs in ``source``.

    Found by their first words (the cleaner may have joined wrapped lines);
    a repeated text is looked for after its previous occurrence; what is not
    found keeps its place at the end.
    """
    after: dict = {}
    placed = []
    for i, (label, text) in enumerate(units):
        words = text.split()[:8]
        pos = None
        if words:
            pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
            m = pattern.search(source, after.get(text, 0))
            if m:
                pos = m.start()
                after[text] = m.end()
        placed.append((pos if pos is not None else len(source) + i, i, label, text))
    return [(label, text) for _, _, label, text in sorted(placed)]


def _visible_words(html: str) -> Optional[int]:
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.LxmlError):  # not parseable: nothing to count
        return None
    for el in root.xpath("//script|//style|//noscript|//template|//head"):
        el.drop_tree()
    return word_count(root.text_content())


def _media_found(html: str) -> list:
    """(marker, words) of what :func:`transforms.media.strip_media` removes from the page."""
    from trafilatura.utils import load_html

    from newsbeam.transforms.media import find_media, strip_media

    tree = load_html(html)
    if tree is None:
        return []
    found = [(marker, word_count(el.text_content())) for el, marker in find_media(tree)]
    return found if strip_media(tree) else []


def _fit(text: str, width: Optional[int]) -> str:
    text = " ".join(text.split())
    if width is None or len(text) <= width:
        return text
    return text[: max(10, width - 1)] + "…"


# In this process, without the sandbox's time limit: one file, and the user is waiting for it.
IN_PROCESS = CleanConfig(timeout_seconds=None)


def explain_document(raw: RawDocument, config: CleanConfig = IN_PROCESS,
                     width: Optional[int] = None) -> list[str]:
    """The lines ``newsbeam explain`` prints for one document (``width``: cut each to it)."""
    out = [f"{raw.locator}  ({raw.kind})"]
    source = raw.body
    notes = []
    body, article, failure = None, None, None
    try:
        body = clean_body(raw, config)
        article = article_from_body(raw, body, config)
    except CleanFailure as exc:
        failure = exc
    if raw.kind == "html":
        # trafilatura's own lines, in order, as the clean stage extracted them
        lines = [line for line, _ in body.decisions] if body is not None else []
        source = "\n".join(lines)
        extracted = sum(word_count(line) for line in lines)
        visible = _visible_words(raw.body)
        notes.append(f"not listed: what trafilatura left out of the page (menus, sidebars, "
                     f"comments, ...): it extracted {extracted} of {visible} visible words")
        media = _media_found(raw.body)
        if media:
            notes.append("galleries and players (transforms.media.strip_media): " + ", ".join(
                f"{m} ({n} words)" for m, n in media))
    if body is not None:
        units = []
        if body.title and not raw.title and raw.kind in ("text", "json"):
            units.append(("HEAD", body.title))  # the headline line of the text itself
        units += [("KEEP", p) for p in body.paragraphs]
        units += [(f"DROP {reason}", line) for line, reason in body.removed]
        units = _ordered(source, units)
        pad = max(len(label) for label, _ in units) if units else 4
        room = None if width is None else max(20, width - pad - 2)
        out += [f"{label:<{pad}}  {_fit(text, room)}" for label, text in units]
    out += notes
    title = article.title if article else (raw.title or (body.title if body else None))
    out.append(f"headline: {title or '(none)'}")
    text = article.text if article else "\n".join(body.paragraphs) if body else ""
    out.append(f"language: {article.language if article else detect_language(text)}")
    if article is not None:
        kept = word_count(article.title) + int(article.word_count)
        given = body.input_words if body is not None else kept
        low = " (low: below its source's floor)" if kept_little(article, config) else ""
        out.append(f"kept: {kept} of {given} words, kept_ratio {article.kept_ratio:.2f}{low}")
        out.append(f"verdict: row (text_source {article.text_source}, "
                   f"{int(article.word_count)} words; deduplication and tagging come next)")
    else:
        out.append(f"verdict: error clean:{failure.reason} ({failure.detail})")
    return out


def explain(argv: Sequence[str]) -> int:
    parser = CommandParser(
        prog="newsbeam explain", allow_abbrev=False,
        description="Show which paragraphs of one input file the cleaner keeps or drops, and why.")
    parser.add_argument("file",
                        help="a .txt, .html/.htm, .json or .jsonl file (optionally .gz/.bz2)")
    args = parser.parse_args(argv)
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    first = True
    for item in read_file(args.file):
        if not first:
            print()
        first = False
        if isinstance(item, RawDocument):
            print("\n".join(explain_document(item, width=width)))
        else:  # the reader's error row
            print(f"{item.source}\nverdict: error {item.stage}:{item.error} ({item.detail})")
    return 0
