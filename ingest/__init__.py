"""The Đề án 06 monitoring warehouse: ingestion, registry, quality gate and reporting."""

__version__ = "0.1.0"
