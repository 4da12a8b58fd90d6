"""Arazzo runs on Temporal: the sans-I/O engine inside a Temporal workflow, HTTP as activities.

Nothing here is imported by the embedded engine or by ``spola run`` without ``--temporal``:
``temporalio`` is an optional extra (``pip install 'spola[temporal]'``). See docs/temporal.md.

- ``workflow``   the Temporal workflow that runs one ``spola.core.engine.Run`` (deterministic code)
- ``activities`` the HTTP exchange activity (the only I/O)
- ``codec``      the payload codec that encrypts everything spola puts into Temporal history
- ``client``     connecting, submitting, following, showing runs; serving a worker
"""
