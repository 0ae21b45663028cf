"""The plans catalog: ``config/subscriptions.yaml`` of the app workspace, parsed and validated.

The file is the source of plans for a fresh install; :mod:`mozaiks_core.billing.services` copies
it into the database (on ``migrate`` and by ``manage.py sync_plans``), where operators may edit
plans in the admin. Every problem names the file, the key path, what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from mozaiks_core.parsing import DocumentTooComplex, load_yaml
from mozaiks_core.validation import ERROR, WARNING, Problem

CATALOG_RELATIVE_PATH = Path("config") / "subscriptions.yaml"
RESET_PERIODS = ("hour", "day", "week", "month", "never")
ENFORCEMENTS = ("hard", "soft")
INTERVALS = ("day", "week", "month", "year")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,79}$")
MAX_LIMIT = 10**15


@dataclass(frozen=True)
class MeterSpec:
    """A consumable quota: ``limit`` units per ``reset`` period (None = unlimited)."""

    key: str
    limit: int | None
    reset: str = "month"
    enforcement: str = "hard"
    provider_event_name: str = ""

    @property
    def soft(self) -> bool:
        """A soft meter warns when exceeded instead of refusing."""
        return self.enforcement == "soft"

    def as_dict(self) -> dict[str, Any]:
        """The JSON stored on :class:`~mozaiks_core.billing.models.Plan`."""
        return {"limit": self.limit, "reset": self.reset, "enforcement": self.enforcement,
                "provider_event_name": self.provider_event_name}


@dataclass(frozen=True)
class PriceSpec:
    """One way to pay for a plan: ``amount`` (major units) in ``currency`` per ``interval``."""

    interval: str
    amount: str
    currency: str
    provider_price_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON stored on the plan."""
        return {"interval": self.interval, "amount": self.amount, "currency": self.currency,
                "provider_price_id": self.provider_price_id}


@dataclass(frozen=True)
class KeySpec:
    """What an entitlement key means to a person: its kind, label, description and unit."""

    key: str
    kind: str  # "feature" | "limit" | "meter"
    label: str
    description: str = ""
    unit: str = ""  # one counted thing, singular: "seat", "token"

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly form."""
        return {"key": self.key, "kind": self.kind, "label": self.label, "description": self.description,
                "unit": self.unit}


KINDS = ("features", "limits", "meters")
KIND_OF_SECTION = {"features": "feature", "limits": "limit", "meters": "meter"}


@dataclass(frozen=True)
class PlanSpec:
    """One plan as the catalog file declares it."""

    plan_id: str
    label: str
    description: str = ""
    trial_days: int = 0
    prices: tuple[PriceSpec, ...] = ()
    features: dict[str, bool] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    meters: dict[str, MeterSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """The parsed catalog: the default plan and every plan in file order."""

    default_plan_id: str
    plans: tuple[PlanSpec, ...]
    path: Path
    keys: dict[str, KeySpec] = field(default_factory=dict)  # the ``entitlements:`` section, by key


class CatalogError(Exception):
    """The catalog file has errors; ``problems`` lists each one precisely."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def catalog_path() -> Path:
    """Where the catalog lives: ``<MOZAIKS_APP_DIR>/config/subscriptions.yaml``."""
    return Path(settings.MOZAIKS_APP_DIR) / CATALOG_RELATIVE_PATH


