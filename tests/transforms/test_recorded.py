"""What a re-run skips: ids of inputs already recorded (transforms/recorded.py)."""

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import ErrorRecord, to_table
from newsbeam.transforms.recorded import ReadRecordedIds, SkipRecorded


def test_recorded_ids_are_the_inputs_that_ended_in_a_table(tmp_path):
    (tmp_path / "errors").mkdir()
    rows = [ErrorRecord("http://x/1", "clean", "no_article", "", 0, "id-clean"),
            ErrorRecord("x.txt", "read", "empty", "", 0, "id-read"),
            # written before page_status: a failed fetch did not end the item
            ErrorRecord("http://x/3", "fetch", "http_404", "", 0, "id-fetch"),
            ErrorRecord("http://feed", "feed", "http_500", "", 0)]  # about a feed, no item
    pq.write_table(to_table(ErrorRecord, rows), tmp_path / "errors" / "part-new.parquet")
    # An error file written before error rows carried ids is skipped, not an error.
    pq.write_table(pa.table({"source": ["http://x/4"], "stage": ["clean"]}),
                   tmp_path / "errors" / "part-old.parquet")
    (tmp_path / "duplicates").mkdir()
    pq.write_table(pa.table({"article_id": ["id-dup"]}), tmp_path / "duplicates" / "part-1.parquet")
    with TestPipeline() as p:
        assert_that(p | ReadRecordedIds(str(tmp_path)),
                    equal_to(["id-clean", "id-read", "id-dup"]))


def test_skip_recorded_drops_rows_of_recorded_inputs_only():
    new = ErrorRecord("b.txt", "read", "empty", "", 1, "id-new")
    old = ErrorRecord("a.txt", "read", "empty", "", 1, "id-old")
    feed = ErrorRecord("http://feed", "feed", "http_500", "", 1)
    with TestPipeline() as p:
        recorded = p | "Recorded" >> beam.Create(["id-old", "id-other"])
        rows = p | "Rows" >> beam.Create([new, old, feed])
        assert_that(rows | SkipRecorded(recorded), equal_to([new, feed]))
