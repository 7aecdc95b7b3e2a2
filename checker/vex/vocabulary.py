"""The register's vocabularies: entry kinds, OpenVEX statuses and justifications, responses.

Each is a :class:`~enum.StrEnum`, so a value read from YAML or JSON is
checked by constructing the member, compared as a member, and written out
as its text. The module imports nothing else: the command line builds its
``--kind`` and ``--status`` choices from it without loading the register.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class EntryKind(StrEnum):
    """What an entry is about; ``kind:`` in the register."""

    #: A license or dependency exception (which OpenVEX cannot express).
    LICENSE = "license"
    #: An OpenVEX statement with its governance.
    VULNERABILITY = "vulnerability"


class Status(StrEnum):
    """OpenVEX statement statuses (v0.2.0)."""

    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"

    @property
    def open(self) -> bool:
        """Whether a fix is still due (a passed patch SLA is then a warning)."""
        return self in (Status.AFFECTED, Status.UNDER_INVESTIGATION)


class Justification(StrEnum):
    """OpenVEX justifications for ``not_affected``."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary"
    )
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


class Response(StrEnum):
    """CycloneDX analysis responses (the CycloneDX export only)."""

    CAN_NOT_FIX = "can_not_fix"
    WILL_NOT_FIX = "will_not_fix"
    UPDATE = "update"
    ROLLBACK = "rollback"
    WORKAROUND_AVAILABLE = "workaround_available"


E = TypeVar("E", bound=StrEnum)


def member(enum: type[E], value: object) -> E | None:
    """``value`` as a member of ``enum`` if it is one's text, else None (for a message)."""
    if not isinstance(value, str):
        return None
    try:
        return enum(value)
    except ValueError:
        return None


def choices(enum: type[StrEnum]) -> str:
    """The members' texts as messages list them: ``a, b, c``."""
    return ", ".join(enum)
