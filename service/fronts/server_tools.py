"""Built-in (server) tools of the fronts' APIs, such as web search, on Poe: a tool turns on
the bot parameter Poe's model list declares for it; a tool the bot declares no parameter for
is refused with a 400 naming it, never silently dropped."""

from __future__ import annotations

from typing import Any

from service.core.bot_parameters import declared_web_search
from service.core.engine import Engine
from service.errors import invalid

# (index in `tools`, the tool's type as the client sent it, the bot parameter it maps to or
# None for a tool no Poe bot can run)
WantedTool = tuple[int, str, str | None]


async def bot_parameters_for(
    engine: Engine, model: str, wanted: list[WantedTool], noun: str = "server tool"
) -> dict[str, Any]:
    """The bot parameters the wanted tools turn on (the model is resolved only when a tool is
    wanted, so plain requests cost nothing more)."""
    if not wanted:
        return {}
    resolved = await engine.resolve(model)
    declared = resolved.declared_schemas
    mapped: dict[str, Any] = {}
    for index, kind, parameter in wanted:
        if parameter == "web_search" and declared_web_search(resolved):
            mapped[parameter] = True  # under whichever name the bot declares for it
            continue
        if parameter is None:
            raise invalid(
                f"The {noun} `{kind}` is not available: Poe bots offer no such tool",
                param=f"tools[{index}]",
                code="unsupported_tool",
            )
        if parameter not in declared:
            raise invalid(
                f"The {noun} `{kind}` is not available for `{model}`: Poe declares no "
                f"`{parameter}` parameter for this bot",
                param=f"tools[{index}]",
                code="unsupported_tool",
            )
        mapped[parameter] = True
    return mapped
