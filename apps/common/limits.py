"""Bounds of API inputs that both layers share.

Each endpoint's schema (Ninja) or serializer (DRF) declares the length of every string
(the model column's ``max_length``; a bound of its own for free text) and the range of
every integer, so a value that does not fit is a 422 naming the field before any service
or the database sees it. The input guard (``apps.common.input_guard``) refuses any integer
beyond 64 bits on every endpoint, declared or not.
"""

from __future__ import annotations

#: Primary keys are 64-bit (``BigAutoField``).
MAX_ID = 2**63 - 1
#: Offset paging goes this deep; past it, narrow the listing with its filters instead.
MAX_OFFSET = 10_000_000
#: One-time codes: six digits, with some surrounding whitespace tolerated.
MAX_CODE_LENGTH = 32
