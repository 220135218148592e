"""The held-out reports as Word files made by a real office suite: each sample is opened by
LibreOffice as a document (paragraphs, and its ``a | b | c`` rows as a real table) and saved as a
.docx; the product reads the .docx (:func:`ingest.narrative.readers.read_document`) and its
statements are scored against the same hand labels as the text (``test_accuracy._scores``'
measure).  A Word file must give what its text gives."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.narrative.extract import Statement
from ingest.narrative.header import read_header
from ingest.narrative.readers import read_document
from ingest.narrative.submission import document_statements
from ingest.registry import Registry

from .conftest import SAMPLES
from .documents import make_html
from .test_accuracy import THRESHOLD, _scores
from .test_office_files import _soffice

HELDOUT = tuple(sorted(p.stem for p in SAMPLES.glob("heldout*_*.txt")))


@pytest.fixture(scope="module")
def word_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("heldout-word")
    sources = []
    for name in HELDOUT:
        lines = (SAMPLES / f"{name}.txt").read_text(encoding="utf-8").splitlines()
        (out / f"{name}.html").write_text(make_html(lines), encoding="utf-8")
        sources.append(str(out / f"{name}.html"))
    _soffice(["--convert-to", "docx:MS Word 2007 XML", *sources], out)
    return out


def test_heldout_reports_as_word_files(word_files: Path, registry: Registry) -> None:
    tables: list[int] = []

    def read_word_file(name: str, reg: Registry) -> list[Statement]:
        document = read_document(io.BytesIO((word_files / f"{name}.docx").read_bytes()), name=f"{name}.docx")
        tables.append(len(document.tables))
        return document_statements(document, read_header(document.lines, reg), reg)[0]

    precision, recall, _, _ = _scores(HELDOUT, registry, read_word_file)
    print(f"word files: precision={precision:.3f} recall={recall:.3f} tables={sum(tables)}")
    assert sum(tables) >= 6  # the service, department and field tables are Word tables here
    assert precision >= THRESHOLD
    assert recall >= THRESHOLD
