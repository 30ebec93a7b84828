<?php
/**
 * My Account > Rewards (balance, tier, rewards to redeem, referral link, activity), read server side from our
 * storefront API with a token minted here. The order pages (thank-you, view order) are class-ppe-rewards-order.php.
 *
 * Redeeming happens in the widget's panel (its launcher), which shows the code once the store has it.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * The My Account endpoint.
 */
final class PPE_Rewards_Account {

	const ENDPOINT = 'ppe-rewards';

	/**
	 * Hooks.
	 *
	 * @return void
	 */
	public static function register() {
		add_filter( 'woocommerce_get_query_vars', array( __CLASS__, 'query_vars' ) );
		add_filter( 'woocommerce_account_menu_items', array( __CLASS__, 'menu_items' ) );
		add_action( 'woocommerce_account_' . self::ENDPOINT . '_endpoint', array( __CLASS__, 'render' ) );
		add_filter( 'woocommerce_endpoint_' . self::ENDPOINT . '_title', array( __CLASS__, 'title' ) );
	}

	/**
	 * The page's title on our endpoint, as WooCommerce titles its own ("Orders"...); without it the page stays
	 * "My account".
	 *
	 * @return string
	 */
	public static function title() {
		return __( 'Rewards', 'ppe-rewards' );
	}

	/**
	 * The rewrite endpoint (on init, and on activation before flushing).
	 *
	 * @return void
	 */
	public static function add_endpoint() {
		add_rewrite_endpoint( self::ENDPOINT, EP_ROOT | EP_PAGES );
	}

	/**
	 * WooCommerce's query vars (so is_wc_endpoint_url and the title know ours).
	 *
	 * @param array $vars Query vars.
	 * @return array
	 */
	public static function query_vars( $vars ) {
		$vars[ self::ENDPOINT ] = self::ENDPOINT;
		return $vars;
	}

	/**
	 * "Rewards" before "Log out".
	 *
	 * @param array $items Menu items.
	 * @return array
	 */
	public static function menu_items( $items ) {
		if ( ! PPE_Rewards_Settings::connected() ) {
			return $items;
		}
		$logout = isset( $items['customer-logout'] ) ? array( 'customer-logout' => $items['customer-logout'] ) : array();
		unset( $items['customer-logout'] );
		$items[ self::ENDPOINT ] = __( 'Rewards', 'ppe-rewards' );
		return array_merge( $items, $logout );
	}

	/**
	 * The points as a whole number's text.
	 *
	 * @param mixed $value A number from our API.
	 * @return string
	 */
	public static function points( $value ) {
		return number_format_i18n( is_numeric( $value ) ? (float) $value : 0 );
	}

