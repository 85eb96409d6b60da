"""Ingestion: turning sources (files, folders, globs, stdin, compressed and rotated sets) into
normalised :class:`~aiops_copilot.models.LogRecord` streams."""
