"""APIs whose one OpenAPI description covers several versions living under different base paths.

Some vendor descriptions list one server per API version (``…/api/v3`` first, ``…/api/v2`` second)
while each path exists under only one of them, and nothing in the description says which. spola
sends a request to the first server, so an operation of the other version fails with 404. This
table records, per API, the paths that exist in one version only (path parameters written ``{}``).

dbt Cloud Administrative API: from the vendor's own v2 and v3 descriptions
(github.com/dbt-labs/dbt-cloud-openapi-spec, openapi-v2.yaml / openapi-v3.yaml): jobs, runs,
environments (account level) and a few more are v2 only; the project sub-resources are v3 only.
"""

from __future__ import annotations

import re
from typing import Final

from msgspec import Struct


class KnownApi(Struct, frozen=True):
    """An API by host suffix, and the paths only one of its versions has (regexes on ``{}`` paths)."""

    name: str
    hosts: tuple[str, ...]
    only_in: dict[str, tuple[re.Pattern[str], ...]]

    def serves(self, host: str) -> bool:
        """True when a server host belongs to this API."""
        return any(host == h or host.endswith("." + h) for h in self.hosts)

    def version_of(self, path: str) -> str | None:
        """The only version that has this path (parameters written ``{}``), or None."""
        for version, patterns in self.only_in.items():
            if any(p.match(path) for p in patterns):
                return version
        return None


def _patterns(*texts: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(text) for text in texts)


KNOWN_APIS: Final = (
    KnownApi(
        name="dbt Cloud Administrative API",
        hosts=("getdbt.com", "dbt.com"),
        only_in={
            "v2": _patterns(
                r"^/accounts/\{\}/?$",
                r"^/accounts/\{\}/(jobs|runs|environments|encryptions|licenses|notifications|permissions"
                r"|repositories|steps)(/|$)",
                r"^/accounts/\{\}/invites/\{\}/?$",
                r"^/notifications/",
                r"^/users/\{\}/?$",
            ),
            "v3": _patterns(
                r"^/accounts/\{\}/projects/\{\}/.+",
                r"^/accounts/\{\}/(groups|connections|service-tokens|webhooks|audit-logs|ip-restrictions"
                r"|license-maps|oauth-configurations|private-endpoints|scim|scim-config|assign-groups)(/|$)",
            ),
        },
    ),
)
"""The APIs spola knows to be split across versions."""
