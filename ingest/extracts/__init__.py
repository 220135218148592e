"""Source extracts (formats.md §3, §4): recognised by their header, stream-parsed, pseudonymised, COPYed.

* :func:`detect_extract` says whether a file's first bytes are a civil-registry sync extract
  (``civil_registry``) or a BHXH identity-verification extract (``bhxh``);
* :mod:`~ingest.extracts.parse` reads either, row by row, into typed records and row problems;
* :mod:`~ingest.extracts.pseudonym` keys the BHXH identifiers (``D06_PSEUDONYM_KEY``);
* :mod:`~ingest.extracts.load` streams a file's rows into ``raw.civil_registry_count`` or
  ``raw.bhxh_verification`` and its problems into ``raw.quarantine``.

The landing path (:mod:`ingest.landing`) archives, records and stores them like every file.

>>> detect_extract(b"extract_date,commune_code,record_type,records_total,records_scanned,"
...                b"records_entered,records_synced\\n")
'civil_registry'
"""

from ingest.extracts.formats import ExtractKind, detect_extract
from ingest.extracts.load import LoadCounts, load_extract
from ingest.extracts.parse import ExtractHead, inspect_extract
from ingest.extracts.reasons import CONFIG_ERRORS, ExtractError, ExtractReason

__all__ = [
    "CONFIG_ERRORS",
    "ExtractError",
    "ExtractHead",
    "ExtractKind",
    "ExtractReason",
    "LoadCounts",
    "detect_extract",
    "inspect_extract",
    "load_extract",
]
