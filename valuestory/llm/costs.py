"""What model calls cost: list prices, and the share of a request's input that a provider's
prompt caching serves from its cache.

OpenAI (and compatible gateways that copy it) caches the longest prefix a request shares with
one sent shortly before, from 1,024 tokens on and in steps of 128; cached input is billed at a
discount. Requests of one stage begin with the same instructions (the stable prefix), so from
the second request on that prefix is cached once it is long enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from valuestory.tokens import encoding

# USD per million tokens: (input, cached input, output), OpenAI's list prices.
PRICES = {"gpt-4o-mini": (0.15, 0.075, 0.60), "gpt-4o": (2.50, 1.25, 10.0), "gpt-4.1": (2.0, 0.50, 8.0),
          "gpt-4.1-mini": (0.40, 0.10, 1.60), "gpt-4.1-nano": (0.10, 0.025, 0.40)}
# Output tokens estimated as this share of the input, for a price before anything is sent:
# the terse stand-in's answers (benchmarks/token_efficiency.py) are 0.9x the input on the
# sample and 1.3x on generated responses; a real model's may differ.
OUTPUT_SHARE = 1.0
CACHE_MIN, CACHE_STEP = 1024, 128


@dataclass(frozen=True)
class Cost:
    tokens_in: int
    cached: int  # of tokens_in, served from the provider's prompt cache
    tokens_out: int

    def price(self, model: str, caching: bool = True) -> float | None:
        """USD at the model's list price (None for a model without one)."""
        p = PRICES.get(model.rpartition(":")[2])
        if p is None:
            return None
        cached = self.cached if caching else 0
        return ((self.tokens_in - cached) * p[0] + cached * p[1] + self.tokens_out * p[2]) / 1e6


def prompt_tokens(messages: list[dict]) -> list[int]:
    """The tokens of a request's messages in the order a provider reads them."""
    enc = encoding()
    return [t for m in messages for t in enc.encode_ordinary(m["content"])]


def cached_prefixes(requests: list[list[dict]]) -> list[int]:
    """For each request (its messages), in the order sent, the input tokens prompt caching
    would serve: its longest prefix shared with an earlier one, from CACHE_MIN in CACHE_STEPs.
    Each prefix is keyed by a hash chained over those steps, so this is linear in the tokens."""
    seen: set[int] = set()
    out = []
    for messages in requests:
        keys = _prefix_keys(prompt_tokens(messages))
        out.append(max((end for end, key in keys if key in seen), default=0))
        seen.update(key for _, key in keys)
    return out


def _prefix_keys(tokens: list[int]) -> list[tuple[int, int]]:
    """(length, key) of each cacheable prefix: CACHE_MIN tokens, then every CACHE_STEP more."""
    keys, key = [], hash(tuple(tokens[:CACHE_MIN]))
    for end in range(CACHE_MIN, len(tokens) + 1, CACHE_STEP):
        if end > CACHE_MIN:
            key = hash((key, tuple(tokens[end - CACHE_STEP:end])))
        keys.append((end, key))
    return keys
