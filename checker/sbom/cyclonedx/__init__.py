"""CycloneDX readers for JSON and XML, spec versions 1.2 to 1.7.

Both readers turn a BOM into :class:`~checker.model.Component` objects: every
entry of ``components`` (nested ones included), every ``services`` entry (as
``Kind.SERVICE``, because a SaaSBOM lists its database as a service) and the
document subject ``metadata.component`` (``is_subject=True``). Each origin is
the JSON path (``$.components[3].components[0]``) or 1-based XML path
(``/bom/components/component[4]``) of what was read, down to the license
field, so a finding can be traced to the byte that caused it. A nested
component's ``path`` names the components it is nested in, outermost first.

Design choices, and why:

* **A license list means AND.** Each entry of a ``licenses`` list becomes one
  :class:`~checker.model.LicenseEvidence` and the gate requires all of them.
  The specification leaves the meaning of several entries open (1.2-1.4 and
  1.7 even allow an expression beside named licenses), so the conservative
  reading is that every statement applies; a producer that means "either"
  can say so with one ``expression`` using ``OR``. Observed licenses
  (``evidence.licenses``) are what a scanner saw in files, not what the
  component is offered under, so they are not read.
* **Lenient, but never silent, and never open.** Real third-party files are
  sloppy: Trivy mixes ``expression`` and ``license`` entries where 1.5/1.6
  forbid it and puts SPDX ids into ``license.name``; other tools write numbers
  as versions. Such files are read, and every repair or skipped element
  becomes a :class:`~checker.model.Note` naming the JSON or XML path: a
  warning when nothing the policy judges is lost, an error (the run fails)
  when something that may be a component or a license statement could not be
  read: a nameless component without a usable purl, a ``<component>`` in
  another namespace, a distribution purl on a component whose ``type`` says
  otherwise. A document whose component lists are not lists (``"components":
  "x"``) is not what it claims and is an :class:`~checker.errors.InputError`,
  as is one that is not CycloneDX at all or cannot be parsed; ``null`` there
  is an error note, because "none" and "lost" cannot be told apart. No other
  exception leaves this module, whatever the input bytes.
* **Fast on big BOMs.** Container-image BOMs reach 100,000 components, so the
  per-component path does dictionary lookups, exact type checks and f-string
  locations only; anything unusual (coercions, notes, image references) is
  handled in functions that run only when needed, and the cyclic garbage
  collector is paused while components are built. Schema validation and
  cyclonedx-python-lib are not used for reading: both are orders of magnitude
  slower than the parse itself.
* **Safe XML.** XML goes through defusedxml with DTDs, entity declarations and
  external references all forbidden, so entity-expansion ("billion laughs")
  and external-entity attacks fail before anything is expanded. CycloneDX XML
  never needs a DTD.
* **Bounded nesting.** Nested ``components`` (and ``services``) are walked
  with an explicit depth limit (:data:`checker.inputs.MAX_DEPTH`) so a hostile
  file cannot exhaust the stack.

The JSON reader is :mod:`.json_reader`, the XML reader :mod:`.xml_reader`
(its safe parsing :mod:`.xml_parse`), and what both share :mod:`._common`.
"""

from __future__ import annotations

from checker.sbom.cyclonedx._common import FORMAT_JSON, FORMAT_XML, OS_PURL_TYPES, SUPPORTED_MINORS

__all__ = ["FORMAT_JSON", "FORMAT_XML", "OS_PURL_TYPES", "SUPPORTED_MINORS"]
