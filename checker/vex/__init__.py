"""The VEX register: governed exceptions, reviewed in pull requests, enforced by the gate.

One concept per module:

``register``
    the YAML register in ``vex/``: the entry model, loading with file and
    line for every problem, the validation rules, expiry.
``loader``
    what ``--vex PATH`` reads: register YAML files and OpenVEX JSON
    documents, files or folders, into one :class:`~checker.vex.loader.VexSet`.
``apply``
    matching the gate's findings to license exceptions: accepted,
    ``expired-exception`` and ``unused-exception``.
``openvex``
    reading others' OpenVEX (v0.2.0, legacy v0.0.1 upgraded) and exporting
    the register's vulnerability entries as OpenVEX 0.2.0.
``cyclonedx``
    exporting the vulnerability entries as a CycloneDX 1.6 VEX BOM.
``edit``
    ``vex add``: appending one validated entry as text, atomically.
``listing``
    ``vex list``: the entries with days left.
"""
