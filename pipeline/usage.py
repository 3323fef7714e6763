"""What the command line says when it is used wrongly: one line, with a suggestion.

Light on purpose (no Beam, spaCy or trafilatura): ``newsbeam --help`` and a
mistyped command are answered from here before anything heavy is imported.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import re
import sys
from typing import Iterable, NoReturn, Optional


class UsageError(Exception):
    """Arguments a user must fix; reported without a traceback, exit status 2."""


def suggest(word: str, choices: Iterable[str]) -> Optional[str]:
    """The choice closest to a mistyped ``word``, if one is close enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(what: str, word: str, choices: Iterable[str]) -> str:
    """``unknown command 'backfil' — did you mean 'backfill'?``"""
    best = suggest(word, choices)
    return f"unknown {what} '{word}'" + (f" — did you mean '{best}'?" if best else "")


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions for s in action.option_strings if s.startswith("--")]


def one_line(parser: argparse.ArgumentParser, message: str) -> str:
    """An argparse error as one line: an unknown flag is named with the closest
    known one, and the line says where the full usage is."""
    see = f"(see '{parser.prog} --help')"
    if message.startswith("unrecognized arguments: "):
        flags = [a for a in message.split(": ", 1)[1].split() if a.startswith("-")]
        if flags:
            flag = flags[0].split("=", 1)[0]
            return f"{did_you_mean('option', flag, _option_strings(parser))} {see}"
        return f"unexpected argument {message.split(': ', 1)[1]!r} {see}"
    return f"{message} {see}"


class OneLineErrors:
    """Mixed into an ArgumentParser: errors raise :class:`UsageError` with one
    line instead of printing the whole usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(one_line(self, message))

    def parse_args(self, args=None, namespace=None):
        # An unknown flag first: argparse would rather report a required option
        # as missing when the user typed it wrong ("--ot" for "--out").
        known = set(_option_strings(self))
        for arg in sys.argv[1:] if args is None else args:
            if arg == "--":
                break
            flag = arg.split("=", 1)[0]
            # with a space it is a value, as argparse reads it ("-- a SQL comment")
            if arg.startswith("--") and len(flag.split()) == 1 and flag not in known:
                self.error(f"unrecognized arguments: {arg}")
        return super().parse_args(args, namespace)


class CommandParser(OneLineErrors, argparse.ArgumentParser):
    """The parser of a command that runs no pipeline (query, stats, report)."""


def check_spacy_model(model: str) -> None:
    """Fail before a run starts when the spaCy model it names is not installed.

    ``auto`` and ``blank`` always work (``transforms.spacy_model``); a path must
    hold a saved pipeline; a name must be an installed package. Only looked up,
    not loaded: loading takes seconds, and the workers load it anyway.
    """
    if model in ("auto", "blank"):
        return
    if os.sep in model or model.startswith("."):
        if not os.path.isfile(os.path.join(model, "config.cfg")):
            raise UsageError(f"spaCy model {model!r}: no saved spaCy pipeline there "
                             "(config.cfg missing)")
        return
    try:
        found = importlib.util.find_spec(model) is not None
    except (ImportError, ValueError):  # "a.b" whose parent is missing, an empty name
        found = False
    if not found:
        if _OFFICIAL_MODEL.match(model):  # spaCy's own models: its download command pips them
            install = f"{sys.executable} -m spacy download {model}"
        else:
            install = f"{sys.executable} -m pip install {model.replace('_', '-')}"
        raise UsageError(f"spaCy model {model!r} is not installed; install it with: {install}")


# Names of spaCy's released pipelines: en_core_web_sm, de_dep_news_trf, xx_ent_wiki_sm, ...
_OFFICIAL_MODEL = re.compile(r"^[a-z]{2,3}_(core|dep|ent)_[a-z]+_(sm|md|lg|trf)$")
