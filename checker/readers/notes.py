"""How a reader says something about its input: one collector for every reader.

A reader notes what it could not turn into a component (see
:class:`~checker.model.Note`): a warning when nothing the policy judges is
lost, an error when something that may be a component or a license
statement was left out. Every reader spells that the same way::

    notes = Notes(path, result.notes)
    notes.warn("$.metadata", "has no timestamp")
    notes.error("line 12", "package has no name; it cannot be checked")

The collector writes into a list it is given (usually ``ReadResult.notes``),
so helpers that take a plain list of notes, such as the YAML loader, keep
working beside it.
"""

from __future__ import annotations

from checker.model import Note, Origin, Severity

__all__ = ["Notes"]


class Notes:
    """The notes of one reader about one file, written into ``items``.

    ``path`` names the file in every origin; :meth:`about` gives a collector
    for another file (an include, a chart's sibling) that writes into the
    same list.
    """

    __slots__ = ("_counted", "_seen", "items", "path")

    def __init__(self, path: str, items: list[Note] | None = None) -> None:
        self.path = path
        self.items: list[Note] = [] if items is None else items
        self._seen: set[str] | None = None
        #: key -> (index in items, occurrences) of the notes made with :meth:`counted`.
        self._counted: dict[str, list[int]] | None = None

    def add(self, location: str, message: str, severity: Severity = Severity.WARNING) -> None:
        self.items.append(Note(Origin(self.path, location), message, severity))

    def warn(self, location: str, message: str) -> None:
        """Something odd, but nothing the policy judges is lost."""
        self.items.append(Note(Origin(self.path, location), message))

    def error(self, location: str, message: str) -> None:
        """Something that may be a component or a license was not read: the run fails."""
        self.items.append(Note(Origin(self.path, location), message, Severity.ERROR))

    def at(self, origin: Origin, message: str, severity: Severity = Severity.WARNING) -> None:
        """A note at a place already built (a component's own origin, maybe in another file)."""
        self.items.append(Note(origin, message, severity))

    def once(
        self, key: str, location: str, message: str, severity: Severity = Severity.WARNING
    ) -> None:
        """A note for the first occurrence of ``key`` only: one finding, not one per entry."""
        seen = self._seen
        if seen is None:
            seen = self._seen = set()
        if key not in seen:
            seen.add(key)
            self.add(location, message, severity)

    def counted(
        self, key: str, location: str, message: str, severity: Severity = Severity.WARNING
    ) -> None:
        """Like :meth:`once`, and :meth:`finish` adds how many more there were.

        A Trivy image SBOM can repeat the same quirk on hundreds of packages;
        one note with a count and the first place is what a reviewer can act on.
        """
        counted = self._counted
        if counted is None:
            counted = self._counted = {}
        entry = counted.get(key)
        if entry is None:
            counted[key] = [len(self.items), 1]
            self.add(location, message, severity)
        else:
            entry[1] += 1

    def finish(self) -> None:
        """Say on each :meth:`counted` note how many more like it there were."""
        for index, count in (self._counted or {}).values():
            if count > 1:
                note = self.items[index]
                message = f"{note.message} (and {count - 1} more like it; first shown)"
                self.items[index] = Note(note.origin, message, note.severity)
        self._counted = None

    def about(self, path: str) -> Notes:
        """A collector for notes about another file, into the same list."""
        return Notes(path, self.items)
