"""pipeline.command: the run summary, from what the log lists and the counters."""

from newsbeam.pipeline.command import summarize
from newsbeam.transforms.warehouse import StagedFile


def test_summary_counts_what_the_log_lists_and_names_what_it_does_not():
    written = [
        StagedFile("articles", "articles/date=2024-10-23/theme=politics/part-r-1.parquet", 2),
        StagedFile("articles", "articles/date=2024-10-23/theme=politics/part-r-2.parquet", 1),
        StagedFile("articles", "articles/date=2024-10-28/theme=sport/part-r-3.parquet", 4),
        StagedFile("duplicates", "duplicates/part-r-4.parquet", 3),
        StagedFile("errors", "errors/part-r-5.parquet", 2),
        StagedFile("_index", "_index/part-r-6.parquet", 7),
    ]
    counters = {("write", "already_recorded"): 5, ("write", "reason:read:empty"): 1,
                ("write", "reason:clean:too_short"): 1, ("fetch", "page:http_404"): 2,
                ("write", "articles:date=2024-10-23/theme=politics/0"): 99,  # not what counts
                ("clean", "low_kept:page"): 2, ("clean", "low_kept:file"): 1,
                ("clean", "articles"): 7}
    assert summarize(written, counters, "/w", 1.25).split("\n") == [
        "newsbeam: wrote 7 article rows to /w in 1.2s",
        "  2024-10-23  politics                                  3",
        "  2024-10-28  sport                                     4",
        "  duplicates: 3   errors: 2   already recorded: 5",
        "  error reasons: clean:too_short 1, read:empty 1",
        "  pages not used: http_404 2",
        ("  kept little of their input: file 1, page 2  (column kept_ratio; newsbeam explain FILE"
         " shows each line's fate)"),
    ]
