"""Crafted captures of DNS inside tunnels (issue 13, item 3): filled in by the tunnel work."""


def tunnels():
    """The Captures of this module (see crafted_captures.Capture)."""
    return []
