"""Beam's ``RowCoder`` for every record type of ``schemas.records``.

Imported by the ``transforms`` package, so every process that builds or runs a
stage has them registered; the schemas themselves do not need Beam.
"""

import apache_beam as beam

from newsbeam.schemas.records import RECORDS

for _record in RECORDS:
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)
