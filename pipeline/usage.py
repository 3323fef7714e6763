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
from collections.abc import Iterable
from typing import NoReturn


class UsageError(Exception):
    """Arguments a user must fix; reported without a traceback, exit status 2."""


def suggest(word: str, choices: Iterable[str]) -> str | None:
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
    """Fail before a run starts when the spaCy model it names is missing or would not load.

    The launcher loads it once, as each worker will (``transforms.spacy_model``): a
    fraction of a second for the small English model, and the one check that sees
    every way a model can be broken (a config that does not parse, a component whose
    package is missing, a weights file cut short). ``blank`` always works; ``auto``
    falls back to it when no model is installed, but not past a broken one.
    """
    if model == "blank":
        return
    is_path = os.sep in model or model.startswith(".") or bool(os.altsep and os.altsep in model)
    if not is_path and model != "auto" and not _installed(model):
        if not os.path.isdir(model):  # spacy.load reads a name that is no package as a path
            raise UsageError(f"spaCy model {model!r} is not installed; install it with: "
                             f"{_install_command(model)}")
        is_path = True
    if is_path and not os.path.isfile(os.path.join(model, "config.cfg")):
        raise UsageError(f"spaCy model {model!r}: no saved spaCy pipeline there (config.cfg missing)")
    import warnings

    from newsbeam.transforms.spacy_model import load_model

    try:
        with warnings.catch_warnings():  # a version warning is not a failure: it loaded
            warnings.simplefilter("ignore")
            load_model(model)
    except Exception as exc:  # spaCy raises a different kind for each fault
        raise UsageError(f"spaCy model {model!r} cannot be loaded: {_reason(exc)}; "
                         f"{_fix(model, is_path, str(exc))}") from exc


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # "a.b" whose parent is missing, an empty name
        return False


def _install_command(name: str, again: bool = False) -> str:
    if _OFFICIAL_MODEL.match(name):  # spaCy's own models: its download command pips them
        return f"{sys.executable} -m spacy download {name}"
    flag = "--force-reinstall " if again else ""
    return f"{sys.executable} -m pip install {flag}{name.replace('_', '-')}"


def _reason(exc: BaseException) -> str:
    """An exception's message on one line. spaCy's coded errors lead with the fault
    (``[E002] Can't find factory for 'x'``); confection's end with it, after a title
    and advice (``File contains no section headers. line: 1 '[nlp'``)."""
    text = str(getattr(exc, "desc", None) or exc).strip() or type(exc).__name__
    parts = text.split("\n\n")
    reason = parts[0] if re.match(r"\[[EW]\d+\]", text) else parts[-1]
    reason = reason.replace("file: '<string>', ", "")
    where = _file_being_read(exc)
    if where and where not in reason:  # srsly's decode errors do not say which file
        reason = f"{where}: {reason}"
    return " ".join(line.strip() for line in reason.splitlines() if line.strip())[:200]


def _file_being_read(exc: BaseException) -> str:
    """The file srsly was reading when ``exc`` was raised (``meta.json``), if any."""
    tb, name = exc.__traceback__, ""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__", "").startswith("srsly"):
            found = frame.f_locals.get("path") or frame.f_locals.get("location")
            if isinstance(found, (str, os.PathLike)):
                name = os.path.basename(os.fspath(found)) or name
        tb = tb.tb_next
    return name


def _fix(model: str, is_path: bool, error: str) -> str:
    """How to mend a model that would not load: save it again (a path), install the
    package a component needs, or reinstall the model."""
    if "curated_transformer" in error or "spacy-transformers" in error:
        return f"a component needs its package: {sys.executable} -m pip install spacy-curated-transformers"
    if is_path:
        return "save the pipeline there again (nlp.to_disk), or name another with --spacy_model"
    if model == "auto":
        from newsbeam.transforms.spacy_model import AUTO_MODELS

        model = next((m for m in AUTO_MODELS if _installed(m)), AUTO_MODELS[0])
    return f"reinstall it with: {_install_command(model, again=True)}"


_OFFICIAL_MODEL = re.compile(r"^[a-z]{2,3}_(core|dep|ent)_[a-z]+_(sm|md|lg|trf)$")
