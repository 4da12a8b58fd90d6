"""A document and every file it reads, as texts: load once here, rebuild anywhere with no I/O.

A remote executor (a Temporal worker on another machine) cannot read the caller's files, and its
workflow code must not do I/O at all. ``read_bundle`` loads a document the usual way and keeps the
text of every file the load read (the Arazzo document, its OpenAPI and Arazzo sources, ``$ref``
targets, remote sources fetched with ``allow_remote``); ``load_bundle`` rebuilds the same
``Document`` from those texts alone — deterministic, so it may run inside workflow code — and
caches it by content digest, so many runs of one document share one parse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections import OrderedDict
from typing import TYPE_CHECKING

from msgspec import Struct, field

from spola.errors import DocumentError, Location
from spola.model.parse import _finish, _Session
from spola.model.reach import in_reach, reach
from spola.model.sources import Fetcher, SourceError, path_to_uri

if TYPE_CHECKING:
    from pathlib import Path

    from spola.model.document import Document


class Bundle(Struct, frozen=True):
    """The root document's URI and display path, and the text of every file its load read, by URI."""

    uri: str
    display: str
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """A content hash: equal bundles load equal documents."""
        blob = json.dumps([self.uri, self.display, sorted(self.texts.items())], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, object]:
        """Plain data (for a workflow argument); the texts zlib-compressed (OpenAPI files shrink ~8x)."""
        packed = zlib.compress(json.dumps(self.texts, ensure_ascii=False).encode("utf-8"), 6)
        return {"uri": self.uri, "display": self.display, "z": base64.b64encode(packed).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Bundle:
        """The inverse of ``to_dict`` (plain ``texts`` are read too)."""
        texts = data.get("texts")
        packed = data.get("z")
        if isinstance(packed, str):
            texts = json.loads(zlib.decompress(base64.b64decode(packed)).decode("utf-8"))
        return cls(str(data["uri"]), str(data["display"]), dict(texts) if isinstance(texts, dict) else {})


class _Recorder(Fetcher):
    """A fetcher whose texts can be taken afterwards."""

    def texts(self) -> dict[str, str]:
        return dict(self._texts)


class _Replayer(Fetcher):
    """A fetcher that only knows the bundle's texts: never touches a disk or the network."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__(allow_remote=False)
        self._texts.update(texts)

    def text(self, uri: str) -> str:
        if uri in self._texts:
            return self._texts[uri]
        raise SourceError(f"cannot read '{uri}': it was not part of the document bundle")


def _checked(session: _Session, document: Document | None, display: str, workflow_id: str | None) -> Document:
    """The document, unless a problem lies in what a run of ``workflow_id`` reaches (as ``load_for_run``);
    with no workflow named, any problem is one."""
    errors = session.errors()
    if document is None or not errors or workflow_id is None:
        return _finish(session, document, display)
    workflow = document.workflow(workflow_id)
    where = reach(document, workflow.workflow_id)
    blocking = [f for f in errors if in_reach(f, where)]
    if blocking:
        noun = "problem" if len(blocking) == 1 else "problems"
        raise DocumentError(
            f"workflow '{workflow_id}' of {display} cannot run ({len(blocking)} {noun}); nothing was sent",
            findings=blocking,
            location=Location(display),
        )
    return document


def read_bundle(
    path: str | Path, workflow_id: str | None = None, *, allow_remote: bool = False
) -> tuple[Document, Bundle]:
    """Load a document from a file and keep every text the load read.

    With ``workflow_id``, problems a run of that workflow cannot reach are tolerated (``load_for_run``).

    Raises:
        DocumentError: as for ``load``.
    """
    session = _Session(allow_remote=allow_remote, resolve_sources=True)
    recorder = _Recorder(allow_remote=allow_remote)
    session.fetcher = recorder
    uri = path_to_uri(path)
    document = _checked(session, session.document(uri, str(path)), str(path), workflow_id)
    return document, Bundle(uri, str(path), recorder.texts())


_LOADED: OrderedDict[str, Document] = OrderedDict()
_LOADED_MAX = 64


def load_bundle(bundle: Bundle, workflow_id: str | None = None) -> Document:
    """The document a bundle holds, rebuilt from its texts (no I/O) and cached by digest.

    Raises:
        DocumentError: the texts do not make a valid document (for a run of ``workflow_id``).
    """
    key = f"{bundle.digest}:{workflow_id or ''}"
    document = _LOADED.get(key)
    if document is not None:
        _LOADED.move_to_end(key)
        return document
    session = _Session(allow_remote=False, resolve_sources=True)
    session.fetcher = _Replayer(bundle.texts)
    document = _checked(session, session.document(bundle.uri, bundle.display), bundle.display, workflow_id)
    _LOADED[key] = document
    if len(_LOADED) > _LOADED_MAX:
        _LOADED.popitem(last=False)
    return document
