"""The one version order, for every module that sorts releases or compares them."""

from __future__ import annotations

import math
from typing import Any

from packaging.version import InvalidVersion, Version


def version_key(value: Any) -> tuple:
    """Sort key for a version: nothing (None, empty, pandas' missing) first, then PEP 440
    order, then any other text by itself (``none``, a specifier such as ``>=8``), so one
    odd value can never break a sort. A leading ``==`` is read as the version it pins."""
    if (
        value is None
        or value == ""
        or (isinstance(value, float) and math.isnan(value))
        or type(value).__name__ == "NAType"
    ):
        return (0,)
    text = str(value).lstrip("=~ ")
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (2, str(value))
