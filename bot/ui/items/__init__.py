"""Chorus's persistent buttons and selects, one module per family, all on ChorusButton or ChorusSelect
(item_base.py); registry.py lists them.

This file imports nothing: importing one family (e.g. card.py from the launcher) must not load the others,
some of which import the launcher themselves.
"""
