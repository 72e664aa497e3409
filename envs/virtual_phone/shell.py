"""A tiny POSIX-sh lexer and interpreter that only ever calls built-in Python handlers.

Why: ``adb shell`` hands the device one string, and on a real phone ``/system/bin/sh -c`` interprets
it. To be a faithful test device the virtual phone must split that string exactly as sh would —
otherwise a driver that forgets to quote typed text would pass here and fail on a phone — yet it must
never run anything for real. So this module lexes and parses sh syntax (quotes, escapes, ``;``,
``&&``, ``||``, ``|``, ``&``, newlines, redirections, ``$VAR``, ``$(...)`` and backticks) and executes
each simple command by looking its name up in a table of Python handlers. Command substitutions are
executed the same way (they are what a real shell would have run) and every simple command that runs
is recorded as an argv list, so a test can see an injection attempt as an extra command. This module
is the syntax (lexer, parser, word expansion); ``interpreter.py`` runs what it parses.

Not supported (a syntax error or "not found", never execution): subshells ``( )``, here-documents,
control-flow keywords, globbing, arithmetic ``$(( ))``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "AndOr",
    "Part",
    "Pipeline",
    "Redirect",
    "ShellResult",
    "ShellSyntaxError",
    "SimpleCommand",
    "Word",
    "expand_word",
    "parse",
]

_OPERATOR_CHARS = ";&|()"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_VARS = "?$#!-@*0123456789"
_WS = " \t\n"


class ShellSyntaxError(Exception):
    """The command line is not valid sh; the message is what mksh would print after ``sh: ``."""


@dataclass(frozen=True)
class Part:
    """A piece of a word: literal text, a variable, or a command substitution.

    Args:
        kind: ``"lit"``, ``"var"`` or ``"subst"``.
        text: the literal text, the variable name, or the substituted command's source.
        quoted: whether it appeared inside quotes (quoted expansions are not field-split).
    """

    kind: str
    text: str
    quoted: bool


@dataclass(frozen=True)
class Word:
    """A shell word before expansion."""

    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Redirect:
    """``[fd]op target``: op is one of ``> >> < >& <&`` (``>|`` and ``<>`` are folded into ``>``/``<``)."""

    fd: int
    op: str
    target: Word


@dataclass
class SimpleCommand:
    """Assignments, words and redirections of one command, in source order."""

    assignments: list[Word] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Pipeline:
    """Commands joined by ``|``; ``negate`` for a leading ``!``."""

    commands: list[SimpleCommand]
    negate: bool = False


AndOr = list[tuple[str, Pipeline]]
"""Pipelines joined by ``&&``/``||``; the first operator is ``""``."""


@dataclass
class ShellResult:
    """What a command line produced: output chunks in order, per file descriptor, and the exit code."""

    chunks: list[tuple[int, bytes]] = field(default_factory=list)
    exit_code: int = 0
    disconnect: bool = False
    """Set by ``VirtualPhone.drop_connection_after``: the server drops the connection instead of replying."""

    @property
    def stdout(self) -> bytes:
        """Everything written to fd 1."""
        return b"".join(data for fd, data in self.chunks if fd == 1)

    @property
    def stderr(self) -> bytes:
        """Everything written to fd 2."""
        return b"".join(data for fd, data in self.chunks if fd == 2)

    @property
    def output(self) -> bytes:
        """stdout and stderr interleaved, as a shell without the v2 protocol delivers them."""
        return b"".join(data for _, data in self.chunks)


# ------------------------------------------------------------------------------------------------
# Lexer
# ------------------------------------------------------------------------------------------------
@dataclass
class _Token:
    kind: str  # "word", "op", "redir"
    word: Word | None = None
    op: str = ""
    fd: int = -1


class _Lexer:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.tokens: list[_Token] = []
        self.parts: list[Part] = []
        self.in_word = False
        self.lit = ""  # unquoted literal text being accumulated into parts

    # word building ---------------------------------------------------------------------------
    def _add(self, kind: str, text: str, quoted: bool) -> None:
        self._flush_lit()
        self.parts.append(Part(kind, text, quoted))
        self.in_word = True

    def _flush_lit(self) -> None:
        if self.lit:
            self.parts.append(Part("lit", self.lit, False))
            self.lit = ""

    def _end_word(self) -> None:
        self._flush_lit()
        if self.in_word:
            self.tokens.append(_Token("word", Word(tuple(self.parts))))
        self.parts, self.in_word = [], False

    def _pending_fd(self) -> int:
        """If the word so far is an unquoted number right before ``<``/``>``, it is an fd."""
        if not self.parts and self.lit.isdigit() and len(self.lit) == 1:
            fd, self.lit, self.in_word = int(self.lit), "", False
            return fd
        return -1

    # scanning ----------------------------------------------------------------------------------
    def run(self) -> list[_Token]:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t":
                self._end_word()
                self.i += 1
            elif c == "\n":
                self._end_word()
                self.tokens.append(_Token("op", op="\n"))
                self.i += 1
            elif c == "#" and not self.in_word and not self.lit:
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            elif c == "\\":
                self._backslash()
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("no closing quote")
                self._add("lit", s[self.i + 1 : end], True)
                self.i = end + 1
            elif c == '"':
                self._double_quoted()
            elif c == "`":
                self._add("subst", self._backquoted(), False)
            elif c == "$":
                self._dollar(quoted=False)
            elif c in "<>":
                self._redirect()
            elif c in _OPERATOR_CHARS:
                self._end_word()
                self._operator()
            else:
                self.lit += c
                self.in_word = True
                self.i += 1
        self._end_word()
        return self.tokens

    def _backslash(self) -> None:
        nxt = self.s[self.i + 1 : self.i + 2]
        if nxt == "\n":
            self.i += 2
        elif nxt:
            self._add("lit", nxt, True)
            self.i += 2
        else:
            self.lit += "\\"
            self.in_word = True
            self.i += 1

    def _double_quoted(self) -> None:
        s = self.s
        self.i += 1
        text = ""
        self.in_word = True
        self._flush_lit()
        self.parts.append(Part("lit", "", True))  # "" is still a (quoted, empty) word
        while True:
            if self.i >= len(s):
                raise ShellSyntaxError("no closing quote")
            c = s[self.i]
            if c == '"':
                self.i += 1
                break
            if c == "\\" and s[self.i + 1 : self.i + 2] in ("$", "`", '"', "\\", "\n"):
                if s[self.i + 1] != "\n":
                    text += s[self.i + 1]
                self.i += 2
            elif c in "$`":
                if text:
                    self.parts.append(Part("lit", text, True))
                    text = ""
                if c == "`":
                    self.parts.append(Part("subst", self._backquoted(), True))
                else:
                    self._dollar(quoted=True)
            else:
                text += c
                self.i += 1
        if text:
            self.parts.append(Part("lit", text, True))

    def _backquoted(self) -> str:
        s = self.s
        self.i += 1
        inner = ""
        while True:
            if self.i >= len(s):
                raise ShellSyntaxError("no closing quote")
            c = s[self.i]
            if c == "`":
                self.i += 1
                return inner
            if c == "\\" and s[self.i + 1 : self.i + 2] in ("`", "\\", "$"):
                inner += s[self.i + 1]
                self.i += 2
            else:
                inner += c
                self.i += 1

    def _dollar(self, quoted: bool) -> None:
        s = self.s
        nxt = s[self.i + 1 : self.i + 2]
        if nxt == "(":
            end = _matching_paren(s, self.i + 2)
            inner = s[self.i + 2 : end]
            if inner.startswith("(") and inner.endswith(")"):
                raise ShellSyntaxError("$((...)): arithmetic expansion not supported")
            self._add("subst", inner, quoted)
            self.i = end + 1
        elif nxt == "{":
            end = s.find("}", self.i + 2)
            if end < 0:
                raise ShellSyntaxError("${: missing '}'")
            name = s[self.i + 2 : end]
            self._add("var", re.split(r"[:#%/+=?-]", name, maxsplit=1)[0], quoted)
            self.i = end + 1
        elif nxt and nxt in _SPECIAL_VARS:
            self._add("var", nxt, quoted)
            self.i += 2
        else:
            match = _NAME.match(s, self.i + 1)
            if match:
                self._add("var", match.group(), quoted)
                self.i = match.end()
            elif quoted:
                self.parts.append(Part("lit", "$", True))
                self.i += 1
            else:
                self.lit += "$"
                self.in_word = True
                self.i += 1

    def _operator(self) -> None:
        s = self.s
        c = s[self.i]
        two = s[self.i : self.i + 2]
        if c in "()":
            raise ShellSyntaxError(f"'{c}' unexpected")
        if two in ("&&", "||", ";;"):
            if two == ";;":
                raise ShellSyntaxError("';;' unexpected")
            self.tokens.append(_Token("op", op=two))
            self.i += 2
        else:
            self.tokens.append(_Token("op", op=c))
            self.i += 1

    def _redirect(self) -> None:
        fd = self._pending_fd()
        self._end_word()
        s = self.s
        c = s[self.i]
        two = s[self.i : self.i + 2]
        if two == "<<":
            raise ShellSyntaxError("here documents are not supported")
        if two in (">>", ">&", "<&"):
            op = two
        elif two in (">|", "<>"):
            op = c
        else:
            op, two = c, c
        self.i += len(two)
        if fd < 0:
            fd = 0 if op[0] == "<" else 1
        self.tokens.append(_Token("redir", op=op, fd=fd))


def _matching_paren(s: str, start: int) -> int:
    """Index of the ``)`` closing a ``$(`` whose body starts at ``start``, skipping quotes."""
    depth, i = 1, start
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("no closing quote")
            i = end + 1
            continue
        if c == '"':
            i += 1
            while i < len(s) and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
            if i >= len(s):
                raise ShellSyntaxError("no closing quote")
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError("'(' unmatched")


# ------------------------------------------------------------------------------------------------
# Parser
# ------------------------------------------------------------------------------------------------
def _is_assignment(word: Word) -> bool:
    first = word.parts[0] if word.parts else None
    if first is None or first.kind != "lit" or first.quoted:
        return False
    name, eq, _ = first.text.partition("=")
    return bool(eq) and _NAME.fullmatch(name) is not None


def parse(source: str) -> list[tuple[AndOr, bool]]:
    """Parse a command line into and-or lists, each with a flag telling whether it ended in ``&``.

    Raises:
        ShellSyntaxError: unterminated quotes, misplaced operators, unsupported syntax.
    """
    tokens = _Lexer(source).run()
    lists: list[tuple[AndOr, bool]] = []
    current: AndOr = []
    pipeline: list[SimpleCommand] = []
    command = SimpleCommand()
    negate = False
    joiner = ""
    i = 0

    def command_empty() -> bool:
        return not (command.words or command.assignments or command.redirects)

    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "word" and tok.word is not None:
            if command_empty() and not pipeline and not negate and tok.word.parts == (Part("lit", "!", False),):
                negate = True
            elif not command.words and _is_assignment(tok.word):
                command.assignments.append(tok.word)
            else:
                command.words.append(tok.word)
        elif tok.kind == "redir":
            target = tokens[i + 1] if i + 1 < len(tokens) else None
            if target is None or target.kind != "word" or target.word is None:
                after = target.op if target is not None else "newline"
                raise ShellSyntaxError(f"{tok.op}: missing argument" if after == "\n" else f"'{after}' unexpected")
            command.redirects.append(Redirect(tok.fd, tok.op, target.word))
            i += 1
        elif tok.op == "|":
            if command_empty():
                raise ShellSyntaxError("'|' unexpected")
            pipeline.append(command)
            command = SimpleCommand()
        elif tok.op in ("&&", "||"):
            if command_empty():
                raise ShellSyntaxError(f"'{tok.op}' unexpected")
            pipeline.append(command)
            current.append((joiner, Pipeline(pipeline, negate)))
            pipeline, command, negate, joiner = [], SimpleCommand(), False, tok.op
        else:  # ; & newline
            if command_empty():
                if pipeline or joiner:
                    if tok.op == "\n":
                        i += 1
                        continue  # a newline may follow | && ||
                    raise ShellSyntaxError(f"'{tok.op}' unexpected")
                if tok.op != "\n":
                    raise ShellSyntaxError(f"'{tok.op}' unexpected")
            else:
                pipeline.append(command)
                current.append((joiner, Pipeline(pipeline, negate)))
                lists.append((current, tok.op == "&"))
                current, pipeline, command, negate, joiner = [], [], SimpleCommand(), False, ""
        i += 1
    if command_empty():
        if pipeline or joiner:
            raise ShellSyntaxError("unexpected EOF")
    else:
        pipeline.append(command)
        current.append((joiner, Pipeline(pipeline, negate)))
        lists.append((current, False))
    return lists


# ------------------------------------------------------------------------------------------------
# Word expansion (the interpreter supplies how variables and substitutions resolve)
# ------------------------------------------------------------------------------------------------
def expand_word(word: Word, resolve: Callable[[Part], str], split: bool = True) -> list[str]:
    """Expand a word into fields: literals kept, unquoted expansions split on blanks.

    Args:
        word: the word.
        resolve: returns the text of a ``var`` or ``subst`` part.
        split: False for assignment values and redirect targets (one field, no splitting).
    """
    fields: list[str] = []
    current: list[str] = []
    has = False

    def flush() -> None:
        nonlocal current, has
        fields.append("".join(current))
        current, has = [], False

    for part in word.parts:
        value = part.text if part.kind == "lit" else resolve(part)
        if part.kind == "lit" or part.quoted or not split:
            current.append(value)
            has = has or part.quoted or bool(value)
            continue
        if not value:
            continue
        pieces = value.split()
        if value[0] in _WS and has:
            flush()
        for k, piece in enumerate(pieces):
            if k:
                flush()
            current.append(piece)
            has = True
        if value[-1] in _WS and has:
            flush()
    if has:
        flush()
    if not split:
        return ["".join(fields)]
    return fields
