"""The gate's CLI reference, generated from the parser the gate itself runs.

A hand-written reference drifts the first time an option is added; walking
:func:`checker.cli.build_parser` means the page lists exactly the commands,
options, defaults and help texts ``rune-policy --help`` would. Hidden options
(``help=argparse.SUPPRESS``, such as ``--today`` for tests) stay hidden.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from checker.docs.mdtables import code, escape, table


def _help(action: argparse.Action, prog: str) -> str:
    text = action.help or ""
    if "%" in text:
        params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
        params["prog"] = prog
        with contextlib.suppress(KeyError, TypeError, ValueError):  # literal % in help
            text = text % params
    return text


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return code(action.metavar if isinstance(action.metavar, str) else action.dest.upper())
    metavar = ""
    if action.nargs != 0:
        if isinstance(action.metavar, str):
            metavar = f" {action.metavar}"
        elif action.choices is not None:
            metavar = " {" + ",".join(str(c) for c in action.choices) + "}"
        else:
            metavar = f" {action.dest.upper()}"
    return ", ".join(code(f"{flag}{metavar}") for flag in action.option_strings)


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, [], ()):
        return ""
    return code(str(action.default))


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _section(parser: argparse.ArgumentParser, depth: int) -> list[str]:
    out = [f"{'#' * depth} `{parser.prog}`", ""]
    if parser.description:
        out += [escape(parser.description), ""]
    out += ["```text", parser.format_usage().strip(), "```", ""]
    rows = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        rows.append([_flags(action), escape(_help(action, parser.prog)), _default(action)])
    if rows:
        out += [table(["Argument", "What it does", "Default"], rows)]
    subs = list(_subcommands(parser))
    if subs:
        helps = {
            a.dest: a.help or ""
            for act in parser._actions
            if isinstance(act, argparse._SubParsersAction)
            for a in act._choices_actions
        }
        out.append(
            table(
                ["Command", "What it does"],
                [[code(f"{parser.prog} {name}"), escape(helps.get(name, ""))] for name, _ in subs],
            )
        )
    if parser.epilog:
        out += [escape(parser.epilog), ""]
    for _, sub in subs:
        out += _section(sub, min(depth + 1, 4))
    return out


def render_cli(parser: argparse.ArgumentParser) -> str:
    """Every command and subcommand: usage, description, options with help and defaults."""
    return "\n".join(_section(parser, 2)) + "\n"
