"""The Arrow schemas are derived from the records; pin them with a snapshot."""

import datetime as dt

import numpy as np
import pyarrow as pa

from newsbeam.schemas import (
    Article,
    Duplicate,
    Entity,
    ErrorRecord,
    IndexEntry,
    ThemeScore,
    arrow_schema,
    from_table,
    to_table,
)

TS = pa.timestamp("us", tz="UTC")


def test_article_schema_matches_the_output_contract():
    schema = arrow_schema(Article)
    contract = [
        ("article_id", pa.string(), False),
        ("url", pa.string(), False),
        ("source", pa.string(), False),
        ("title", pa.string(), False),
        ("text", pa.string(), False),
        ("published_at", TS, True),
        ("date_source", pa.string(), False),
        ("ingested_at", TS, False),
        ("language", pa.string(), False),
        ("themes", pa.list_(pa.string()), False),
        ("entities", pa.list_(pa.struct([
            pa.field("text", pa.string(), False),
            pa.field("label", pa.string(), False),
            pa.field("count", pa.int32(), False)])), False),
        ("word_count", pa.int32(), False),
        ("duplicates", pa.list_(pa.string()), False),
    ]
    for (name, type_, nullable), field in zip(contract, schema):
        assert (field.name, field.type, field.nullable) == (name, type_, nullable)
    # Extensions, after the contract's columns.
    assert [(f.name, f.type, f.nullable) for f in schema][len(contract):] == [
        ("theme_scores", pa.list_(pa.struct([pa.field("theme", pa.string(), False),
                                             pa.field("score", pa.float32(), False)])), False),
        ("text_source", pa.string(), False),
        ("author", pa.string(), True),
        ("site_name", pa.string(), True),
        ("content_hash", pa.string(), False),
        ("page_status", pa.string(), True),
        ("kept_ratio", pa.float64(), True),
        ("story_id", pa.string(), True),
    ]


def test_side_tables_schemas():
    assert arrow_schema(Duplicate).names[:5] == ["source", "url", "duplicate_of", "similarity", "kind"]
    assert arrow_schema(Duplicate).field("similarity").type == pa.float32()
    assert arrow_schema(ErrorRecord).names == ["source", "stage", "error", "detail", "at", "article_id"]
    assert arrow_schema(ErrorRecord).field("at").type == TS
    assert arrow_schema(IndexEntry).field("minhash").type == pa.list_(pa.int64())


def test_round_trip_through_arrow_keeps_every_value():
    published = int(dt.datetime(2024, 10, 23, 12, 30, tzinfo=dt.timezone.utc).timestamp() * 1e6)
    article = Article(
        "a1", "https://example.org/a", "seeds/x.txt", "Title", "Body.", published, "html",
        published + 5, "en", ["politics", "conflict-war-peace"],
        [Entity("Lloyd Austin", "PERSON", np.int32(3))], np.int32(1), ["other.txt"],
        [ThemeScore("politics", np.float32(0.75))], "page", "Jane Doe", "Example", "abc", "ok",
        0.8125)
    table = to_table(Article, [article])
    assert table.schema == arrow_schema(Article)
    assert table.column("published_at")[0].as_py() == dt.datetime(
        2024, 10, 23, 12, 30, tzinfo=dt.timezone.utc)
    assert from_table(Article, table) == [article]


def test_articles_written_before_kept_ratio_and_story_id_read_back_with_none():
    article = Article(
        "a1", "https://example.org/a", "seeds/x.txt", "Title", "Body.", None, "ingested", 5, "en",
        [], [], np.int32(1), [], [], "file", None, None, "abc", None)
    assert article.kept_ratio is None  # the field has a default: older call sites still build rows
    old = to_table(Article, [article]).drop_columns(["kept_ratio", "story_id"])
    assert from_table(Article, old) == [article]
