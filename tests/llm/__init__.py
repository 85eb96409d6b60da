"""Tests of the optional LLM assist (issue 5)."""
