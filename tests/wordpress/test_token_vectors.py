"""The customer token minted by the WordPress plugin's PHP is the one our storefront verifies.

The vectors (tests/wordpress/token_vectors.json) are shared with the plugin's PHPUnit TokenTest. Here `php` runs the
plugin's own PPE_Rewards_Token::mint for each vector, and our verifier (app/storefront/auth.py) checks the result.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from app.storefront.auth import StorefrontAuthError, mint_customer_token, read_customer_token, verify_customer_token
from tests.wordpress.site import HERE, ROOT, require_php

VECTORS = json.loads((HERE / "token_vectors.json").read_text())["vectors"]
TOKEN_CLASS = ROOT / "extensions/woocommerce/ppe-rewards/includes/class-ppe-rewards-token.php"
# The class outside WordPress: ABSPATH and wp_json_encode (json_encode with WordPress's sanity checks) are all it uses.
MINT = """
define('ABSPATH', '/');
function wp_json_encode($data, $options = 0) { return json_encode($data, $options); }
require $argv[1];
$vectors = json_decode(stream_get_contents(STDIN), true);
$out = array();
foreach ($vectors as $v) {
    $out[] = PPE_Rewards_Token::mint($v['claims']['store'], $v['claims']['cid'], $v['secret'], $v['claims']['exp']);
}
echo json_encode($out);
"""


def php_mint(vectors: list[dict]) -> list[str]:
    done = subprocess.run(
        [require_php(), "-r", MINT, "--", str(TOKEN_CLASS)],
        input=json.dumps(vectors),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def test_php_mints_the_vectors_and_our_storefront_accepts_them():
    minted = php_mint(VECTORS)
    assert minted == [v["token"] for v in VECTORS]
    for vector, token in zip(VECTORS, minted, strict=True):
        claims = vector["claims"]
        verified = verify_customer_token(token, vector["secret"], now=claims["exp"] - 600)
        assert (verified.customer_id, verified.expires_at) == (claims["cid"], claims["exp"])
        assert verified.store == read_customer_token(mint_customer_token(claims["store"], "1", "s", expires_at=1)).store
        with pytest.raises(StorefrontAuthError, match="bad_signature"):
            verify_customer_token(token, vector["secret"] + "x", now=claims["exp"] - 600)
        with pytest.raises(StorefrontAuthError, match="expired"):
            verify_customer_token(token, vector["secret"], now=claims["exp"])


def test_a_php_token_for_now_is_within_our_lifetime_limit():
    import time

    now = int(time.time())
    [token] = php_mint([{"secret": "pss_x", "claims": {"store": "shop.example", "cid": "9", "exp": now + 900}}])
    assert verify_customer_token(token, "pss_x", now=now).customer_id == "9"
