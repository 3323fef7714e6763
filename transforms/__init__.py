"""The pipeline's stages (one composite PTransform per stage module) and the
plain code behind them (see ARCHITECTURE.md for which module holds what).

Stage contracts (each composite returns a dict of PCollections):

* ``read.ReadArticles``   : paths            -> {"documents": RawDocument, "errors": ErrorRecord}
* ``clean.CleanArticles`` : RawDocument      -> {"articles": Article, "errors": ErrorRecord}
* ``dedup.Deduplicate``   : Article          -> {"articles": Article, "duplicates": Duplicate,
                                                 "index": IndexEntry}
* ``tag.TagArticles``     : Article          -> {"articles": Article, "errors": ErrorRecord}
* ``stories.AssignStories``: Article         -> {"articles": Article, "stories": Story,
                                                 "merges": StoryMerge, "terms": Frequencies}
* ``write.WriteWarehouse``: the dicts above  -> StagedFile per file staged;
  ``write.CommitRun`` commits them

Articles leave ``clean`` with ``themes``/``entities``/``theme_scores``/``duplicates``
empty and ``content_hash`` empty; ``dedup`` fills ``content_hash`` and
``duplicates``; ``tag`` fills themes, entities and theme scores; ``stories`` fills ``story_id``.
"""

import logging as _logging


class _DropApitoolsNotice(_logging.Filter):
    """Beam warns on import that its optional BigQuery client is missing; we never use it.

    Installed here because every process that runs a stage (including the clean
    stage's extraction worker) imports this package before Beam.
    """

    def filter(self, record: _logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


_logging.getLogger().addFilter(_DropApitoolsNotice())


# Every stage's records travel with Beam's RowCoder (after the filter above: it imports Beam).
from newsbeam.schemas import coders as _coders  # noqa: E402,F401
