"""The quality report: rendering in Vietnamese, and delivery by e-mail."""
