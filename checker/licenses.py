"""License strings to SPDX expressions, and the one evaluator that judges them.

Peer gates disagree on the basics: some pass ``MIT AND AGPL-3.0-only``, some
block ``MIT OR AGPL-3.0-only``. Here every expression goes through one path:

1. *normalize*: the string an input gave (an SPDX expression, a free-text
   name, a trove classifier, a comma-joined list) is mapped to an SPDX
   expression through the policy's normalization table, operand by operand,
   and parsed with license-expression, which also maps deprecated ids
   (``GPL-2.0`` -> ``GPL-2.0-only``). Every step is recorded for ``explain``.
2. *evaluate*: each leaf (a license, or ``license WITH exception`` as its own
   licensee) is allowed, denied or unknown under the policy for the
   component's kind; ``OR`` passes if any branch passes, ``AND`` needs every
   part. Unknown is never allowed: it is its own outcome, reported fail-closed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

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

_OPERATOR_SPLIT = re.compile(r"(\(|\)|\s+(?:AND|OR|WITH|and|or|with)\s+)")
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


class Normalizer:
    """Maps input license strings to parsed SPDX expressions, with a trace."""

    def __init__(self, rules: Sequence[NormalizationRule]) -> None:
        self._table: dict[str, NormalizationRule] = {}
        for rule in rules:
            for name in rule.names:
                self._table.setdefault(_key(name), rule)
        self._cache: dict[str, Normalized] = {}

    def lookup(self, text: str) -> NormalizationRule | None:
        return self._table.get(_key(text))

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
        candidate = self._substitute(stripped, result)
        if candidate is None:
            return result
        try:
            parsed = _LICENSING.parse(candidate, validate=False, simple=False)
        except (ExpressionError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            result.error = f"not an SPDX expression: {_clean_error(exc)}"
            return result
        except Exception as exc:  # license-expression raises odd types on odd input
            result.error = f"not an SPDX expression: {type(exc).__name__}"
            return result
        if parsed is None:
            result.error = "empty license expression"
            return result
        problem = _structure_problem(parsed)
        if problem:
            result.error = problem
            return result
        rendered = str(parsed)
        if rendered != candidate:
            result.steps.append(f"parsed as SPDX: {candidate!r} -> {rendered!r}")
        else:
            result.steps.append(f"parsed as SPDX: {rendered!r}")
        result.expression = rendered
        result.parsed = parsed
        return result

    def _substitute(self, text: str, result: Normalized) -> str | None:
        """Apply the table to the whole string, else to each operand."""
        whole = self.lookup(text)
        if whole is not None:
            self._record(result, text, whole)
            return whole.spdx
        tokens = _OPERATOR_SPLIT.split(text)
        has_operator = any(t.strip() and _OPERATOR_SPLIT.fullmatch(t) for t in tokens)
        if not has_operator and "," in text:
            parts = [p.strip() for p in text.split(",") if p.strip()]
            mapped: list[str] = []
            for part in parts:
                rule = self.lookup(part)
                if rule is not None:
                    self._record(result, part, rule)
                    mapped.append(f"({rule.spdx})")
                else:
                    mapped.append(part if " " not in part else f"({part})")
            result.steps.append(f"comma-joined list {text!r} read as AND of {len(parts)} parts")
            return " AND ".join(mapped)
        out: list[str] = []
        for token in tokens:
            bare = token.strip()
            if not bare or _OPERATOR_SPLIT.fullmatch(token):
                out.append(token.upper() if bare else token)
                continue
            rule = self.lookup(bare)
            if rule is not None and _key(rule.spdx) != _key(bare):
                self._record(result, bare, rule)
                lead = token[: len(token) - len(token.lstrip())]
                trail = token[len(token.rstrip()) :]
                out.append(f"{lead}({rule.spdx}){trail}")
            else:
                out.append(token)
        return "".join(out)

    @staticmethod
    def _record(result: Normalized, text: str, rule: NormalizationRule) -> None:
        note = " (ambiguous)" if rule.ambiguous else ""
        where = f" (licenses.yaml line {rule.line})" if rule.line else ""
        result.steps.append(f"normalized {text!r} -> {rule.spdx!r}{where}{note}")
        if rule.ambiguous:
            result.ambiguous.append(f"{text!r} -> {rule.spdx!r}")


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
    """The license policy as an evaluator: deny rules, WITH allowances, allow list."""

    def __init__(
        self,
        denied: Sequence[DenyRule],
        allowed_with: Sequence[AllowedWith],
        allowed: Iterable[str],
    ) -> None:
        self.denied = list(denied)
        self.allowed_with = {_key(a.expression): a for a in allowed_with}
        self.allowed = [a.casefold() for a in allowed]
        self._cache: dict[tuple[str, str], Evaluation] = {}

    def evaluate(self, normalized: Normalized, kind: Kind) -> Evaluation:
        """Three-valued evaluation of a parsed expression for a component kind."""
        assert normalized.parsed is not None and normalized.expression is not None
        cache_key = (normalized.expression, kind.value)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        leaves: dict[str, LeafDecision] = {}
        outcome, chosen = self._walk(normalized.parsed, kind, leaves)
        result = Evaluation(normalized.expression, outcome, list(leaves.values()), chosen)
        if len(self._cache) < 100_000:
            self._cache[cache_key] = result
        return result

    def _walk(
        self, node: Any, kind: Kind, leaves: dict[str, LeafDecision]
    ) -> tuple[Outcome, str | None]:
        if isinstance(node, (LicenseSymbol, LicenseWithExceptionSymbol)):
            leaf = self.judge_leaf(node, kind)
            leaves.setdefault(leaf.licensee, leaf)
            return leaf.outcome, leaf.licensee if leaf.outcome is Outcome.ALLOW else None
        results = [self._walk(arg, kind, leaves) for arg in node.args]
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

    def judge_leaf(self, node: Any, kind: Kind) -> LeafDecision:
        """Judge one licensee. ``X WITH e`` is its own licensee: an exact allowance
        for the pair wins over a denial of ``X``; otherwise the pair is judged by
        its base license, since an exception only ever adds permissions."""
        licensee = str(node)
        if isinstance(node, LicenseWithExceptionSymbol):
            allowance = self.allowed_with.get(_key(licensee))
            if allowance is not None:
                line = f" (licenses.yaml line {allowance.line})" if allowance.line else ""
                return LeafDecision(licensee, Outcome.ALLOW, f"allowed_with {licensee}{line}")
            key = node.license_symbol.key
            exception = node.exception_symbol.key
            for rule in self.denied:
                pattern = rule.matches(exception)
                if pattern is not None and kind.value not in rule.except_kinds:
                    return LeafDecision(
                        licensee, Outcome.DENY, f"denied ({pattern}): {rule.reason}"
                    )
        else:
            key = node.key
        for rule in self.denied:
            pattern = rule.matches(key)
            if pattern is None:
                continue
            if kind.value in rule.except_kinds:
                return LeafDecision(
                    licensee,
                    Outcome.ALLOW,
                    f"{pattern} is denied except for {kind.value} components: {rule.reason}",
                )
            return LeafDecision(licensee, Outcome.DENY, f"denied ({pattern}): {rule.reason}")
        lowered = key.casefold()
        for pattern in self.allowed:
            if fnmatch.fnmatchcase(lowered, pattern):
                return LeafDecision(licensee, Outcome.ALLOW, f"allowed ({pattern})")
        if not _known(key) or key.startswith(("LicenseRef-", "DocumentRef-")):
            return LeafDecision(
                licensee,
                Outcome.UNKNOWN,
                f"{key!r} is not a known SPDX license id and the policy does not name it",
            )
        return LeafDecision(
            licensee, Outcome.DENY, f"{key} is a valid SPDX license but not on the allowed list"
        )


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
