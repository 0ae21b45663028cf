"""What an LLM call costs: the workspace's price table per model, over documented defaults.

``<MOZAIKS_APP_DIR>/config/model_prices.yaml``::

    currency: usd
    models:
      gpt-4.1-mini: {input_per_million: "0.40", output_per_million: "1.60"}

A model the table does not name costs nothing and is reported as unpriced (``manage.py mozaiks
validate`` warns once per file). Prices are per million tokens, in the table's currency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from mozaiks_core.validation import ERROR, Problem

PRICES_RELATIVE_PATH = Path("config") / "model_prices.yaml"
MILLION = Decimal(1_000_000)
RECHECK_SECONDS = 5.0
# Public list prices per million tokens (USD), as OpenAI published them at
# https://openai.com/api/pricing/ on 2025-04-14 (the GPT-4.1 launch). Check them before billing on them.
DEFAULT_CURRENCY = "usd"
DEFAULT_PRICES_AS_OF = "2025-04-14"
DEFAULT_PRICES: dict[str, tuple[str, str]] = {
    "gpt-4.1": ("2.00", "8.00"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4o-mini": ("0.15", "0.60"),
    "mozaiks-scripted": ("0", "0"),  # the offline scripted model
}


@dataclass(frozen=True)
class ModelPrice:
    """Input and output price per million tokens of one model."""

    input_per_million: Decimal
    output_per_million: Decimal


@dataclass(frozen=True)
class PriceTable:
    """Every priced model and the currency of the table."""

    currency: str
    models: dict[str, ModelPrice]

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """What the call cost (0 for a model the table does not price)."""
        price = self.models.get(model)
        if price is None:
            return Decimal(0)
        return (price.input_per_million * prompt_tokens + price.output_per_million * completion_tokens) / MILLION


def _default_table() -> PriceTable:
    return PriceTable(DEFAULT_CURRENCY, {model: ModelPrice(Decimal(i), Decimal(o))
                                         for model, (i, o) in DEFAULT_PRICES.items()})


def prices_path() -> Path:
    """Where the price table lives: ``MOZAIKS_MODEL_PRICES_FILE``, else the workspace's config/model_prices.yaml."""
    configured = getattr(settings, "MOZAIKS_MODEL_PRICES_FILE", "")
    return Path(configured) if configured else Path(settings.MOZAIKS_APP_DIR) / PRICES_RELATIVE_PATH


def parse_prices(text: str, file: str) -> tuple[PriceTable, list[Problem]]:
    """The table the file declares over the defaults, and every problem (a bad entry keeps its default)."""
    problems: list[Problem] = []
    table = _default_table()
    data: Any = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        return table, [Problem(ERROR, "entitlements.prices", file, "", "the price table must be a mapping",
                               "write currency: usd and models: {name: {input_per_million, output_per_million}}")]
    currency = data.get("currency", DEFAULT_CURRENCY)
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        problems.append(Problem(ERROR, "entitlements.prices", file, "currency",
                                f"currency {currency!r} is not an ISO 4217 code", "write e.g. usd or eur"))
        currency = DEFAULT_CURRENCY
    models = dict(table.models)
    for name, raw in (data.get("models") or {}).items():
        path = f"models.{name}"
        try:
            models[str(name)] = ModelPrice(Decimal(str(raw["input_per_million"])),
                                           Decimal(str(raw["output_per_million"])))
        except (KeyError, TypeError, InvalidOperation):
            problems.append(Problem(ERROR, "entitlements.prices", file, path, "a model price needs input_per_million "
                                    "and output_per_million as numbers", 'write {input_per_million: "0.40", '
                                    'output_per_million: "1.60"}'))
    return PriceTable(currency.lower(), models), problems


_cache: dict[str, Any] = {}


def price_table() -> PriceTable:
    """The workspace's table (re-read when the file changes, looked at every few seconds)."""
    now = time.monotonic()
    if _cache.get("checked", -RECHECK_SECONDS) + RECHECK_SECONDS > now and "table" in _cache:
        return _cache["table"]
    path = prices_path()
    try:
        stamp: Any = (str(path), path.stat().st_mtime)
    except OSError:
        stamp = None
    if stamp != _cache.get("stamp") or "table" not in _cache:
        _cache["table"] = parse_prices(path.read_text(encoding="utf-8"), str(path))[0] if stamp else _default_table()
        _cache["stamp"] = stamp
    _cache["checked"] = now
    return _cache["table"]


def validate_prices_file() -> list[Problem]:
    """Problems of the workspace's model_prices.yaml (none when it has no such file)."""
    path = prices_path()
    if not path.exists():
        return []
    return parse_prices(path.read_text(encoding="utf-8"), str(path))[1]
