"""License strings to SPDX expressions, and the one evaluator that judges them.

Peer gates disagree on the basics: some pass ``MIT AND AGPL-3.0-only``, some
block ``MIT OR AGPL-3.0-only``. Here every expression goes through one path:

1. *normalize*: the string an input gave (an SPDX expression, a free-text
   name, a trove classifier, a comma-joined list, a dual-license sentence) is
   mapped to an SPDX expression through the policy's tables (names, phrase
   patterns, filler words), operand by operand, and parsed with
   license-expression, which also maps deprecated ids (``GPL-2.0`` ->
   ``GPL-2.0-only``). Text that still cannot be read but names a license
   family the policy lists (AGPL, SSPL, ...) is read as that family, which
   can be denied but never allowed. Every step is recorded for ``explain``.
2. *evaluate*: each leaf (a license, or ``license WITH exception`` as its own
   licensee) is allowed, denied or unknown under the policy for the
   component's kind and dependency scope, by explicit id first and by
   ScanCode LicenseDB category after; ``OR`` passes if any branch passes,
   ``AND`` needs every part. Unknown is never allowed: it is its own outcome,
   reported fail-closed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    get_spdx_licensing,
)

from checker.model import Kind

_LICENSING = get_spdx_licensing()

#: Strings that say "no license information", not a license.
NO_ASSERTION = frozenset({"noassertion", "none", "unknown", "other", "n/a", ""})

_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text.strip()).casefold()


class Outcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class NormalizationRule:
    """One row of the normalization table: names that mean one SPDX expression."""

    names: tuple[str, ...]
    spdx: str
    ambiguous: bool = False
    line: int = 0


@dataclass(slots=True)
class Normalized:
    """The result of turning one license string into an SPDX expression."""

    original: str
    expression: str | None = None
    steps: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    error: str | None = None
    parsed: Any = None

    @property
    def ok(self) -> bool:
        return self.expression is not None and self.error is None


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """One row of ``phrases``: a pattern a whole name must match, and its SPDX expression.

    Patterns, not names, because free text varies in ways a list cannot keep
    up with ("GNU AFFERO GPL 3.0", "GNU Affero General Public License v3"):
    one reviewed pattern covers the spellings of one license, and its line is
    shown in the trace like a ``normalize`` row's.
    """

    pattern: re.Pattern[str]
    spdx: str
    ambiguous: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class FillerRule:
    """One row of ``filler``: words around the names that state no license.

    "Dual Licensed - X or Y" names two licenses; "Dual Licensed -" names
    none and would otherwise stop the sentence from being read. ``choice``
    records that the words offer a choice, so "and", commas and slashes
    between the names that follow read as OR (recorded as ambiguous).
    """

    pattern: re.Pattern[str]
    choice: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class MentionRule:
    """One row of ``mentions``: a license family that unreadable text may name.

    Text the tables cannot read but that says "Affero" is not merely unknown:
    it names a license the policy has an opinion on. The family becomes the
    licensee :data:`MENTION_PREFIX` + ``family``, judged as ``judged_as``
    would be when that is denied, and unknown otherwise: a mention can fail a
    component, never pass one.
    """

    pattern: re.Pattern[str]
    family: str
    judged_as: str
    line: int = 0

    @property
    def licensee(self) -> str:
        return f"{MENTION_PREFIX}{self.family}"


#: How the licensee of a mention begins (see :class:`MentionRule`).
MENTION_PREFIX = "LicenseRef-rune-mentions-"

#: Free text "X or later" is one name, never the choice "X" OR "later".
_OPERATOR_SPLIT = re.compile(
    r"(\(|\)|\s+(?:AND|OR|WITH|and|or|with)\s+"
    r"(?!(?i:\s*(?:\(at your option\)\s*)?(?:any\s+)?(?:later|newer)\b)))"
)
#: A comma part that continues the name before it ("LGPL, version 2.1").
_CONTINUES = re.compile(
    r"(?:(?:v|ver|version|rev|revision)\.?\s*\d|\d+(?:\.\d+)*\s*$|or\b.*\blater\b)", re.IGNORECASE
)
#: Separators between alternatives in free text ("MIT/GPLv3", Trivy's "A | B").
_ALTERNATIVES = re.compile(r"\s*/\s*|\s+\|\s+")
#: How many tokens one name may span (a name holds at most a few operators).
_NAME_WINDOW = 8


class _Hit(NamedTuple):
    """A name found in the tables: its SPDX expression and which row said so."""

    spdx: str
    ambiguous: bool
    where: str


class Normalizer:
    """Maps input license strings to parsed SPDX expressions, with a trace.

    The tables are tried on the whole string, then on the names inside it:
    filler words removed, a top-level comma list split (a part that only
    continues a name, "LGPL, version 2.1", stays with it), then each operand
    of AND/OR/WITH, where runs of operands that together form a known name
    ("GNU Library or Lesser General Public License") are kept whole. Text
    that still does not parse but mentions a license family the policy lists
    under ``mentions`` is read as that family (see :class:`MentionRule`).
    """

    def __init__(
        self,
        rules: Sequence[NormalizationRule],
        phrases: Sequence[PhraseRule] = (),
        filler: Sequence[FillerRule] = (),
        mentions: Sequence[MentionRule] = (),
    ) -> None:
        self._table: dict[str, NormalizationRule] = {}
        for rule in rules:
            for name in rule.names:
                self._table.setdefault(_key(name), rule)
        self._phrases = tuple(phrases)
        self._filler = tuple(filler)
        self._mentions = tuple(mentions)
        self._cache: dict[str, Normalized] = {}
        self._names: dict[str, _Hit | None] = {}

    def lookup(self, text: str) -> NormalizationRule | None:
        return self._table.get(_key(text))

    @property
    def phrases(self) -> tuple[PhraseRule, ...]:
        return self._phrases

    @property
    def filler(self) -> tuple[FillerRule, ...]:
        return self._filler

    @property
    def mentions(self) -> tuple[MentionRule, ...]:
        return self._mentions

    def normalize(self, text: str) -> Normalized:
        cached = self._cache.get(text)
        if cached is None:
            cached = self._normalize(text)
            if len(self._cache) < 100_000:
                self._cache[text] = cached
        return cached

    def _normalize(self, text: str) -> Normalized:
        result = Normalized(original=text)
        stripped = text.strip()
        if _key(stripped) in NO_ASSERTION:
            result.error = f"{text!r} states no license"
            return result
        if len(stripped) > 2000:
            result.error = (
                "license text is over 2,000 characters: a license body, not an expression"
            )
            return result
        try:
            candidate = self._substitute(stripped, result)
        except _Unreadable as exc:
            result.error = str(exc)
            candidate = None
        error = _parse_into(result, candidate)
        if error is not None:
            result.error = error
            self._mentioned(stripped, result)
        return result

    def _name(self, text: str) -> _Hit | None:
        """The table row or phrase that ``text`` as a whole is a name of."""
        key = _key(text)
        if key in self._names:
            return self._names[key]
        hit: _Hit | None = None
        rule = self._table.get(key)
        if rule is not None:
            where = f"licenses.yaml line {rule.line}" if rule.line else ""
            hit = _Hit(rule.spdx, rule.ambiguous, where)
        elif self._phrases and key:
            collapsed = _SPACES.sub(" ", text.strip())
            for phrase in self._phrases:
                if phrase.pattern.fullmatch(collapsed):
                    where = f"phrase, licenses.yaml line {phrase.line}" if phrase.line else "phrase"
                    hit = _Hit(phrase.spdx, phrase.ambiguous, where)
                    break
        if len(self._names) < 100_000:
            self._names[key] = hit
        return hit

    def _substitute(self, text: str, result: Normalized) -> str | None:
        """Apply the tables to the whole string, else to the names inside it."""
        whole = self._name(text)
        if whole is not None:
            self._record(result, text, whole)
            return whole.spdx
        cleaned, choice = self._strip_filler(text, result)
        if not cleaned:
            result.error = f"{text!r} names no license"
            return None
        if cleaned != text:
            whole = self._name(cleaned)
            if whole is not None:
                self._record(result, cleaned, whole)
                return whole.spdx
        parts = _comma_parts(cleaned)
        if len(parts) > 1:
            joiner = "OR" if choice else "AND"
            mapped = [f"({self._operands(part, result, choice)})" for part in parts]
            result.steps.append(
                f"comma-joined list {cleaned!r} read as {joiner} of {len(parts)} parts"
            )
            if choice:
                result.ambiguous.append(f"{cleaned!r}: the list read as a choice (OR)")
            return f" {joiner} ".join(mapped)
        return self._operands(cleaned, result, choice)

    def _strip_filler(self, text: str, result: Normalized) -> tuple[str, bool]:
        """``text`` without the filler words; True when they offered a choice."""
        choice = False
        for rule in self._filler:
            stripped = rule.pattern.sub(" ", text)
            if stripped == text:
                continue
            stripped = _SPACES.sub(" ", stripped).strip(" -\u2013\u2014:;,")
            where = f" (licenses.yaml line {rule.line})" if rule.line else ""
            result.steps.append(f"filler removed: {text!r} -> {stripped!r}{where}")
            text = stripped
            choice = choice or rule.choice
        return text, choice

    def _operands(self, text: str, result: Normalized, choice: bool) -> str:
        """Map each operand of an AND/OR/WITH expression; keep known names whole."""
        tokens = [t for t in _OPERATOR_SPLIT.split(text) if t]
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            bare = token.strip()
            if not bare or bare in "()":
                out.append(token)
                i += 1
                continue
            if _is_operator(token):
                operator = bare.upper()
                if choice and bare == "and":
                    operator = "OR"
                    result.steps.append("'and' read as OR: the text offers a choice")
                    result.ambiguous.append(f"{text!r}: 'and' read as a choice (OR)")
                out.append(f" {operator} ")
                i += 1
                continue
            end, hit = self._longest_name(tokens, i)
            if hit is not None:
                span = "".join(tokens[i : end + 1])
                name = span.strip()
                if end > i or _key(hit.spdx) != _key(name):
                    self._record(result, name, hit)
                lead = span[: len(span) - len(span.lstrip())]
                trail = span[len(span.rstrip()) :]
                out.append(f"{lead}{_operand(hit.spdx)}{trail}")
                i = end + 1
                continue
            out.append(self._free_text(self._alternatives(token, result), result))
            i += 1
        return "".join(out)

    def _free_text(self, token: str, result: Normalized) -> str:
        """An operand no table maps: kept for license-expression if it may be an id,
        read by the families it mentions if it is prose that mentions one."""
        bare = token.strip()
        if " " not in bare or bare.startswith("("):
            return token
        if _UNSPLIT.search(bare):
            # license-expression would read "X or later" as the choice X OR later.
            raise _Unreadable(f"{bare!r} is free text ('or later') that no table maps")
        mentioned = self._mentions_in(bare, result)
        if not mentioned:
            return token
        lead = token[: len(token) - len(token.lstrip())]
        trail = token[len(token.rstrip()) :]
        return f"{lead}{_operand(mentioned)}{trail}"

    def _longest_name(self, tokens: list[str], start: int) -> tuple[int, _Hit | None]:
        """The last token of the longest known name starting at ``tokens[start]``."""
        last = min(len(tokens) - 1, start + _NAME_WINDOW)
        for end in range(last, start - 1, -1):
            tail = tokens[end].strip()
            if not tail or tail == "(" or _is_operator(tokens[end]):
                continue
            span = "".join(tokens[start : end + 1])
            if span.count("(") != span.count(")"):
                continue
            hit = self._name(span)
            if hit is not None:
                return end, hit
        return start, None

    def _alternatives(self, token: str, result: Normalized) -> str:
        """ "MIT/GPLv3" as ``MIT OR GPL-3.0-only`` when every alternative is a known name."""
        bare = token.strip()
        pieces = [p.strip() for p in _ALTERNATIVES.split(bare)]
        if len(pieces) < 2 or not all(pieces):
            return token
        mapped: list[str] = []
        for piece in pieces:
            hit = self._name(piece)
            if hit is not None:
                self._record(result, piece, hit)
                mapped.append(_operand(hit.spdx))
            elif _SPDX_ID.fullmatch(piece) and _known(piece):
                mapped.append(piece)
            else:
                return token
        result.steps.append(f"alternatives {bare!r} read as OR of {len(pieces)} names")
        result.ambiguous.append(f"{bare!r}: '/' or '|' read as a choice (OR)")
        lead = token[: len(token) - len(token.lstrip())]
        trail = token[len(token.rstrip()) :]
        return f"{lead}({' OR '.join(mapped)}){trail}"

    def _mentions_in(self, text: str, result: Normalized) -> str | None:
        """The licensees of the families ``text`` mentions (AND), steps recorded; or None."""
        if not self._mentions:
            return None
        collapsed = _SPACES.sub(" ", text)
        taken: list[tuple[int, int]] = []
        found: list[tuple[MentionRule, str]] = []
        for rule in self._mentions:
            for match in rule.pattern.finditer(collapsed):
                start, end = match.span()
                if start == end or any(s < end and start < e for s, e in taken):
                    continue
                taken.append((start, end))
                if all(rule.family != seen.family for seen, _ in found):
                    found.append((rule, match.group(0)))
        for rule, said in found:
            where = f", licenses.yaml line {rule.line}" if rule.line else ""
            result.steps.append(
                f"{text!r} mentions {rule.family} ({said!r}{where}): read as "
                f"{rule.licensee}, judged as {rule.judged_as} where that is denied; "
                "a mention never allows"
            )
        return " AND ".join(rule.licensee for rule, _ in found) or None

    def _mentioned(self, text: str, result: Normalized) -> None:
        """Read unreadable ``text`` as the license families it mentions, if any."""
        probe = Normalized(original=text)
        expression = self._mentions_in(text, probe)
        if expression is None or _parse_into(probe, expression) is not None:
            return
        result.steps.append(f"{result.error}; read by the families the text mentions")
        result.steps.extend(probe.steps)
        result.expression, result.parsed = probe.expression, probe.parsed
        result.ambiguous.clear()
        result.error = None

    @staticmethod
    def _record(result: Normalized, text: str, hit: _Hit) -> None:
        note = " (ambiguous)" if hit.ambiguous else ""
        where = f" ({hit.where})" if hit.where else ""
        result.steps.append(f"normalized {text!r} -> {hit.spdx!r}{where}{note}")
        if hit.ambiguous:
            result.ambiguous.append(f"{text!r} -> {hit.spdx!r}")


_SPDX_ID = re.compile(r"[A-Za-z0-9.+-]+")
_OPERATORS = frozenset({"AND", "OR", "WITH"})
#: An operator word left inside one operand: the split refused to cut "X or later".
_UNSPLIT = re.compile(r"\s(?:or|and)\s", re.IGNORECASE)


class _Unreadable(Exception):
    """Raised inside normalization for text no table maps and no parser may guess at."""


def _is_operator(token: str) -> bool:
    """True for an AND/OR/WITH token of the split (surrounded by whitespace)."""
    return token[:1].isspace() and token.strip().upper() in _OPERATORS


def _operand(spdx: str) -> str:
    """A mapped name as an operand: compound expressions in parentheses, a single id
    bare (license-expression refuses ``(X) WITH (e)``)."""
    return f"({spdx})" if " " in spdx.strip() else spdx.strip()


def _comma_parts(text: str) -> list[str]:
    """Top-level comma-separated parts; a part that continues a name stays with it."""
    parts: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    merged: list[str] = []
    for part in parts:
        if merged and _CONTINUES.match(part.strip()):
            merged[-1] = f"{merged[-1]},{part}"
        else:
            merged.append(part)
    return [p.strip() for p in merged if p.strip()]


def _parse_into(result: Normalized, candidate: str | None) -> str | None:
    """Parse ``candidate`` into ``result``; the problem, or None when it is SPDX."""
    if candidate is None:
        return result.error or "not an SPDX expression"
    try:
        parsed = _LICENSING.parse(candidate, validate=False, simple=False)
    except (ExpressionError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        return f"not an SPDX expression: {_clean_error(exc)}"
    except Exception as exc:  # license-expression raises odd types on odd input
        return f"not an SPDX expression: {type(exc).__name__}"
    if parsed is None:
        return "empty license expression"
    problem = _structure_problem(parsed)
    if problem:
        return problem
    rendered = str(parsed)
    if rendered != candidate:
        result.steps.append(f"parsed as SPDX: {candidate!r} -> {rendered!r}")
    else:
        result.steps.append(f"parsed as SPDX: {rendered!r}")
    result.expression = rendered
    result.parsed = parsed
    return None


def _clean_error(exc: BaseException) -> str:
    message = str(exc).split("\n", 1)[0]
    return message[:200] if message else type(exc).__name__


def _structure_problem(node: Any) -> str | None:
    """Reject shapes license-expression parses but SPDX does not allow."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, LicenseWithExceptionSymbol):
            if not getattr(current.exception_symbol, "is_exception", True) and _known(
                current.exception_symbol.key
            ):
                return f"{current.exception_symbol.key!r} is a license, not a WITH exception"
            continue
        if isinstance(current, LicenseSymbol):
            if current.is_exception:
                return f"{current.key!r} is an exception and can only follow WITH"
            continue
        stack.extend(getattr(current, "args", ()))
    return None


