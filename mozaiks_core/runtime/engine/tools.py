"""Binding bundle tools to a run: off the event loop, the run's own ``ContextVariables`` injected.

Tools are the workflow author's code and may block (HTTP, the ORM, ``use_ui_tool``): each call
runs in a thread of its own while the run waits (:func:`~mozaiks_core.runtime.engine.on_loop.off_loop`).
AG2's dependency injection hands a tool a validated *copy* of the context variables, so a
tool's writes never reach the handoff conditions. The engine therefore injects the run's
object itself and registers a wrapper without the ``context_variables`` parameter.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from mozaiks_core.runtime.engine.on_loop import off_loop

CONTEXT_PARAMETER = "context_variables"


def call_to_completion(function: Callable[..., Any], **kwargs: Any) -> Any:
    """``function(**kwargs)`` off the event loop (:func:`off_loop`), run to completion: a coroutine it
    returns runs on a private event loop in that thread, as AG2 does for ``async`` tools."""
    return off_loop(_completed, function, (), kwargs)


def _completed(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = function(*args, **kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    return result


async def _awaited(result: Any) -> Any:
    return await result


def bind_context(function: Callable[..., Any], context: Any) -> Callable[..., Any]:
    """``function`` as AG2 gets it: synchronous, run off the event loop, ``context_variables=context``
    pre-bound and hidden from the tool schema when it takes them.

    AG2 never sees a coroutine function (it would wait for it on a thread it joins, which blocks
    the loop): an ``async`` tool runs to completion in the call's thread.
    """
    try:  # resolved now: the wrapper's module cannot resolve the tool module's string annotations
        signature = inspect.signature(function, eval_str=True)
    except (NameError, TypeError, SyntaxError):
        signature = inspect.signature(function)
    takes_context = CONTEXT_PARAMETER in signature.parameters

    def bound(*args: Any, **kwargs: Any) -> Any:
        if takes_context:
            kwargs[CONTEXT_PARAMETER] = context
        return off_loop(_completed, function, args, kwargs)

    parameters = [param for name, param in signature.parameters.items() if name != CONTEXT_PARAMETER]
    bound.__name__ = function.__name__
    bound.__qualname__ = function.__qualname__
    bound.__doc__ = function.__doc__
    bound.__module__ = function.__module__
    bound.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    bound.__annotations__ = {
        param.name: param.annotation for param in parameters if param.annotation is not inspect.Parameter.empty
    }
    if signature.return_annotation is not inspect.Signature.empty:
        bound.__annotations__["return"] = signature.return_annotation
    return bound
