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
        StagedFile("stories", "stories/part-r-7.parquet", 5),
        StagedFile("story_merges", "story_merges/part-r-8.parquet", 1),
    ]
    counters = {("write", "already_recorded"): 5, ("write", "reason:read:empty"): 1,
                ("write", "reason:clean:too_short"): 1, ("fetch", "page:http_404"): 2,
                ("write", "articles:date=2024-10-23/theme=politics/0"): 99,  # not what counts
                ("clean", "low_kept:page"): 2, ("clean", "low_kept:file"): 1,
                ("clean", "articles"): 7, ("write", "undated"): 3,
                ("stories", "new_stories"): 4, ("stories", "joined_earlier"): 2}
    assert summarize(written, counters, "/w", 1.25).split("\n") == [
        "newsbeam: wrote 7 article rows to /w in 1.2s",
        "  2024-10-23  politics                                  3",
        "  2024-10-28  sport                                     4",
        "  duplicates: 3   errors: 2   already recorded: 5",
        "  no publication date found: 3 (filed under the ingestion date, date_source = 'ingested')",
        "  error reasons: clean:too_short 1, read:empty 1",
        "  pages not used: http_404 2",
        "  stories: 5 touched, 4 new, 2 articles joined earlier runs' stories, 1 merges",
        ("  kept little of their input: file 1, page 2  (column kept_ratio; newsbeam explain FILE"
         " shows each line's fate)"),
    ]


def test_the_local_runner_uses_every_core_the_inputs_pay_for(monkeypatch):
    import os

    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

    from newsbeam.pipeline.command import use_the_machine

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)

    def chosen(argv, files, size=0):
        options = PipelineOptions(argv)
        workers = use_the_machine(options, argv, files, size)
        direct = options.view_as(DirectOptions)
        return workers, direct.direct_num_workers, direct.direct_running_mode

    assert chosen([], 5) == (1, 1, "in_memory")  # the seeds: starting workers costs more
    assert chosen([], 80) == (2, 2, "multi_processing")
    assert chosen([], 5000) == (4, 4, "multi_processing")  # every core, no more
    assert chosen([], 1, 100 << 20) == (4, 4, "multi_processing")  # one big JSON-lines file
    assert chosen(["--direct_num_workers=1"], 5000) == (1, 1, "in_memory")  # the user's choice
    assert chosen(["--direct_running_mode=multi_threading"], 5000)[2] == "multi_threading"
    assert chosen(["--runner=PortableRunner"], 5000)[0] == 1