@lru_cache(maxsize=4096)
def _known(key: str) -> bool:
    """True when license-expression knows ``key`` as an SPDX license or exception."""
    try:
        return not _LICENSING.unknown_license_keys(key)
    except Exception:
        return False


@dataclass(frozen=True, slots=True)
class DenyRule:
    patterns: tuple[str, ...]
    reason: str
    except_kinds: frozenset[str] = frozenset()
    line: int = 0

    def matches(self, key: str) -> str | None:
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(key.casefold(), pattern.casefold()):
                return pattern
        return None


@dataclass(frozen=True, slots=True)
class AllowedWith:
    expression: str
    reason: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """Licenses allowed or denied by their ScanCode LicenseDB category.

    ``categories`` are spelled as the index spells them ("Proprietary Free").
    An explicit id anywhere in the policy outranks a category, and a license
    whose category the index does not know is not decided by category.
    """

    categories: tuple[str, ...]
    reason: str = ""
    except_kinds: frozenset[str] = frozenset()
    line: int = 0

    def matches(self, category: str | None) -> bool:
        return category is not None and category in self.categories


@dataclass(frozen=True, slots=True)
class ScopeRules:
    """Extra allowances for the components of one dependency scope (``scopes``).

    A scope section only adds: its ``allowed`` ids outrank the main policy's
    denials, its categories outrank the main policy's category denials, and
    everything it does not name is judged by the main policy. So AGPL stays
    denied in dev scope unless the section lists it explicitly.
    """

    name: str
    reason: str
    allowed: tuple[str, ...] = ()
    allowed_categories: tuple[str, ...] = ()
    line: int = 0


