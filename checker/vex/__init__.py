"""The VEX register: governed exceptions, reviewed in pull requests, enforced by the gate.

One concept per module:

``vocabulary``
    entry kinds, OpenVEX statuses and justifications, CycloneDX responses
    (enums, importable without the rest).
``model``
    the entries as values: subjects and their ranges, license exceptions,
    vulnerability entries, the register.
``schema``
    the register's YAML format: one file read into entries, every problem
    with its file and line; ``fields`` checks one value of an entry and
    ``statement`` reads a vulnerability entry's OpenVEX statement.
``checks``
    what is wrong across entries: duplicate ids, overlaps, expiry.
``register``
    the register folder's files loaded, validated and checked together.
``loader``
    what ``--vex PATH`` reads: register YAML files and OpenVEX JSON
    documents, files or folders, into one :class:`~checker.vex.loader.VexSet`.
``apply``
    matching the gate's findings to license exceptions: accepted,
    ``expired-exception`` and ``unused-exception``.
``export``
    what an export writes: the current vulnerability entries.
``openvex``
    reading others' OpenVEX (v0.2.0, legacy v0.0.1 upgraded) and exporting
    the register's vulnerability entries as OpenVEX 0.2.0.
``cyclonedx``
    exporting the vulnerability entries as a CycloneDX 1.6 VEX BOM.
``edit``
    ``vex add``: appending one validated entry as text, atomically.
``listing``
    ``vex list``: the entries with days left.
``flags``
    which ``vex add`` options make an entry of each kind.
"""
