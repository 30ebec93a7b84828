<?php
/**
 * Every HTTP call to our service, server to server (wp_remote_*): the connect exchange, the signed plugin
 * calls (status, disconnect, the dashboard link), the storefront API (for the logged-in customer, or public with
 * the store's key), and the friend's discount code.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * Our service's client.
 */
final class PPE_Rewards_Client {

	const TIMEOUT = 5;
	/** A shopper's page waits at most this long for us, then shows the page without our part. */
	const PAGE_TIMEOUT = 3;

	/**
	 * Decode a JSON answer: [status, body array] ([0, []] when the call failed).
	 *
	 * @param array|WP_Error $response wp_remote_* result.
	 * @return array{0: int, 1: array}
	 */
	private static function decode( $response ) {
		if ( is_wp_error( $response ) ) {
			return array( 0, array() );
		}
		$body = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		return array( (int) wp_remote_retrieve_response_code( $response ), is_array( $body ) ? $body : array() );
	}

	/**
	 * The base URL.
	 *
	 * @return string
	 */
	private static function base() {
		$settings = PPE_Rewards_Settings::get();
		return $settings['api_url'];
	}

	/**
	 * Trade the one-time code from the return URL for the storefront keys (app/stores/woo_plugin.py).
	 *
	 * @param string $code     The ppe_code parameter.
	 * @param string $verifier The PKCE verifier this admin kept.
	 * @return array{0: int, 1: array}
	 */
	public static function exchange( $code, $verifier ) {
		$response = wp_remote_post(
			self::base() . '/woocommerce/plugin/exchange',
			array(
				'timeout' => self::TIMEOUT,
				'headers' => array( 'Content-Type' => 'application/json' ),
				'body'    => wp_json_encode(
					array(
						'code'     => $code,
						'site'     => home_url(),
						'verifier' => $verifier,
					)
				),
			)
		);
		return self::decode( $response );
	}

	/**
	 * The X-PPE-Signature header of a plugin call: t=<unix>,s=hex HMAC-SHA256(secret, "t.METHOD.path.body").
	 *
	 * @param string $secret Storefront secret.
	 * @param string $method GET or POST.
	 * @param string $path   The route, e.g. /woocommerce/plugin/status.
	 * @param string $body   The exact body sent.
	 * @param int    $now    Unix seconds.
	 * @return string
	 */
	public static function signature( $secret, $method, $path, $body, $now ) {
		$mac = hash_hmac( 'sha256', $now . '.' . strtoupper( $method ) . '.' . $path . '.' . $body, $secret );
		return 't=' . $now . ',s=' . $mac;
	}

	/**
	 * A signed call to one of the plugin routes.
	 *
	 * @param string $method GET or POST.
	 * @param string $path   The route.
	 * @return array{0: int, 1: array}
	 */
	public static function signed( $method, $path ) {
		$connection = PPE_Rewards_Settings::connection();
		$body       = 'POST' === $method ? '{}' : '';
		$args       = array(
			'method'  => $method,
			'timeout' => self::TIMEOUT,
			'headers' => array(
				'Content-Type'    => 'application/json',
				'X-PPE-Store'     => $connection['store_key'],
				'X-PPE-Signature' => self::signature( $connection['secret'], $method, $path, $body, time() ),
			),
		);
		if ( 'POST' === $method ) {
			$args['body'] = $body;
		}
		return self::decode( wp_remote_request( self::base() . $path, $args ) );
	}

	/**
	 * A storefront API read for the logged-in customer (docs/storefront-api.md), with a token minted here.
	 *
	 * @param string $path    E.g. /me/balance.
	 * @param array  $query   Extra query arguments (the store's key is always added).
	 * @param int    $timeout Seconds; a storefront page passes PAGE_TIMEOUT.
	 * @return array|null The answer, or null on any failure (not 200, no customer, not connected).
	 */
	public static function storefront_get( $path, array $query = array(), $timeout = self::TIMEOUT ) {
		$token = PPE_Rewards_Token::for_current_customer();
		if ( '' === $token ) {
			return null;
		}
		return self::api_get( $path, $query, $timeout, array( 'Authorization' => 'Bearer ' . $token ) );
	}

	/**
	 * A public storefront API read (the store's key only, no customer), e.g. /loyalty/earn-preview.
	 *
	 * @param string $path    The route under /api/v1.
	 * @param array  $query   Query arguments.
	 * @param int    $timeout Seconds.
	 * @return array|null
	 */
	public static function public_get( $path, array $query = array(), $timeout = self::TIMEOUT ) {
		return self::api_get( $path, $query, $timeout, array() );
	}

	/**
	 * GET /api/v1<path>?store=<key>&<query>; the body of a 200, else null.
	 *
	 * @param string $path    The route under /api/v1.
	 * @param array  $query   Query arguments.
	 * @param int    $timeout Seconds.
	 * @param array  $headers Extra headers.
	 * @return array|null
	 */
	private static function api_get( $path, array $query, $timeout, array $headers ) {
		$connection = PPE_Rewards_Settings::connection();
		if ( '' === $connection['store_key'] ) {
			return null;
		}
		$args = array( 'store' => $connection['store_key'] );
		foreach ( $query as $name => $value ) {
			$args[ $name ] = (string) $value;
		}
		$url                   = add_query_arg( array_map( 'rawurlencode', $args ), self::base() . '/api/v1' . $path );
		list( $status, $body ) = self::decode(
			wp_remote_get(
				$url,
				array(
					'timeout' => $timeout,
					'headers' => $headers,
				)
			)
		);
		return 200 === $status ? $body : null;
	}

	/**
	 * The friend's discount code for a referral landing token, or '' when there is none (yet).
	 *
	 * The one place the plugin asks for it. Our service's side of this is being reworked (the friend's code is
	 * made by the landing page's POST on the referrals branch); main has no endpoint that answers a landing
	 * token with its code, so this asks GET /api/v1/referrals/friend-code?store=&token= (docs/wordpress-plugin.md,
	 * "Referral landing") and copes with its absence: no code, only the token travels to the order.
	 *
	 * @param string $token The ppe_ref landing token.
	 * @return string
	 */
	public static function friend_code( $token ) {
		$connection = PPE_Rewards_Settings::connection();
		if ( '' === $connection['store_key'] ) {
			return '';
		}
		$url                   = add_query_arg(
			array(
				'store' => rawurlencode( $connection['store_key'] ),
				'token' => rawurlencode( $token ),
			),
			self::base() . '/api/v1/referrals/friend-code'
		);
		list( $status, $body ) = self::decode( wp_remote_get( $url, array( 'timeout' => self::TIMEOUT ) ) );
		$code                  = ( 200 === $status && isset( $body['code'] ) ) ? (string) $body['code'] : '';
		return preg_match( '/^[A-Za-z0-9-]{4,40}$/', $code ) ? $code : '';
	}
}
