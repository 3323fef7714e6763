"""Pipeline options, assembly and the ``newsbeam`` command line."""

import newsbeam.transforms  # noqa: F401  (it quietens Beam's import-time notice before Beam loads)
