"""Credentials embedded in URLs (``https://user:token@host/...``) never reach the record.

Repository remotes, poller addresses and the like are copied into the journal, the context files
agents read and the output of ``config show``. A URL pasted from a clone command or a proxy
setting often carries a token in its userinfo; this is the one place that takes it out.
"""

from __future__ import annotations

import re

MASK = "********"

# The userinfo of an authority: after an optional ``scheme://`` and before the last ``@`` that
# comes ahead of the path (RFC 3986 wants ``@`` percent-encoded in userinfo, but clients take the
# last one, so a password containing ``@`` must not leave its tail behind). Without a scheme it
# is git's scp-like form, ``user@host:path``, whose user is stripped all the same.
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<userinfo>[^/?#\s]*@)")


def without_userinfo(url: str, replacement: str = "") -> str:
    """``url`` with its userinfo removed (or replaced, e.g. by :data:`MASK` for display).

    Text that is not a URL with userinfo comes back unchanged.
    """
    match = _USERINFO.match(url.strip())
    if match is None:
        return url
    scheme = match.group("scheme") or ""
    rest = url.strip()[match.end() :]
    return f"{scheme}{replacement}@{rest}" if replacement else f"{scheme}{rest}"
