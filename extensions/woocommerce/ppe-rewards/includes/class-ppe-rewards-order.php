<?php
/**
 * After checkout (WooCommerce's order-received page, `woocommerce_thankyou`) and on the customer's view of an
 * order in My Account (`woocommerce_view_order`): the points this order earns (pending until the return window),
 * the referral link to share, and a welcome on a first order (docs/wordpress-plugin.md, "The order pages").
 *
 * What the order earns comes from our API, on the server:
 * - the order's own customer: GET /api/v1/orders/<id>/rewards with their token (our ledger's word: pending,
 *   spendable, reversed), which answers 404 for an order we do not hold for them (yet);
 * - a guest, or an order our webhook has not brought yet: GET /api/v1/loyalty/earn-preview with the order's
 *   total and currency (the store's rate, public).
 * Every call has a short timeout and is cached briefly in a transient; a failure shows nothing of ours and never
 * stops the page.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * The thank-you page and the customer's view of an order.
 */
final class PPE_Rewards_Order {

	/** Seconds an answer is kept: the ledger changes when our webhook lands, so not long. */
	const CACHE_TTL = 60;
	/** Seconds a failure is kept, so a slow service costs one page at most this often. */
	const FAILURE_TTL = 30;
	/** Seconds an earn preview is kept (the store's rate rarely changes). */
	const PREVIEW_TTL = 600;
	const STATES      = array( 'pending', 'spendable', 'reversed', 'none' );

	/**
	 * Hooks.
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'woocommerce_thankyou', array( __CLASS__, 'render' ), 20 );
		add_action( 'woocommerce_view_order', array( __CLASS__, 'render' ), 20 );
	}

	/**
	 * A cached read: the callback's answer (an array, or null for a failure) kept in a transient.
	 *
	 * @param string   $key  The transient's name (the caller makes it unique per customer where it must be).
	 * @param int      $ttl  Seconds an answer is kept.
	 * @param callable $read Returns array|null.
	 * @return array|null
	 */
	private static function cached( $key, $ttl, callable $read ) {
		$held = get_transient( $key );
		if ( is_array( $held ) && array_key_exists( 'v', $held ) ) {
			return is_array( $held['v'] ) ? $held['v'] : null;
		}
		$value = $read();
		$value = is_array( $value ) ? $value : null;
		set_transient( $key, array( 'v' => $value ), null === $value ? self::FAILURE_TTL : $ttl );
		return $value;
	}

	/**
	 * Our ledger's word on this order for its logged-in customer, or null (not ours yet, or no answer).
	 *
	 * @param object $order The WC_Order.
	 * @return array{points: int, state: string, spendable_at: int|false, first_order: bool|null}|null
	 */
	public static function order_rewards( $order ) {
		$id     = (string) $order->get_id();
		$user   = get_current_user_id();
		$answer = self::cached(
			'ppe_rewards_order_' . $user . '_' . $id,
			self::CACHE_TTL,
			static function () use ( $id ) {
				return PPE_Rewards_Client::storefront_get( '/orders/' . rawurlencode( $id ) . '/rewards', array(), PPE_Rewards_Client::PAGE_TIMEOUT );
			}
		);
		if ( null === $answer || ! isset( $answer['points'], $answer['state'] ) || ! is_numeric( $answer['points'] )
			|| ! in_array( $answer['state'], self::STATES, true ) || (string) ( $answer['order_id'] ?? $id ) !== $id ) {
			return null;
		}
		return array(
			'points'       => max( 0, (int) $answer['points'] ),
			'state'        => $answer['state'],
			'spendable_at' => is_string( $answer['spendable_at'] ?? null ) ? strtotime( $answer['spendable_at'] ) : false,
			'first_order'  => isset( $answer['first_order'] ) && is_bool( $answer['first_order'] ) ? $answer['first_order'] : null,
		);
	}

	/**
	 * What an order of this total earns at the store's rate (earn-preview), or null.
	 *
	 * @param object $order The WC_Order.
	 * @return array{points: int, pending_days: int}|null
	 */
	public static function preview( $order ) {
		$amount   = (string) $order->get_total();
		$currency = strtoupper( (string) $order->get_currency() );
		if ( ! preg_match( '/^\d{1,12}(\.\d{1,4})?$/', $amount ) || ! preg_match( '/^[A-Z]{3}$/', $currency ) ) {
			return null;
		}
		$answer = self::cached(
			'ppe_rewards_preview_' . md5( $amount . '|' . $currency ),
			self::PREVIEW_TTL,
			static function () use ( $amount, $currency ) {
				return PPE_Rewards_Client::public_get(
					'/loyalty/earn-preview',
					array(
						'amount'   => $amount,
						'currency' => $currency,
					),
					PPE_Rewards_Client::PAGE_TIMEOUT
				);
			}
		);
		if ( null === $answer || ! isset( $answer['points'] ) || ! is_numeric( $answer['points'] ) ) {
			return null;
		}
		return array(
			'points'       => max( 0, (int) $answer['points'] ),
			'pending_days' => isset( $answer['pending_days'] ) && is_numeric( $answer['pending_days'] ) ? max( 0, (int) $answer['pending_days'] ) : 0,
		);
	}

