"""The Poe `parameters` a query carries: models.yaml's per-model defaults, with what the client
asked for on top. Pure: no I/O.

A bot Poe's list knows gets only the parameters it declares (Poe refuses others), each value
fitted to its declared schema (parameter_schema.py). The client's portable controls go to the
parameter the bot declares for the same thing, under the name Poe's list uses for it:

- effort (chat `reasoning_effort`, Anthropic `thinking` / `output_config.effort`) ->
  `reasoning_effort`, `thinking_level`, `output_effort`, ... as the nearest level the enum has;
- a thinking budget (Anthropic `thinking.budget_tokens`, chat `thinking`) -> `thinking_budget`,
  ... clamped to the declared minimum/maximum;
- a bot with only one of the two gets the other translated (`LEVEL_BUDGETS`), and a bot with
  an on/off switch (`enable_thinking`) gets it on unless the client asked for none;
- web search (chat `web_search_options` or `web_search`, Anthropic's web search server tool)
  -> `web_search` / `enable_web_search`; `verbosity` -> `verbosity`.

Parameters the client named itself (extra fields) reach the bot when declared and fitting.
Whatever the client asked for that reaches no declared parameter is dropped, and its name (as
the client spelled it) listed in `dropped`. A bot Poe's list does not know (a private bot)
declares nothing we could check: it gets the client's own parameters as they are, and the
portable controls only where the client used the control's own name (`reasoning_effort`,
`web_search`, `verbosity`); controls in another front's shape are dropped, as no name for
them can be known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from service.core.parameter_schema import UNFIT, fit, kind_of

if TYPE_CHECKING:
    from service.core.catalog import ResolvedModel
    from service.core.conversation import AnswerOptions

# The names Poe's model list uses for each control, the likeliest first (seen in the list:
# reasoning_effort on GPT and Grok bots, thinking_level on Gemini, output_effort on Claude 4.6,
# thinking_budget on other Claude bots, enable_thinking on GLM, enable_web_search on Qwen).
EFFORT_NAMES: Final = (
    "reasoning_effort",
    "thinking_level",
    "effort",
    "reasoning_level",
    "reasoning",
    "output_effort",
)
BUDGET_NAMES: Final = (
    "thinking_budget",
    "budget_tokens",
    "reasoning_budget",
    "thinking_tokens",
    "max_thinking_tokens",
)
SWITCH_NAMES: Final = ("enable_thinking", "thinking", "enable_reasoning", "reasoning")
WEB_SEARCH_NAMES: Final = ("web_search", "enable_web_search", "enable_search", "use_web_search")
VERBOSITY_NAMES: Final = ("verbosity", "text_verbosity")

# Each effort level's thinking budget in tokens, for bots that take only a budget, and the
# other way round (a budget is the highest level it reaches). Anthropic's smallest budget is
# 1024; 8192 and 24576 are the budgets routers commonly give medium and high.
LEVEL_BUDGETS: Final = {
    "none": 0,
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
    "max": 65536,
}
# The controls that may reach a private bot under their own names.
_PLAIN: Final = ("reasoning_effort", "thinking_budget", "web_search", "verbosity")


@dataclass(frozen=True, slots=True)
class BotParameters:
    values: dict[str, Any]
    dropped: tuple[str, ...] = ()  # what the client asked for and the bot was not sent


def bot_parameters(options: AnswerOptions, model: ResolvedModel) -> BotParameters:
    values = dict(model.parameters)
    controls = _controls(options)
    if model.entry is None:
        return _unlisted(options, controls, values)
    declared = model.declared_schemas
    chosen, delivered = _mapped(controls, declared)
    dropped = [options.named.get(c, c) for c in controls if c not in delivered]
    for name, value in options.parameters.items():
        fitted = fit(value, declared[name]) if name in declared else UNFIT
        if fitted is UNFIT:
            dropped.append(name)
        else:
            chosen[name] = fitted  # named by the client itself: over a mapped control
    values.update(chosen)
    # A field that carried two controls (Anthropic's `thinking`) counts once it delivered one.
    reached = {options.named.get(c, c) for c in delivered}
    return BotParameters(values, tuple(n for n in dict.fromkeys(dropped) if n not in reached))


def declared_web_search(model: ResolvedModel) -> str | None:
    """The parameter that turns web search on for this bot, if Poe's list declares one."""
    return _declared(WEB_SEARCH_NAMES, model.declared_schemas, "boolean")


