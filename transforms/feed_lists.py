"""The feed lists a user gives newsbeam ingest: URLs, .txt files (one
URL a line, # comments) and .opml files (no DOCTYPE accepted)."""

from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET


def read_feed_list(text: str, name: str = "") -> list[str]:
    """Feed URLs from a ``.txt`` (one a line, ``#`` comments) or ``.opml`` file."""
    if name.lower().endswith((".opml", ".xml")) or text.lstrip().startswith("<"):
        if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
            raise ValueError(f"{name}: OPML with a DOCTYPE is not accepted")
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise ValueError(f"{name}: not valid OPML: {exc}") from exc
        return [el.get("xmlUrl").strip() for el in root.iter("outline")
                if el.get("xmlUrl") and el.get("xmlUrl").strip()]
    urls = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if line:
            urls.append(line.split()[0])
    return urls


def resolve_feeds(args: list[str]) -> list[str]:
    """URLs given directly or in .txt/.opml files, in order, without repeats.

    Raises ValueError for a missing file or an argument that is neither.
    """
    urls: list[str] = []
    for arg in args:
        if "://" in arg:
            urls.append(arg)
            continue
        path = pathlib.Path(arg)
        if not path.is_file():
            raise ValueError(f"feed list not found (and not a URL): {arg}")
        urls.extend(read_feed_list(path.read_text(encoding="utf-8", errors="replace"), arg))
    return list(dict.fromkeys(urls))
