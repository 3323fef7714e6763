"""Pipeline options, assembly and the ``newsbeam`` command line."""

import logging


class _DropApitoolsNotice(logging.Filter):
    """Beam warns on import that its optional BigQuery client is missing; we never use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_DropApitoolsNotice())
