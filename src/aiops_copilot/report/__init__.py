"""Renderers: what a run found, as a terminal table, JSON or CSV."""
