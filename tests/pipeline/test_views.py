"""pipeline.views: the warehouse's tables as DuckDB views, whatever the files hold."""

import duckdb
import pyarrow.parquet as pq
import pytest

from newsbeam.pipeline.views import PARTITIONS, TABLES, VIEWS, WarehouseNotFound, connect
from newsbeam.schemas import Article, Story, arrow_schema, to_table
from tests.pipeline.sample_warehouse import SAMPLE, sample_articles, write_sample


def _types(con, relation: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {relation}").fetchall()]


def _arrow_types(record) -> list[tuple[str, str]]:
    con = duckdb.connect()
    con.register("empty", arrow_schema(record).empty_table())
    return _types(con, "empty")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("sample"))


def test_every_view_exists_empty_and_typed_in_a_warehouse_without_files(tmp_path):
    con = connect(str(tmp_path))
    assert {row[0] for row in con.execute("SHOW TABLES").fetchall()} == set(VIEWS)
    for view in VIEWS:
        assert con.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,), view
    for view, (_, record) in TABLES.items():
        expected = _arrow_types(record)
        if view == "articles":
            expected += list(PARTITIONS.items())
        assert _types(con, view) == expected, view
    assert _types(con, "stories") == _arrow_types(Story)
    # typed, not merely named: list and struct columns work in queries
    assert con.execute("SELECT count(*) FROM articles, unnest(entities) AS e "
                       "WHERE e.e.count > 1 AND list_contains(themes, 'x') "
                       "AND date > DATE '2020-01-01'").fetchone() == (0,)


def test_views_read_every_table_with_the_partition_columns(sample):
    con = connect(str(sample))
    counts = {v: con.execute(f"SELECT count(*) FROM {v}").fetchone()[0] for v in VIEWS}
    assert counts == {"articles": SAMPLE["articles"], "duplicates": SAMPLE["duplicates"],
                      "errors": SAMPLE["errors"], "stories": 3,
                      "story_versions": SAMPLE["story_versions"], "story_merges": 1, "story_roots": 3}
    rows = con.execute("SELECT article_id, date::VARCHAR, theme FROM articles "
                       "WHERE article_id IN ('a01', 'a10') ORDER BY 1").fetchall()
    assert rows == [("a01", "2026-11-01", "politics"), ("a10", "2026-11-03", "economy")]
    assert _types(con, "articles")[-2:] == [("date", "DATE"), ("theme", "VARCHAR")]


def test_files_of_an_older_version_read_as_nulls_in_columns_they_lack(sample):
    con = connect(str(sample))
    rows = dict(con.execute("SELECT article_id, story_id FROM articles "
                            "WHERE date = DATE '2026-11-03' AND theme = 'politics'").fetchall())
    assert rows == {"a08": "s3", "a11": None, "a12": None}  # a12's file has no story_id


def test_a_warehouse_whose_files_all_lack_a_column_still_has_it(tmp_path):
    folder = tmp_path / "articles" / "date=2026-11-01" / "theme=politics"
    folder.mkdir(parents=True)
    old = to_table(Article, sample_articles()[:2]).drop_columns(["kept_ratio", "story_id"])
    pq.write_table(old, folder / "part-old.parquet")
    con = connect(str(tmp_path))
    assert con.execute("SELECT count(*), min(title) FROM articles").fetchone() == (
        2, "Headline a01")
    assert con.execute("SELECT count(story_id), count(*) FILTER (WHERE kept_ratio IS NULL) "
                       "FROM articles").fetchone() == (0, 2)
    assert dict(_types(con, "articles"))["story_id"] == "VARCHAR"


def test_stories_is_the_newest_row_of_each_story(sample):
    con = connect(str(sample))
    current = con.execute("SELECT story_id, articles FROM stories ORDER BY 1").fetchall()
    assert current == [("s1", 3), ("s2", 2), ("s3", 1)]
    assert con.execute("SELECT count(*) FROM story_versions WHERE story_id = 's1'"
                       ).fetchone() == (2,)


def test_a_missing_warehouse_is_named(tmp_path):
    with pytest.raises(WarehouseNotFound, match="warehouse not found: .*nowhere"):
        connect(str(tmp_path / "nowhere"))


def test_story_roots_follow_chains_of_merges(tmp_path):
    import numpy as np
    import pyarrow.parquet as pq

    from newsbeam.schemas import StoryMerge, to_table

    def story(sid, merged_into=None):
        return Story(sid, 1, 2, np.int32(1), [], sid, [], [], merged_into, 3, [], [], [], [])

    (tmp_path / "stories").mkdir()
    pq.write_table(to_table(Story, [story("a"), story("b", "a"), story("c", "b"), story("d")]),
                   tmp_path / "stories" / "part-1.parquet")
    (tmp_path / "story_merges").mkdir()
    pq.write_table(to_table(StoryMerge, [StoryMerge("b", "a", "x", 1), StoryMerge("c", "b", "y", 2)]),
                   tmp_path / "story_merges" / "part-1.parquet")
    roots = connect(str(tmp_path)).execute("SELECT story_id, root FROM story_roots ORDER BY 1").fetchall()
    assert roots == [("a", "a"), ("b", "a"), ("c", "a"), ("d", "d")]


def test_table_patterns_match_the_warehouses_layout(tmp_path):
    from newsbeam.pipeline.views import table_pattern
    from newsbeam.transforms import warehouse

    for table in ("articles", "duplicates", "errors", "stories", "story_merges"):
        assert table_pattern(str(tmp_path), table) == warehouse.table_pattern(str(tmp_path), table)
