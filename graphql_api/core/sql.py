"""SQL helpers shared by the domains' services."""

from __future__ import annotations


def escape_like(term: str) -> str:
    """`term` matched literally inside a LIKE pattern (with `escape="\\"`)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
