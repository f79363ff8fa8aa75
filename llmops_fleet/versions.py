"""PEP 440 versions of template tags, compared the way Copier compares them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.version import InvalidVersion, Version

# `git describe` output that Copier records when a project was made between tags.
_DESCRIBE = re.compile(r"^(?P<tag>.+)-(?P<distance>\d+)-g(?P<sha>[0-9a-f]+)$")


def parse_version(ref: str | None) -> Version | None:
    """The version of a tag or of a recorded `_commit`; None when it has none.

    Copier records a tag (``v1.2.0``) or, between tags, git-describe output
    (``v1.2.0-3-gabc1234``), which it reads as ``1.2.0.post3``.
    """
    if not ref:
        return None
    try:
        return Version(ref)
    except InvalidVersion:
        pass
    match = _DESCRIBE.match(ref)
    if not match:
        return None
    try:
        base = Version(match["tag"])
    except InvalidVersion:
        return None
    return Version(f"{base.base_version}.post{match['distance']}")


def release_tags(tags: Iterable[str]) -> list[str]:
    """Tags that are PEP 440 releases (no pre-releases), oldest first.

    Copier ignores the others when it picks the newest version, so we do too.
    """
    releases = []
    for tag in tags:
        version = parse_version(tag)
        if version is not None and tag == tag.strip() and not version.is_prerelease:
            releases.append((version, tag))
    return [tag for _, tag in sorted(releases)]


def versions_behind(recorded: str | None, releases: list[str]) -> int | None:
    """How many release tags are newer than the recorded version (None if unknown)."""
    current = parse_version(recorded)
    if current is None:
        return None
    newer = [tag for tag in releases if (version := parse_version(tag)) and version > current]
    return len(newer)
