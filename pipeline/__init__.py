"""Pipeline options, assembly and the ``newsbeam`` command line.

Importing it imports neither Beam nor the stages: ``newsbeam query``, ``stats`` and
``report`` need only DuckDB. The commands that run a pipeline import
``newsbeam.transforms`` first (it quietens Beam's import-time notice before Beam loads).
"""
