"""Masking and template mining: millions of lines become hundreds of events."""
