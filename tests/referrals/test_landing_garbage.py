"""A share link's code is whatever a browser sends: one that cannot be a code is a 404, never a 500 (a NUL byte
reached PostgreSQL, which refuses it in a text parameter)."""

from __future__ import annotations

import pytest

CODES = ["AB%00CDEFG", "%00", "AB%C3%A9CDEF", "%F0%9F%92%A9", "AB%20CD", "AB%0ACDEFG", "..%2F..", "A%25B"]


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_code_that_cannot_be_one_is_a_404(app, client, code, method):
    response = client.open(f"/ref/{code}", method=method, data={"email": "friend@example.com"})
    assert response.status_code == 404, response.data