class ProblemCollector:
    """Collects the problems of one file while its parsed YAML is walked (also used by the admin)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, path: str, message: str, hint: str, code: str = "billing.catalog") -> None:
        """Record an error: the item is unusable until fixed."""
        self.problems.append(Problem(ERROR, code, self.file, path, message, hint))

    def warning(self, path: str, message: str, hint: str, code: str = "billing.catalog") -> None:
        """Record a warning: the catalog still loads."""
        self.problems.append(Problem(WARNING, code, self.file, path, message, hint))

    def key(self, path: str, value: Any, what: str) -> bool:
        """Check an identifier (plan id or entitlement key); False (and an error) when invalid."""
        if isinstance(value, str) and KEY_PATTERN.match(value):
            return True
        self.error(path, f"{what} {value!r} is not a valid key",
                   "use lowercase letters, digits, '_', '.', ':' or '-', starting with a letter (max 80)")
        return False

    def count(self, path: str, value: Any, *, allow_none: bool = True) -> int | None:
        """Check a non-negative whole number (None allowed for "unlimited")."""
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_LIMIT:
            self.error(path, f"{value!r} is not a whole number between 0 and {MAX_LIMIT}",
                       "write a non-negative integer, or null for unlimited")
            return None
        return value


def _parse_meter(check: ProblemCollector, path: str, key: str, raw: Any) -> MeterSpec | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"limit": raw}
    if not isinstance(raw, dict):
        check.error(path, "a meter must be a mapping", "write {limit: 1000, reset: month, enforcement: hard}")
        return None
    unknown = set(raw) - {"limit", "reset", "enforcement", "provider_event_name"}
    for name in sorted(unknown):
        check.error(f"{path}.{name}", f"unknown meter setting {name!r}",
                    "allowed: limit, reset, enforcement, provider_event_name")
    limit = check.count(f"{path}.limit", raw.get("limit"))
    reset = raw.get("reset")
    if reset is None:
        check.error(f"{path}.reset", "the meter has no reset period",
                    f"add reset: month (one of {', '.join(RESET_PERIODS)}); 'never' for a lifetime allowance")
        reset = "month"
    elif reset not in RESET_PERIODS:
        check.error(f"{path}.reset", f"reset {reset!r} is not a period", f"use one of {', '.join(RESET_PERIODS)}")
    enforcement = raw.get("enforcement", "hard")
    if enforcement not in ENFORCEMENTS:
        check.error(f"{path}.enforcement", f"enforcement {enforcement!r} is unknown", "use hard or soft")
    event_name = raw.get("provider_event_name", "") or ""
    if not isinstance(event_name, str):
        check.error(f"{path}.provider_event_name", "must be a string", "write the Stripe meter's event name")
        event_name = ""
    return MeterSpec(key=key, limit=limit, reset=str(reset), enforcement=str(enforcement),
                     provider_event_name=event_name)


def _parse_price(check: ProblemCollector, path: str, raw: Any) -> PriceSpec | None:
    if not isinstance(raw, dict):
        check.error(path, "a price must be a mapping", "write {interval: month, amount: 29, currency: usd}")
        return None
    interval = raw.get("interval")
    if interval not in INTERVALS:
        check.error(f"{path}.interval", f"interval {interval!r} is unknown", f"use one of {', '.join(INTERVALS)}")
    try:
        amount = Decimal(str(raw.get("amount")))
        if not amount.is_finite() or amount < 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        check.error(f"{path}.amount", f"amount {raw.get('amount')!r} is not a non-negative number",
                    "write the price in major units, e.g. 29 or 29.99")
        amount = Decimal(0)
    currency = raw.get("currency")
    if currency is None:
        check.error(f"{path}.currency", "the price has no currency", "add currency: usd (an ISO 4217 code)")
        currency = "usd"
    elif not (isinstance(currency, str) and re.fullmatch(r"[A-Za-z]{3}", currency)):
        check.error(f"{path}.currency", f"currency {currency!r} is not an ISO 4217 code", "write e.g. usd or eur")
        currency = "usd"
    price_id = raw.get("provider_price_id", "") or ""
    if not isinstance(price_id, str):
        check.error(f"{path}.provider_price_id", "must be a string", "write the Stripe price id, e.g. price_123")
        price_id = ""
    whole = amount == amount.to_integral_value()
    text = f"{amount.to_integral_value():f}" if whole else f"{amount.quantize(Decimal('0.01')):f}"  # 29.9 → 29.90
    return PriceSpec(interval=str(interval), amount=text, currency=currency.lower(), provider_price_id=price_id)


def parse_plan(check: ProblemCollector, path: str, raw: Any) -> PlanSpec | None:
    """Validate one plan mapping (also used by the admin form); problems go to ``check``."""
    if not isinstance(raw, dict):
        check.error(path, "a plan must be a mapping", "write {plan_id: pro, label: Pro, ...}")
        return None
    allowed = {"plan_id", "label", "description", "trial_days", "prices", "features", "limits", "meters"}
    for name in sorted(set(raw) - allowed):
        check.error(f"{path}.{name}", f"unknown plan setting {name!r}", f"allowed: {', '.join(sorted(allowed))}")
    plan_id = raw.get("plan_id")
    if not check.key(f"{path}.plan_id", plan_id, "plan_id"):
        plan_id = ""
    label = raw.get("label") or plan_id
    trial_days = check.count(f"{path}.trial_days", raw.get("trial_days", 0), allow_none=False) or 0
    if trial_days > 365:
        check.error(f"{path}.trial_days", f"a {trial_days}-day trial is longer than a year", "use 0 to 365 days")
    prices_raw = raw.get("prices") or []
    prices: list[PriceSpec] = []
    if not isinstance(prices_raw, list):
        check.error(f"{path}.prices", "prices must be a list", "write a list of {interval, amount, currency}")
        prices_raw = []
    for index, item in enumerate(prices_raw):
        price = _parse_price(check, f"{path}.prices[{index}]", item)
        if price is not None:
            prices.append(price)
    intervals = [price.interval for price in prices]
    if len(intervals) != len(set(intervals)):
        check.error(f"{path}.prices", "two prices share one interval", "give each interval one price")
    features: dict[str, bool] = {}
    for key, value in _mapping(check, f"{path}.features", raw.get("features")).items():
        if check.key(f"{path}.features.{key}", key, "feature") and not isinstance(value, bool):
            check.error(f"{path}.features.{key}", f"feature value {value!r} is not true/false", "write true or false")
        elif isinstance(value, bool):
            features[key] = value
    limits: dict[str, int | None] = {}
    for key, value in _mapping(check, f"{path}.limits", raw.get("limits")).items():
        if check.key(f"{path}.limits.{key}", key, "limit"):
            limits[key] = check.count(f"{path}.limits.{key}", value)
    meters: dict[str, MeterSpec] = {}
    for key, value in _mapping(check, f"{path}.meters", raw.get("meters")).items():
        if check.key(f"{path}.meters.{key}", key, "meter"):
            meter = _parse_meter(check, f"{path}.meters.{key}", key, value)
            if meter is not None:
                meters[key] = meter
    kinds = [set(features), set(limits), set(meters)]
    for clash in sorted((kinds[0] & kinds[1]) | (kinds[0] & kinds[2]) | (kinds[1] & kinds[2])):
        check.error(path, f"{clash!r} is declared as more than one of feature, limit and meter",
                    "give each entitlement key exactly one kind")
    return PlanSpec(plan_id=str(plan_id), label=str(label), description=str(raw.get("description") or ""),
                    trial_days=trial_days, prices=tuple(prices), features=features, limits=limits, meters=meters)


def _mapping(check: ProblemCollector, path: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        check.error(path, "must be a mapping of key: value", "write e.g. {export: true}")
        return {}
    return value


def _parse_keys(check: ProblemCollector, raw: Any) -> dict[str, KeySpec] | None:
    """The ``entitlements:`` section: every key's label (required), description and unit, by kind."""
    if raw is None:
        check.warning("entitlements", "the catalog declares no labels for its entitlement keys",
                      "add an 'entitlements:' section with features, limits and meters, each key with a label "
                      "(see docs/billing.md); until then pages show the keys themselves")
        return None
    if not isinstance(raw, dict):
        check.error("entitlements", "must be a mapping of features, limits and meters",
                    "write entitlements: {features: {...}, limits: {...}, meters: {...}}")
        return {}
    for name in sorted(set(raw) - set(KINDS)):
        check.error(f"entitlements.{name}", f"unknown section {name!r}", f"allowed: {', '.join(KINDS)}")
    keys: dict[str, KeySpec] = {}
    for section in KINDS:
        for key, spec in _mapping(check, f"entitlements.{section}", raw.get(section)).items():
            path = f"entitlements.{section}.{key}"
            if not check.key(path, key, KIND_OF_SECTION[section]):
                continue
            if not isinstance(spec, dict):
                check.error(path, "must be a mapping", "write {label: Seats, description: ..., unit: seat}")
                continue
            for name in sorted(set(spec) - {"label", "description", "unit"}):
                check.error(f"{path}.{name}", f"unknown setting {name!r}", "allowed: label, description, unit")
            label = spec.get("label")
            if not isinstance(label, str) or not label.strip():
                check.error(f"{path}.label", "the key has no label", "write the name a customer reads, e.g. "
                            "label: Seats")
                label = key
            if key in keys:
                check.error(path, f"{key!r} is declared as more than one kind", "give each key exactly one kind")
            keys[key] = KeySpec(key=key, kind=KIND_OF_SECTION[section], label=label.strip(),
                                description=str(spec.get("description") or ""), unit=str(spec.get("unit") or ""))
    return keys


