"""Binding bundle tools to a run: the run's own ``ContextVariables`` injected into every tool.

AG2's dependency injection hands a tool a validated *copy* of the context variables, so a
tool's writes never reach the handoff conditions. The engine therefore injects the run's
object itself and registers a wrapper without the ``context_variables`` parameter.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

CONTEXT_PARAMETER = "context_variables"


def call_to_completion(function: Callable[..., Any], **kwargs: Any) -> Any:
    """``function(**kwargs)`` from a run's thread; a coroutine it returns is run to completion on a
    private event loop (the run's thread has none of its own), as AG2 does for ``async`` tools."""
    result = function(**kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    return result


async def _awaited(result: Any) -> Any:
    return await result


def bind_context(function: Callable[..., Any], context: Any) -> Callable[..., Any]:
    """``function`` with ``context_variables=context`` pre-bound and hidden from the tool schema."""
    signature = inspect.signature(function)
    if CONTEXT_PARAMETER not in signature.parameters:
        return function
    if inspect.iscoroutinefunction(function):

        async def bound(*args: Any, **kwargs: Any) -> Any:
            return await function(*args, context_variables=context, **kwargs)

    else:

        def bound(*args: Any, **kwargs: Any) -> Any:
            return function(*args, context_variables=context, **kwargs)

    parameters = [param for name, param in signature.parameters.items() if name != CONTEXT_PARAMETER]
    bound.__name__ = function.__name__
    bound.__qualname__ = function.__qualname__
    bound.__doc__ = function.__doc__
    bound.__module__ = function.__module__
    bound.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    bound.__annotations__ = {
        name: value for name, value in getattr(function, "__annotations__", {}).items() if name != CONTEXT_PARAMETER
    }
    return bound