def _where(line: int) -> str:
    return f" (licenses.yaml line {line})" if line else ""


@dataclass(frozen=True, slots=True)
class LeafDecision:
    """How one licensee (a license, or a license WITH an exception) was judged."""

    licensee: str
    outcome: Outcome
    rule: str


@dataclass(slots=True)
class Evaluation:
    """The verdict on one expression for one component kind, with its reasons."""

    expression: str
    outcome: Outcome
    leaves: list[LeafDecision]
    chosen: str | None = None

    def deciding(self) -> list[LeafDecision]:
        """The leaves that made the outcome what it is (for messages)."""
        if self.outcome is Outcome.ALLOW:
            return [leaf for leaf in self.leaves if leaf.outcome is Outcome.ALLOW]
        return [leaf for leaf in self.leaves if leaf.outcome is self.outcome]


class LicenseRules:
    """The license policy as an evaluator: deny rules, WITH allowances, allow list,
    categories, scope sections and the license families free text may mention.

    A leaf is judged in this order: an exact ``allowed_with`` pair; for
    ``X WITH e``, a denial of the exception ``e``; the scope section's
    ``allowed`` ids; the ``denied`` rules; the ``allowed`` ids; the scope
    section's categories; ``denied_categories``; ``allowed_categories``; then
    a known SPDX id is denied (not on the allowed list) and anything else is
    unknown. Explicit ids come before categories, and a scope section only
    ever adds allowances.
    """

    def __init__(
        self,
        denied: Sequence[DenyRule],
        allowed_with: Sequence[AllowedWith],
        allowed: Iterable[str],
        *,
        allowed_categories: Sequence[CategoryRule] = (),
        denied_categories: Sequence[CategoryRule] = (),
        category_of: Callable[[str], str | None] | None = None,
        scopes: Sequence[ScopeRules] = (),
        mentions: Sequence[MentionRule] = (),
    ) -> None:
        self.denied = list(denied)
        self.allowed_with = {_key(a.expression): a for a in allowed_with}
        self.allowed = [a.casefold() for a in allowed]
        self.allowed_categories = list(allowed_categories)
        self.denied_categories = list(denied_categories)
        self.scopes = {s.name.casefold(): s for s in scopes}
        self.mentions = {m.licensee.casefold(): m for m in mentions}
        uses_categories = (
            self.allowed_categories
            or self.denied_categories
            or any(s.allowed_categories for s in scopes)
        )
        self._category_of = category_of if uses_categories else None
        self._cache: dict[tuple[str, str, str | None], Evaluation] = {}

    def scope_section(self, scope: str | None) -> ScopeRules | None:
        """The policy's section for ``scope``, or None when the scope has none."""
        return self.scopes.get(scope.casefold()) if scope else None

    def evaluate(self, normalized: Normalized, kind: Kind, scope: str | None = None) -> Evaluation:
        """Three-valued evaluation of a parsed expression for a component kind and
        dependency scope (``Component.scope``; only a scope with a section matters)."""
        assert normalized.parsed is not None and normalized.expression is not None
        section = self.scope_section(scope)
        cache_key = (normalized.expression, kind.value, section.name if section else None)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        leaves: dict[str, LeafDecision] = {}
        outcome, chosen = self._walk(normalized.parsed, kind, section, leaves)
        result = Evaluation(normalized.expression, outcome, list(leaves.values()), chosen)
        if len(self._cache) < 100_000:
            self._cache[cache_key] = result
        return result

    def _walk(
        self, node: Any, kind: Kind, section: ScopeRules | None, leaves: dict[str, LeafDecision]
    ) -> tuple[Outcome, str | None]:
        if isinstance(node, (LicenseSymbol, LicenseWithExceptionSymbol)):
            leaf = self.judge_leaf(node, kind, section.name if section else None)
            leaves.setdefault(leaf.licensee, leaf)
            return leaf.outcome, leaf.licensee if leaf.outcome is Outcome.ALLOW else None
        results = [self._walk(arg, kind, section, leaves) for arg in node.args]
        outcomes = [r[0] for r in results]
        if isinstance(node, OR):
            for outcome, chosen in results:
                if outcome is Outcome.ALLOW:
                    return Outcome.ALLOW, chosen
            if Outcome.UNKNOWN in outcomes:
                return Outcome.UNKNOWN, None
            return Outcome.DENY, None
        if isinstance(node, AND):
            if Outcome.DENY in outcomes:
                return Outcome.DENY, None
            if Outcome.UNKNOWN in outcomes:
                return Outcome.UNKNOWN, None
            return Outcome.ALLOW, " AND ".join(c for _, c in results if c)
        return Outcome.UNKNOWN, None

    def judge_leaf(self, node: Any, kind: Kind, scope: str | None = None) -> LeafDecision:
        """Judge one licensee. ``X WITH e`` is its own licensee: an exact allowance
        for the pair wins over a denial of ``X``; otherwise the pair is judged by
        its base license, since an exception only ever adds permissions. Under a
        scope with its own section, every reason ends with ``(SCOPE scope)``."""
        licensee = str(node)
        section = self.scope_section(scope)
        outcome, rule = self._judge(node, licensee, kind, section)
        if section is not None:
            rule = f"{rule} ({section.name} scope)"
        return LeafDecision(licensee, outcome, rule)

    def _judge(
        self, node: Any, licensee: str, kind: Kind, section: ScopeRules | None
    ) -> tuple[Outcome, str]:
        if isinstance(node, LicenseWithExceptionSymbol):
            allowance = self.allowed_with.get(_key(licensee))
            if allowance is not None:
                return Outcome.ALLOW, f"allowed_with {licensee}{_where(allowance.line)}"
            exception = node.exception_symbol.key
            denial = self._denial(exception, kind)
            if denial is not None:
                return Outcome.DENY, denial
            key = node.license_symbol.key
        else:
            key = node.key
        mention = self.mentions.get(key.casefold())
        if mention is not None:
            return self._judge_mention(mention, kind, section)
        return self._judge_key(key, kind, section)

    def _judge_mention(
        self, mention: MentionRule, kind: Kind, section: ScopeRules | None
    ) -> tuple[Outcome, str]:
        said = (
            f"the license text cannot be read but mentions {mention.family}{_where(mention.line)}"
        )
        outcome, rule = self._judge_key(mention.judged_as, kind, section)
        if outcome is Outcome.DENY:
            return Outcome.DENY, f"{said}, judged as {mention.judged_as}: {rule}"
        return (
            Outcome.UNKNOWN,
            f"{said}; {mention.judged_as} would not be denied here ({rule}), but a "
            "mention never allows: map the full text in policy/licenses.yaml",
        )

    def _denial(self, key: str, kind: Kind) -> str | None:
        """Why ``key`` is denied for ``kind`` by a rule or a category, or None."""
        for rule in self.denied:
            pattern = rule.matches(key)
            if pattern is not None and kind.value not in rule.except_kinds:
                return f"denied ({pattern}): {rule.reason}"
        category = self._category(key)
        for crule in self.denied_categories:
            if crule.matches(category) and kind.value not in crule.except_kinds:
                return f"denied by category ({category}){_where(crule.line)}: {crule.reason}"
        return None

    def _category(self, key: str) -> str | None:
        return self._category_of(key) if self._category_of is not None else None

    def _judge_key(self, key: str, kind: Kind, section: ScopeRules | None) -> tuple[Outcome, str]:
        lowered = key.casefold()
        if section is not None:
            for pattern in section.allowed:
                if fnmatch.fnmatchcase(lowered, pattern.casefold()):
                    return (
                        Outcome.ALLOW,
                        f"allowed in {section.name} scope ({pattern}){_where(section.line)}: "
                        f"{section.reason}",
                    )
        for rule in self.denied:
            denied_by = rule.matches(key)
            if denied_by is None:
                continue
            if kind.value in rule.except_kinds:
                return (
                    Outcome.ALLOW,
                    f"{denied_by} is denied except for {kind.value} components: {rule.reason}",
                )
            return Outcome.DENY, f"denied ({denied_by}): {rule.reason}"
        for pattern in self.allowed:
            if fnmatch.fnmatchcase(lowered, pattern):
                return Outcome.ALLOW, f"allowed ({pattern})"
        category = self._category(key)
        if category is not None:
            if section is not None and category in section.allowed_categories:
                return (
                    Outcome.ALLOW,
                    f"allowed in {section.name} scope by category ({category})"
                    f"{_where(section.line)}: {section.reason}",
                )
            for crule in self.denied_categories:
                if not crule.matches(category):
                    continue
                if kind.value in crule.except_kinds:
                    return (
                        Outcome.ALLOW,
                        f"category {category} is denied except for {kind.value} components"
                        f"{_where(crule.line)}: {crule.reason}",
                    )
                return (
                    Outcome.DENY,
                    f"denied by category ({category}){_where(crule.line)}: {crule.reason}",
                )
            for crule in self.allowed_categories:
                if crule.matches(category):
                    return Outcome.ALLOW, f"allowed by category ({category}){_where(crule.line)}"
        if not _known(key) or key.startswith(("LicenseRef-", "DocumentRef-")):
            return (
                Outcome.UNKNOWN,
                f"{key!r} is not a known SPDX license id and the policy does not name it",
            )
        return Outcome.DENY, f"{key} is a valid SPDX license but not on the allowed list"