def _check_declared(check: ProblemCollector, path: str, plan: PlanSpec, keys: dict[str, KeySpec] | None) -> None:
    """Every key a plan uses is declared in the ``entitlements:`` section with the same kind."""
    if keys is None:
        return
    for section, used in (("features", plan.features), ("limits", plan.limits), ("meters", plan.meters)):
        kind = KIND_OF_SECTION[section]
        known = sorted(key for key, spec in keys.items() if spec.kind == kind)
        for key in used:
            if keys.get(key) is None or keys[key].kind != kind:
                check.error(f"{path}.{section}.{key}", f"unknown {kind} key {key!r}",
                            f"declare it under entitlements.{section} with a label, or use one of: "
                            f"{', '.join(known) or '(none declared)'}")


def parse_catalog_text(text: str, file: str) -> tuple[Catalog | None, list[Problem]]:
    """Parse catalog YAML ``text``; returns the catalog (None on errors) and every problem."""
    check = ProblemCollector(file)
    try:
        data = load_yaml(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader), file)
    except DocumentTooComplex as exc:
        check.error("", exc.message, "write the catalog out plainly")
        return None, check.problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        check.error(where, f"YAML syntax error: {getattr(exc, 'problem', exc)}", "fix the YAML syntax at that line")
        return None, check.problems
    if not isinstance(data, dict):
        check.error("", "the catalog must be a mapping with default_plan_id and plans",
                    "start the file with 'default_plan_id: free' and 'plans:'")
        return None, check.problems
    for name in sorted(set(data) - {"default_plan_id", "plans", "entitlements"}):
        check.error(name, f"unknown top-level key {name!r}", "allowed: default_plan_id, entitlements, plans")
    keys = _parse_keys(check, data.get("entitlements"))
    plans_raw = data.get("plans")
    if not isinstance(plans_raw, list) or not plans_raw:
        check.error("plans", "no plans declared", "add at least one plan under 'plans:'")
        plans_raw = []
    plans: list[PlanSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(plans_raw):
        plan = parse_plan(check, f"plans[{index}]", raw)
        if plan is None or not plan.plan_id:
            continue
        if plan.plan_id in seen:
            check.error(f"plans[{index}].plan_id", f"plan_id {plan.plan_id!r} is declared twice", "rename one")
        seen.add(plan.plan_id)
        plans.append(plan)
        _check_declared(check, f"plans[{index}]", plan, keys)
    default = data.get("default_plan_id")
    if not default:
        check.error("default_plan_id", "default_plan_id is missing",
                    "name the plan organizations get without a subscription, e.g. 'default_plan_id: free'")
    elif default not in seen:
        check.error("default_plan_id", f"default_plan_id {default!r} is not a declared plan",
                    f"use one of: {', '.join(sorted(seen)) or '(no plans)'}")
    else:
        default_plan = next(plan for plan in plans if plan.plan_id == default)
        if any(price.amount != "0" and Decimal(price.amount) > 0 for price in default_plan.prices):
            check.warning("default_plan_id", f"the default plan {default!r} has a price",
                          "organizations get the default plan without paying; make it free")
    if any(problem.level == ERROR for problem in check.problems):
        return None, check.problems
    return Catalog(default_plan_id=str(default), plans=tuple(plans), path=Path(file), keys=keys or {}), check.problems


def load_catalog(path: Path | None = None) -> Catalog | None:
    """Load and validate the catalog file; None when the workspace has none; CatalogError on errors."""
    path = path or catalog_path()
    if not path.exists():
        return None
    catalog, problems = parse_catalog_text(path.read_text(encoding="utf-8"), str(path))
    if catalog is None:
        raise CatalogError([problem for problem in problems if problem.level == ERROR])
    return catalog


_KEYS_CACHE: dict[str, tuple[float, dict[str, KeySpec]]] = {}


def catalog_keys() -> dict[str, KeySpec]:
    """The workspace catalog's ``entitlements:`` section (re-read when the file changes; empty when absent/broken)."""
    path = catalog_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _KEYS_CACHE.get(str(path))
    if cached is None or cached[0] != mtime:
        catalog, _ = parse_catalog_text(path.read_text(encoding="utf-8"), str(path))
        cached = (mtime, dict(catalog.keys) if catalog is not None else {})
        _KEYS_CACHE[str(path)] = cached
    return cached[1]


def key_spec(key: str, kind: str = "") -> KeySpec:
    """How to show ``key``: its catalog label, else the key made readable ("tokens_monthly" → "Tokens monthly")."""
    spec = catalog_keys().get(key)
    if spec is not None:
        return spec
    return KeySpec(key=key, kind=kind, label=key.replace("_", " ").replace(".", " ").strip().capitalize() or key)


def validate_catalog_file() -> list[Problem]:
    """The ``billing`` validator of ``manage.py mozaiks validate``: every problem of the catalog file."""
    path = catalog_path()
    if not path.exists():
        return [Problem(WARNING, "billing.catalog_missing", str(path), "", "no plans catalog in the workspace",
                        "add config/subscriptions.yaml (see docs/billing.md); every organization is unmetered")]
    return parse_catalog_text(path.read_text(encoding="utf-8"), str(path))[1]
