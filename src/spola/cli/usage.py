"""Usage errors: the command's usage line, a hint, one ``Error:`` line with a did-you-mean, exit 2.

Typer bundles its own click, whose exceptions derive from `typer.TyperException`; they are read
here by their attributes only. Most carry the failing command's context; some (an option given
without its value) arrive without one, so the command is found again from the arguments.
"""

from __future__ import annotations

import difflib
import sys
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_USAGE = 2


def _command_path(root: Any, args: Sequence[str]) -> tuple[list[str], Any]:
    """The subcommands named in ``args`` (options skipped), and the innermost command."""
    names: list[str] = []
    command = root
    for arg in args:
        if arg.startswith("-"):
            continue
        commands = getattr(command, "commands", None)
        if not isinstance(commands, dict) or arg not in commands:
            break
        names.append(arg)
        command = commands[arg]
    return names, command


def long_options(command: Any) -> list[str]:
    """Every long option of ``command``, ``--help`` included."""
    return [
        name for param in getattr(command, "params", ()) for name in param.opts if name.startswith("--")
    ] + ["--help"]


def suggestion(command: Any, given: str) -> str | None:
    """The closest long option to ``given``: the one it is a prefix of, else the most similar one."""
    if not given.startswith("--"):
        return None
    options = long_options(command)
    prefixed = [name for name in options if name.startswith(given)]
    if len(prefixed) == 1:
        return prefixed[0]
    stripped = {name.lstrip("-"): name for name in options}
    close = difflib.get_close_matches(given.lstrip("-"), list(stripped), n=1, cutoff=0.6)
    return stripped[close[0]] if close else None


def show(exc: typer.TyperException, root: Any, args: Sequence[str], prog: str = "spola") -> int:
    """Print a usage error the way click does, with the command's usage line even without a context."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        command, usage, path = ctx.command, ctx.get_usage(), ctx.command_path
    else:
        names, command = _command_path(root, args)
        path = " ".join([prog, *names])
        with typer.Context(command, info_name=path) as fake:
            usage = command.get_usage(fake)
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    option = getattr(exc, "option_name", None)
    unknown = any(cls.__name__ == "NoSuchOption" for cls in type(exc).__mro__)
    if unknown and isinstance(option, str) and "Possible options" not in message:
        hint = suggestion(command, option)
        if hint is not None:
            message = f"{message} (did you mean {hint}?)"
    sys.stderr.write(f"{usage}\nTry '{path} -h' for help.\n\nError: {message}\n")
    return EXIT_USAGE
