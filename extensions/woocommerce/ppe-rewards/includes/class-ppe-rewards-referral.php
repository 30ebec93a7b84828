<?php
/**
 * Referral landing: our share page sends the friend to `<site>/?ppe_ref=<landing token>`
 * (app/referrals/landing.py, shop_link). Here the token goes into a first-party cookie (so it survives the
 * visit's pages), the friend's own discount code is applied to the cart with WooCommerce's coupon API (the
 * friend never types it), and the token is written to the order as meta `_ppe_ref`, which our WooCommerce
 * connector reads to attribute the order (docs/referrals.md).
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * The landing cookie, the coupon, the order meta.
 */
final class PPE_Rewards_Referral {

	const COOKIE   = 'ppe_ref';
	const LIFETIME = 30 * DAY_IN_SECONDS;
	/** What an itsdangerous URL-safe token can be (base64url parts joined by dots). */
	const TOKEN_PATTERN = '/^[A-Za-z0-9_\-\.]{10,512}$/';

	/**
	 * Hooks.
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'wp_loaded', array( __CLASS__, 'land' ), 20 );
		add_action( 'woocommerce_add_to_cart', array( __CLASS__, 'apply_pending' ), 20 );
		add_action( 'woocommerce_checkout_create_order', array( __CLASS__, 'tag_order' ) );
		add_action( 'woocommerce_store_api_checkout_update_order_from_request', array( __CLASS__, 'tag_order' ) );
	}

	/**
	 * A valid token, or ''.
	 *
	 * @param mixed $raw A query or cookie value.
	 * @return string
	 */
	public static function clean_token( $raw ) {
		$token = is_string( $raw ) ? trim( wp_unslash( $raw ) ) : '';
		return preg_match( self::TOKEN_PATTERN, $token ) ? $token : '';
	}

	/**
	 * The visit's token: the query's first (a new landing), else the cookie's.
	 *
	 * @return string
	 */
	public static function current_token() {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a link from our share page; nothing is changed but this visitor's cart.
		$token = self::clean_token( $_GET['ppe_ref'] ?? '' );
		return '' !== $token ? $token : self::clean_token( $_COOKIE[ self::COOKIE ] ?? '' );
	}

	/**
	 * A landing: keep the token in a first-party cookie and apply the friend's code.
	 *
	 * @return void
	 */
	public static function land() {
		if ( is_admin() || ! PPE_Rewards_Settings::connected() ) {
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- see current_token.
		$token = self::clean_token( $_GET['ppe_ref'] ?? '' );
		if ( '' === $token ) {
			return;
		}
		if ( ! headers_sent() ) {
			setcookie(
				self::COOKIE,
				$token,
				array(
					'expires'  => time() + self::LIFETIME,
					'path'     => COOKIEPATH ? COOKIEPATH : '/',
					'domain'   => COOKIE_DOMAIN ? COOKIE_DOMAIN : '',
					'secure'   => is_ssl(),
					'httponly' => true,
					'samesite' => 'Lax',
				)
			);
		}
		$_COOKIE[ self::COOKIE ] = $token;
		$code                    = PPE_Rewards_Client::friend_code( $token );
		if ( '' !== $code && function_exists( 'WC' ) && WC()->session ) {
			// A guest has no WooCommerce session until their cart does: start it, so the code is kept.
			if ( method_exists( WC()->session, 'has_session' ) && ! WC()->session->has_session() ) {
				WC()->session->set_customer_session_cookie( true );
			}
			WC()->session->set( 'ppe_rewards_friend_code', $code );
		}
		self::apply_pending();
	}

	/**
	 * Apply the friend's code kept in the session, once, when the cart has something in it (an empty cart would
	 * refuse it with an error notice): at the landing, else at the next add to cart.
	 *
	 * @return void
	 */
	public static function apply_pending() {
		if ( ! function_exists( 'WC' ) || ! WC()->session || ! WC()->cart || WC()->cart->is_empty() ) {
			return;
		}
		$code = (string) WC()->session->get( 'ppe_rewards_friend_code', '' );
		if ( '' === $code || WC()->cart->has_discount( $code ) ) {
			return;
		}
		if ( WC()->cart->apply_coupon( $code ) ) {
			WC()->session->set( 'ppe_rewards_friend_code', '' );
		}
	}

	/**
	 * The landing token on the order (meta `_ppe_ref`, HPOS-safe through WC_Order).
	 *
	 * @param WC_Order $order The order being created.
	 * @return void
	 */
	public static function tag_order( $order ) {
		$token = self::current_token();
		if ( '' !== $token && is_object( $order ) && method_exists( $order, 'update_meta_data' ) ) {
			$order->update_meta_data( '_ppe_ref', $token );
		}
	}
}