	/**
	 * The Rewards tab.
	 *
	 * @return void
	 */
	public static function render() {
		$balance = PPE_Rewards_Client::storefront_get( '/me/balance' );
		if ( ! is_array( $balance ) ) {
			echo '<p class="ppe-unavailable">' . esc_html__( 'Your rewards cannot be shown just now. Please try again later.', 'ppe-rewards' ) . '</p>';
			return;
		}
		echo '<div class="ppe-account">';
		echo '<h2>' . esc_html__( 'Your points', 'ppe-rewards' ) . '</h2>';
		echo '<p class="ppe-balance"><strong class="ppe-spendable">' . esc_html( self::points( $balance['spendable'] ?? 0 ) ) . '</strong> ' . esc_html__( 'points to spend', 'ppe-rewards' ) . '</p>';
		if ( ! empty( $balance['pending'] ) ) {
			$pending = (int) $balance['pending'];
			/* translators: %s: a number of points */
			echo '<p class="ppe-pending">' . esc_html( sprintf( _n( '%s point pending (spendable after the return window)', '%s points pending (spendable after the return window)', $pending, 'ppe-rewards' ), self::points( $pending ) ) ) . '</p>';
		}
		if ( ! empty( $balance['tier'] ) && is_string( $balance['tier'] ) ) {
			/* translators: %s: the tier's name */
			echo '<p class="ppe-tier">' . esc_html( sprintf( __( 'Tier: %s', 'ppe-rewards' ), $balance['tier'] ) ) . '</p>';
		}
		$rewards = PPE_Rewards_Client::storefront_get( '/rewards' );
		if ( is_array( $rewards ) && ! empty( $rewards['rewards'] ) && is_array( $rewards['rewards'] ) ) {
			echo '<h3>' . esc_html__( 'Rewards', 'ppe-rewards' ) . '</h3><ul class="ppe-rewards-list">';
			foreach ( $rewards['rewards'] as $reward ) {
				if ( is_array( $reward ) ) {
					self::reward_item( $reward, (int) ( $balance['spendable'] ?? 0 ) );
				}
			}
			echo '</ul><p>' . esc_html__( 'Redeem them in the Rewards panel (the button at the corner of the page).', 'ppe-rewards' ) . '</p>';
		}
		$referral = PPE_Rewards_Client::storefront_get( '/me/referral' );
		if ( is_array( $referral ) && ! empty( $referral['share_url'] ) ) {
			echo '<h3>' . esc_html__( 'Refer a friend', 'ppe-rewards' ) . '</h3>';
			echo PPE_Rewards_Storefront::referral_html( (string) $referral['share_url'] ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped inside.
		}
		$activity = PPE_Rewards_Client::storefront_get( '/me/activity' );
		if ( is_array( $activity ) && ! empty( $activity['activity'] ) && is_array( $activity['activity'] ) ) {
			echo '<h3>' . esc_html__( 'Activity', 'ppe-rewards' ) . '</h3><table class="ppe-activity shop_table"><tbody>';
			foreach ( array_slice( $activity['activity'], 0, 10 ) as $row ) {
				if ( ! is_array( $row ) ) {
					continue;
				}
				$when = isset( $row['at'] ) ? strtotime( (string) $row['at'] ) : false;
				echo '<tr><td>' . esc_html( $when ? date_i18n( get_option( 'date_format' ), $when ) : '' ) . '</td><td>' . esc_html( self::kind_name( (string) ( $row['kind'] ?? '' ) ) ) . '</td><td>' . esc_html( self::points( $row['points'] ?? 0 ) ) . '</td></tr>';
			}
			echo '</tbody></table>';
		}
		echo '</div>';
	}

	/**
	 * One reward of the catalogue: its name, its cost, and whether the customer's spendable points redeem it now
	 * (else how many more they need), so the list reads as the rewards to redeem rather than a price list.
	 *
	 * @param array $reward    One reward of GET /rewards.
	 * @param int   $spendable The customer's spendable points.
	 * @return void
	 */
	private static function reward_item( array $reward, $spendable ) {
		$cost  = (int) ( $reward['points'] ?? 0 );
		$short = $cost - $spendable;
		echo '<li' . ( $short <= 0 ? ' class="ppe-redeemable"' : '' ) . '>' . esc_html( self::reward_name( $reward ) ) . ' &middot; ' . esc_html(
			/* translators: %s: a number of points */
			sprintf( _n( '%s point', '%s points', $cost, 'ppe-rewards' ), self::points( $cost ) )
		) . ' &middot; ';
		if ( $short <= 0 ) {
			echo '<strong>' . esc_html__( 'You can redeem it now', 'ppe-rewards' ) . '</strong>';
		} else {
			/* translators: %s: a number of points */
			echo esc_html( sprintf( _n( '%s more point to go', '%s more points to go', $short, 'ppe-rewards' ), self::points( $short ) ) );
		}
		echo '</li>';
	}

	/**
	 * A points movement's kind as a word (the ledger's kinds, as the widget names them).
	 *
	 * @param string $kind The activity row's kind.
	 * @return string
	 */
	private static function kind_name( $kind ) {
		$names = array(
			'earn'           => __( 'Order', 'ppe-rewards' ),
			'reverse'        => __( 'Refund', 'ppe-rewards' ),
			'action'         => __( 'Bonus', 'ppe-rewards' ),
			'adjust'         => __( 'Adjustment', 'ppe-rewards' ),
			'redeem'         => __( 'Reward', 'ppe-rewards' ),
			'redeem_release' => __( 'Points returned', 'ppe-rewards' ),
			'tier_reward'    => __( 'Tier bonus', 'ppe-rewards' ),
			'expire'         => __( 'Expired', 'ppe-rewards' ),
		);
		return $names[ $kind ] ?? __( 'Points', 'ppe-rewards' );
	}

	/**
	 * A reward's name from its type and value.
	 *
	 * @param array $reward One reward of GET /rewards.
	 * @return string
	 */
	private static function reward_name( array $reward ) {
		$value = isset( $reward['value'] ) ? (string) $reward['value'] : '';
		switch ( $reward['type'] ?? '' ) {
			case 'percentage':
				/* translators: %s: a percentage */
				return sprintf( __( '%s%% off', 'ppe-rewards' ), $value );
			case 'free_shipping':
				return __( 'Free shipping', 'ppe-rewards' );
			default:
				/* translators: %s: an amount with its currency, as the store writes prices (e.g. €5.00) */
				return sprintf( __( '%s off', 'ppe-rewards' ), self::amount( $value, (string) ( $reward['currency'] ?? '' ) ) );
		}
	}

	/**
	 * An amount as the store writes its prices: WooCommerce's symbol for the currency, at the store's position
	 * ("€5.00", "20.00 zł"), as the widget names rewards; without WooCommerce, the ISO code after it.
	 *
	 * @param string $value    A decimal string from our API.
	 * @param string $currency An ISO 4217 code.
	 * @return string Plain text (WooCommerce's symbols and formats are HTML entities: decoded here, escaped on output).
	 */
	private static function amount( $value, $currency ) {
		if ( '' === $currency || ! function_exists( 'get_woocommerce_currency_symbol' ) || ! function_exists( 'get_woocommerce_price_format' ) ) {
			return trim( $value . ' ' . $currency );
		}
		return html_entity_decode( sprintf( get_woocommerce_price_format(), get_woocommerce_currency_symbol( $currency ), $value ), ENT_QUOTES, 'UTF-8' );
	}
}
