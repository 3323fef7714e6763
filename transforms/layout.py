"""Where each table's committed files lie, relative to the warehouse folder.

Plain code with no Beam import, so the query side (``pipeline.views``) and the
write side (``transforms.warehouse``) read one definition of the layout.
"""

from __future__ import annotations


def table_glob(table: str) -> tuple[str, ...]:
    """The path parts of the glob matching one table's committed files.

    ``articles/`` is partitioned Hive-style (``date=.../theme=.../``); every other
    table is one flat folder. Staged files (``_staging/<run>/<table>/...``) never match.
    """
    if table == "articles":
        return ("articles", "**", "*.parquet")
    return (table, "*.parquet")
