"""Crafted captures of RDATA layouts and UPDATE messages (issue 13, items 4 and 5)."""


def rdata():
    """The Captures of this module (see crafted_captures.Capture)."""
    return []