def _controls(options: AnswerOptions) -> dict[str, Any]:
    given = {
        "reasoning_effort": options.reasoning_effort,
        "thinking_budget": options.thinking_budget,
        "thinking": options.thinking,
        "web_search": options.web_search,
        "verbosity": options.verbosity,
    }
    return {control: value for control, value in given.items() if value is not None}


def _unlisted(
    options: AnswerOptions, controls: dict[str, Any], values: dict[str, Any]
) -> BotParameters:
    dropped = []
    sent = dict(options.parameters)
    for control, value in controls.items():
        named = options.named.get(control, control)
        if control in _PLAIN and named == control:
            sent.setdefault(control, value)
        else:
            dropped.append(named)
    values.update(sent)
    return BotParameters(values, tuple(n for n in dict.fromkeys(dropped) if n not in sent))


def _mapped(
    controls: dict[str, Any], declared: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], set[str]]:
    """Declared parameter -> value for the controls, and the controls that reached one."""
    effort = controls.get("reasoning_effort")
    budget = controls.get("thinking_budget")
    thinking = controls.get("thinking")
    level = effort.lower() if isinstance(effort, str) else None
    wanted: dict[str, tuple[Any, str]] = {}  # parameter -> (value, the control it came from)

    # An effort and a budget each go to their own parameter; translated into the other only
    # where the bot declares just the other.
    effort_name = _declared(EFFORT_NAMES, declared, "string")
    budget_name = _declared(BUDGET_NAMES, declared, "number")
    if effort_name:
        if effort is not None:
            wanted[effort_name] = (effort, "reasoning_effort")
        elif budget is not None and not budget_name:
            wanted[effort_name] = (_budget_level(budget), "thinking_budget")
        elif thinking is False:
            wanted[effort_name] = ("none", "thinking")
    if budget_name:
        if budget is not None:
            wanted[budget_name] = (budget, "thinking_budget")
        elif level in LEVEL_BUDGETS and not effort_name:
            wanted[budget_name] = (LEVEL_BUDGETS[level], "reasoning_effort")
        elif thinking is False and not effort_name:
            wanted[budget_name] = (0, "thinking")  # fitted up to the declared minimum
    if name := _declared(SWITCH_NAMES, declared, "boolean"):
        if thinking is not None:
            wanted[name] = (thinking, "thinking")
        elif level is not None:
            wanted[name] = (level != "none", "reasoning_effort")
        elif budget is not None:
            wanted[name] = (budget > 0, "thinking_budget")
    if "web_search" in controls and (name := _declared(WEB_SEARCH_NAMES, declared, "boolean")):
        wanted[name] = (controls["web_search"], "web_search")
    if "verbosity" in controls and (name := _declared(VERBOSITY_NAMES, declared, "string")):
        wanted[name] = (controls["verbosity"], "verbosity")

    chosen: dict[str, Any] = {}
    delivered: set[str] = set()
    for name, (value, control) in wanted.items():
        fitted = fit(value, declared[name])
        if fitted is not UNFIT:
            chosen[name] = fitted
            delivered.add(control)
    if "thinking" in controls and delivered & {"reasoning_effort", "thinking_budget"}:
        delivered.add("thinking")  # thinking on, said by the effort or budget it came with
    return chosen, delivered


def _declared(names: tuple[str, ...], declared: dict[str, dict[str, Any]], kind: str) -> str | None:
    """The first of `names` the bot declares with a schema of that kind (or of none)."""
    for name in names:
        if name in declared:
            found = kind_of(declared[name])
            if found is None or found == kind or (kind == "number" and found == "integer"):
                return name
    return None


def _budget_level(budget: int) -> str:
    """The highest level whose budget `budget` reaches."""
    return max((b, level) for level, b in LEVEL_BUDGETS.items() if b <= max(budget, 0))[1]
