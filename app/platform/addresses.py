"""An e-mail address we can send to, or from: a plain ASCII addr-spec with a dotted domain (no display name,
no quoted local part, no address literal), RFC 5321 section 4.1.2's limits
https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2. Used by every setting that names an address (support's
notification list, the store's sender and reply-to), by their writers and their readers alike."""

from __future__ import annotations

import re

#: records.normalise_email keys addresses up to 191 characters; the outbox refuses longer ones.
MAX_ADDRESS = 191
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"^(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})$")


def clean_address(value: object) -> str | None:
    """The address lower-cased, or None when it is not one."""
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    match = ADDRESS.match(address)
    if match is None or len(address) > MAX_ADDRESS or len(match["local"]) > 64:
        return None
    return address
