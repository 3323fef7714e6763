"""Record schemas: one definition used for Beam (RowCoder) and Arrow/Parquet."""

from newsbeam.schemas.arrow import arrow_schema, from_table, to_micros, to_table
from newsbeam.schemas.records import (
    DATE_SOURCES,
    TEXT_SOURCES,
    Article,
    Duplicate,
    Entity,
    ErrorRecord,
    IndexEntry,
    RawDocument,
    Story,
    StoryMerge,
    TermCount,
    ThemeScore,
)

__all__ = [
    "Article", "DATE_SOURCES", "Duplicate", "Entity", "ErrorRecord", "IndexEntry",
    "RawDocument", "Story", "StoryMerge", "TEXT_SOURCES", "TermCount", "ThemeScore", "arrow_schema", "from_table", "to_micros",
    "to_table",
]
