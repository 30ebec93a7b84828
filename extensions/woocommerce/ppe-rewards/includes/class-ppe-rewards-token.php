<?php
/**
 * The signed customer token our storefront API checks (docs/storefront-api.md, "Who is calling"; verified by
 * app/storefront/auth.py): base64url(JSON {"store", "cid", "exp"}) . "." . base64url(HMAC-SHA256(secret, that
 * first part)). Minted here, on the server, for the logged-in customer only; the secret never reaches a page.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * Minting and the customer the token is for.
 */
final class PPE_Rewards_Token {

	/** How long a token lives; our API refuses more than an hour (plus a minute of clock difference). */
	const LIFETIME = 900;

	/**
	 * RFC 4648 section 5, without padding.
	 *
	 * @param string $raw Bytes.
	 * @return string
	 */
	public static function b64url( $raw ) {
		return rtrim( strtr( base64_encode( $raw ), '+/', '-_' ), '=' ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- the token's encoding.
	}

	/**
	 * The token for one customer.
	 *
	 * @param string $site_key    The store's site key (host[:port][/path]), as our exchange answered it.
	 * @param string $customer_id The WooCommerce customer id (a string of [0-9A-Za-z_-], 1 to 64 characters).
	 * @param string $secret      The storefront secret.
	 * @param int    $expires_at  Unix seconds.
	 * @return string
	 */
	public static function mint( $site_key, $customer_id, $secret, $expires_at ) {
		$claims  = array(
			'store' => (string) $site_key,
			'cid'   => (string) $customer_id,
			'exp'   => (int) $expires_at,
		);
		$payload = self::b64url( wp_json_encode( $claims, JSON_UNESCAPED_SLASHES ) );
		return $payload . '.' . self::b64url( hash_hmac( 'sha256', $payload, $secret, true ) );
	}

	/**
	 * A fresh token for the logged-in customer, or '' (no one logged in, or the plugin is not connected).
	 *
	 * @return string
	 */
	public static function for_current_customer() {
		$user_id    = get_current_user_id();
		$connection = PPE_Rewards_Settings::connection();
		if ( $user_id <= 0 || '' === $connection['secret'] || '' === $connection['site_key'] ) {
			return '';
		}
		return self::mint( $connection['site_key'], (string) $user_id, $connection['secret'], time() + self::LIFETIME );
	}
}
