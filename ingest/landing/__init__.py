"""The landing layer: every source kind's files reach the warehouse through one path.

``adapters`` recognise and read a file; ``land`` receives, parses and stores a batch;
``store`` writes ledger rows, rows and quarantine with COPY.  This layer sits above the
parsers (``ingest.submissions``, ``ingest.narrative``) and below the pipeline and the CLI.
"""
