"""Bounded parsing of untrusted JSON and YAML: the one seam every socket frame, request body,
webhook, module action input and workspace document goes through.

Python's ``json`` and the YAML composers recurse once per nesting level, and so do the code
paths after them (schema validation, ``json.dumps`` into a ``JSONField``): a 6,000-byte
``[[[...]]]`` raised ``RecursionError`` where only ``ValueError`` was expected. Here a document is
refused *before* it is parsed when it nests deeper than ``MOZAIKS_PARSE_MAX_DEPTH`` or is larger
than its size limit, and a loaded YAML tree is walked once (without recursion) so an alias bomb
(``&a [*a, *a, ...]`` nested a few times expands to billions of nodes) or a self-referencing
alias is refused too. Every refusal is a :class:`DocumentTooComplex` naming the limit and the
setting that raises it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mozaiks_core.conf import mozaiks_settings

TOO_DEEP = "TOO_DEEP"
TOO_LARGE = "TOO_LARGE"
TOO_MANY_NODES = "TOO_MANY_NODES"

# A JSON string (the closing quote optional, so an unterminated one is consumed in one linear
# match instead of being retried from every later quote), and everything that is not a bracket.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class DocumentTooComplex(ValueError):
    """A document over a parsing limit; ``reason`` is ``TOO_DEEP``, ``TOO_LARGE`` or ``TOO_MANY_NODES``.

    A ``ValueError`` so that code written for "not valid JSON" refuses it too; the surfaces that
    answer clients catch it first and answer with its own code and message.
    """

    def __init__(self, reason: str, message: str, limit: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.limit = limit


@dataclass(frozen=True)
class ParseLimits:
    """How deep, how large and (YAML) how many nodes a document may be."""

    max_depth: int
    max_bytes: int
    max_nodes: int


def parse_limits() -> ParseLimits:
    """The configured limits (``MOZAIKS_PARSE_MAX_DEPTH``, ``_MAX_BYTES``, ``_MAX_NODES``)."""
    conf = mozaiks_settings()
    return ParseLimits(conf.parse_max_depth, conf.parse_max_bytes, conf.parse_max_nodes)


def _too_deep(what: str, limit: int) -> DocumentTooComplex:
    return DocumentTooComplex(
        TOO_DEEP, f"{what} nests more than {limit} levels deep; the limit is {limit} "
        "(MOZAIKS_PARSE_MAX_DEPTH). Send a flatter document.", limit)


def _too_large(what: str, size: int, limit: int, setting: str = "MOZAIKS_PARSE_MAX_BYTES") -> DocumentTooComplex:
    return DocumentTooComplex(
        TOO_LARGE, f"{what} has {'more than ' if size == _OVER else ''}{size if size != _OVER else limit} bytes; "
        f"the limit is {limit} bytes ({setting}). Send a smaller document.", limit)


def json_depth_exceeds(text: str | bytes, max_depth: int) -> bool:
    """Whether JSON ``text`` nests deeper than ``max_depth`` (brackets inside strings do not count).

    Exact for valid JSON; for invalid JSON it never says "not too deep" for a document the parser
    would recurse through. Linear time; a document with no more opening brackets than
    ``max_depth`` is answered from two ``count`` calls.
    """
    if isinstance(text, bytes):
        text = text.decode("latin-1")  # 1:1, and every byte JSON's structure uses is ASCII
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif depth:
            depth -= 1
    return False


def check_json(text: str | bytes, what: str = "The document", *, max_bytes: int | None = None,
               size_setting: str = "MOZAIKS_PARSE_MAX_BYTES", limits: ParseLimits | None = None) -> None:
    """Refuse JSON ``text`` over the size limit (``max_bytes``, named ``size_setting``, or the
    configured one) or nested too deep."""
    limits = limits or parse_limits()
    byte_limit = limits.max_bytes if max_bytes is None else max_bytes
    size = len(text) if isinstance(text, bytes) else _utf8_size(text, byte_limit)
    if size > byte_limit or size == _OVER:
        raise _too_large(what, size, byte_limit, size_setting)
    if json_depth_exceeds(text, limits.max_depth):
        raise _too_deep(what, limits.max_depth)


_OVER = -1  # a size known to be over the limit without encoding the text to count it


def _utf8_size(text: str, limit: int) -> int:
    """The UTF-8 size of ``text`` (:data:`_OVER` when its length alone exceeds ``limit``); text whose
    length decides the limit either way is not encoded."""
    if len(text) > limit:
        return _OVER
    if 4 * len(text) <= limit:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def loads_json(text: str | bytes, what: str = "The document") -> Any:
    """``json.loads`` after :func:`check_json`; raises :class:`DocumentTooComplex` or ``ValueError``."""
    check_json(text, what)
    return json.loads(text)


def check_tree(value: Any, what: str = "The document", limits: ParseLimits | None = None) -> Any:
    """Return ``value`` if its tree is within the depth and node limits, counting a shared (aliased)
    node each time it is reached, as every later walk of the tree would; else raise."""
    limits = limits or parse_limits()
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise DocumentTooComplex(
                TOO_MANY_NODES, f"{what} expands to more than {limits.max_nodes} values (YAML aliases count "
                "each time they are used); the limit is MOZAIKS_PARSE_MAX_NODES. Write the values out "
                "or use fewer aliases.", limits.max_nodes)
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, (list, tuple, set)):
            children = list(node)
        else:
            continue
        if depth > limits.max_depth:
            raise _too_deep(what, limits.max_depth)
        stack.extend((child, depth + 1) for child in children)
    return value


def load_yaml(text: str, loader: type, what: str = "The document") -> Any:
    """``yaml.load(text, loader)`` within the size, depth and node limits (``loader`` must be a safe loader)."""
    import yaml

    limits = parse_limits()
    size = _utf8_size(text, limits.max_bytes)
    if size > limits.max_bytes or size == _OVER:
        raise _too_large(what, size, limits.max_bytes)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 (callers pass safe loaders)
    except RecursionError:
        # The pure-Python composer recurses per level (libyaml stops at 1,000 levels by itself).
        raise _too_deep(what, limits.max_depth) from None
    return check_tree(data, what, limits)
