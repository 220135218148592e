"""Narrative reports: read ``.txt`` / ``.docx`` / ``.pdf``, find their figures, map them to the
indicator registry and check them against themselves.

>>> statements = list(extract_statements(["Khai sinh: 2076 hồ sơ trực tuyến/2076 hồ sơ, tỷ lệ 100%."]))
>>> statements[0].numerator, consistency_findings(statements)
(2076, [])
"""

from ingest.narrative.document import Document
from ingest.narrative.extract import Statement, extract_statements
from ingest.narrative.findings import Finding, consistency_findings
from ingest.narrative.header import ReportHeader, read_header
from ingest.narrative.mapping import MappingResult, map_statement
from ingest.narrative.readers import NarrativeError, read_document, read_lines

__all__ = [
    "Document",
    "Finding",
    "MappingResult",
    "NarrativeError",
    "ReportHeader",
    "Statement",
    "consistency_findings",
    "extract_statements",
    "map_statement",
    "read_document",
    "read_header",
    "read_lines",
]