def consistent(evidence: Normalized, table: Normalized) -> bool:
    """True when the evidence states the table's license.

    Equivalent expressions agree. So does evidence that covers every license
    the table names and adds others: a Debian package's copyright file lists
    the licenses of all its files, the main one among them. Evidence that
    lacks a license the table names disagrees.
    """
    if evidence.parsed is None or table.parsed is None:
        return False
    if evidence.expression == table.expression:
        return True
    try:
        if _LICENSING.is_equivalent(evidence.parsed, table.parsed):
            return True
        wanted = {str(s).casefold() for s in _LICENSING.license_symbols(table.parsed)}
        found = {str(s).casefold() for s in _LICENSING.license_symbols(evidence.parsed)}
        return wanted <= found
    except Exception:
        return False


# --- Policy-free SPDX check ------------------------------------------------
# Readers rank a package's own statements before any policy is loaded, so
# this check must not consult the normalization table: a free-text name the
# table maps ("Apache Software License") is not an exact statement.


@lru_cache(maxsize=4096)
def is_spdx_expression(text: str) -> bool:
    """True when ``text`` is an SPDX expression whose every key is a known SPDX id.

    The test that lets a legacy ``License: Apache-2.0`` field outrank the
    package's trove classifiers, and lets an exact SBOM statement make a
    classifier beside it corroboration (:mod:`checker.corroboration`).
    ``LicenseRef-*`` and unknown keys are not exact: nothing can be compared
    with them. Never raises, whatever the text.
    """
    stripped = text.strip()
    if _key(stripped) in NO_ASSERTION or len(stripped) > 2000:
        return False
    try:
        parsed = _LICENSING.parse(stripped, validate=False, simple=False)
        if parsed is None or _structure_problem(parsed) is not None:
            return False
        symbols = _LICENSING.license_symbols(parsed, decompose=True)
    except Exception:  # license-expression raises odd types on odd input
        return False
    return bool(symbols) and all(
        _known(symbol.key) and not symbol.key.startswith(("LicenseRef-", "DocumentRef-"))
        for symbol in symbols
    )


#: How every Python trove classifier about a license begins.
CLASSIFIER_PREFIX = "License ::"


def is_classifier(text: str) -> bool:
    """True for a Python trove classifier (``License :: OSI Approved :: MIT License``).

    cyclonedx-py writes the classifiers it cannot map to an SPDX id as
    license names; readers mark them so the evaluator can weigh them as the
    imprecise statements they are.
    """
    return text.lstrip().startswith(CLASSIFIER_PREFIX)


def license_ids(normalized: Normalized) -> list[str]:
    """The license ids a normalized expression names, casefolded, exceptions left out."""
    if normalized.parsed is None:
        return []
    try:
        symbols = _LICENSING.license_symbols(normalized.parsed, decompose=True)
    except Exception:
        return []
    return [s.key.casefold() for s in symbols if not getattr(s, "is_exception", False)]
