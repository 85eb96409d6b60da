"""Decoders: what each shipper protocol sends, turned into :class:`LogRecord` batches."""
