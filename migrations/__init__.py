"""Piccolo migrations of the carethread app; file names must stay unique (bare-name import)."""
