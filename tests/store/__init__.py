"""Tests of the incident store (a package, so its conftest does not shadow tests/conftest.py)."""