	/**
	 * The customer's referral link (cached per customer), or ''.
	 *
	 * @return string
	 */
	private static function referral_url() {
		$answer = self::cached(
			'ppe_rewards_referral_' . get_current_user_id(),
			self::CACHE_TTL,
			static function () {
				return PPE_Rewards_Client::storefront_get( '/me/referral', array(), PPE_Rewards_Client::PAGE_TIMEOUT );
			}
		);
		return is_array( $answer ) && ! empty( $answer['share_url'] ) && is_string( $answer['share_url'] ) ? $answer['share_url'] : '';
	}

	/**
	 * The sentence about this order's points.
	 *
	 * @param array|null $rewards Our ledger's word (order_rewards), or null.
	 * @param array|null $preview The store's rate (preview), or null.
	 * @param bool       $guest   The order has no account.
	 * @return string Plain text ('' when there is nothing to say).
	 */
	private static function points_text( $rewards, $preview, $guest ) {
		if ( null !== $rewards && 'none' !== $rewards['state'] ) {
			$points = PPE_Rewards_Account::points( $rewards['points'] );
			if ( 'spendable' === $rewards['state'] ) {
				/* translators: %s: a number of points */
				return sprintf( _n( 'This order earned you %s point, ready to spend.', 'This order earned you %s points, ready to spend.', $rewards['points'], 'ppe-rewards' ), $points );
			}
			if ( 'reversed' === $rewards['state'] ) {
				return __( 'The points of this order were taken back after its refund.', 'ppe-rewards' );
			}
			if ( $rewards['spendable_at'] ) {
				/* translators: 1: a number of points, 2: a date */
				return sprintf( _n( 'This order earns you %1$s point, pending until the return window ends: you can spend it from %2$s.', 'This order earns you %1$s points, pending until the return window ends: you can spend them from %2$s.', $rewards['points'], 'ppe-rewards' ), $points, date_i18n( get_option( 'date_format' ), $rewards['spendable_at'] ) );
			}
			/* translators: %s: a number of points */
			return sprintf( _n( 'This order earns you %s point, pending until the return window ends.', 'This order earns you %s points, pending until the return window ends.', $rewards['points'], 'ppe-rewards' ), $points );
		}
		if ( null === $preview || $preview['points'] <= 0 ) {
			return '';
		}
		/* translators: %s: a number of points */
		$text = sprintf( _n( 'This order earns %s point.', 'This order earns %s points.', $preview['points'], 'ppe-rewards' ), PPE_Rewards_Account::points( $preview['points'] ) );
		if ( $preview['pending_days'] > 0 ) {
			/* translators: %d: a number of days */
			$text .= ' ' . sprintf( _n( 'They stay pending for %d day after delivery (the return window), then they are yours to spend.', 'They stay pending for %d days after delivery (the return window), then they are yours to spend.', $preview['pending_days'], 'ppe-rewards' ), $preview['pending_days'] );
		}
		if ( $guest ) {
			$text .= ' ' . __( 'Create an account with the same e-mail address to collect them.', 'ppe-rewards' );
		}
		return $text;
	}

	/**
	 * The section, or nothing: not connected, turned off, another customer's order, or nothing known to say.
	 *
	 * @param int $order_id The order.
	 * @return void
	 */
	public static function render( $order_id ) {
		if ( ! PPE_Rewards_Settings::connected() || ! PPE_Rewards_Settings::get()['thankyou'] || ! function_exists( 'wc_get_order' ) ) {
			return;
		}
		$order = wc_get_order( $order_id );
		if ( ! $order ) {
			return;
		}
		$customer = (int) $order->get_customer_id();
		$user     = get_current_user_id();
		if ( $customer > 0 && $customer !== $user ) {
			return; // Another customer's order: never (WooCommerce asks them to log in first anyway).
		}
		$mine    = $customer > 0;
		$rewards = $mine ? self::order_rewards( $order ) : null;
		// A guest, or our webhook has not landed (404) or the ledger holds nothing yet: the store's rate.
		$preview  = ( null === $rewards || 'none' === $rewards['state'] ) ? self::preview( $order ) : null;
		$text     = self::points_text( $rewards, $preview, ! $mine && $user <= 0 );
		$first    = $mine && ( null !== $rewards && null !== $rewards['first_order'] ? $rewards['first_order'] : ( function_exists( 'wc_get_customer_order_count' ) && 1 === (int) wc_get_customer_order_count( $user ) ) );
		$referral = $mine ? self::referral_url() : '';
		if ( '' === $text && '' === $referral ) {
			return; // Nothing from us could be read: the page stays WooCommerce's own.
		}
		echo '<section class="ppe-thankyou">';
		if ( $first ) {
			echo '<h2 class="ppe-welcome">' . esc_html__( 'Welcome! Your first order earns you points.', 'ppe-rewards' ) . '</h2>';
		} else {
			echo '<h2>' . esc_html__( 'Your rewards', 'ppe-rewards' ) . '</h2>';
		}
		if ( '' !== $text ) {
			echo '<p class="ppe-order-points">' . esc_html( $text ) . '</p>';
		}
		if ( '' !== $referral ) {
			echo PPE_Rewards_Storefront::referral_html( $referral ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped inside.
		}
		echo '</section>';
	}
}
