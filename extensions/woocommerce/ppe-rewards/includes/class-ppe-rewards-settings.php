<?php
/**
 * The plugin's two options: what the merchant chose (ppe_rewards_settings) and what connecting gave us
 * (ppe_rewards_connection, not autoloaded: it holds the storefront secret). uninstall.php removes both.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * Reading and writing the options.
 */
final class PPE_Rewards_Settings {

	const OPTION     = 'ppe_rewards_settings';
	const CONNECTION = 'ppe_rewards_connection';

	/**
	 * The merchant's choices, with defaults.
	 *
	 * @return array{api_url: string, thankyou: bool, product_reviews: bool, launcher: bool}
	 */
	public static function get() {
		$saved = get_option( self::OPTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		return array(
			'api_url'         => self::api_url( isset( $saved['api_url'] ) ? (string) $saved['api_url'] : '' ),
			'thankyou'        => ! isset( $saved['thankyou'] ) || (bool) $saved['thankyou'],
			'product_reviews' => ! isset( $saved['product_reviews'] ) || (bool) $saved['product_reviews'],
			'launcher'        => ! isset( $saved['launcher'] ) || (bool) $saved['launcher'],
		);
	}

	/**
	 * Our service's base URL: wp-config.php's constant, else the saved one, else the build's default.
	 *
	 * @param string $saved The saved value.
	 * @return string Without a trailing slash.
	 */
	public static function api_url( $saved ) {
		if ( defined( 'PPE_REWARDS_API_URL' ) ) {
			return untrailingslashit( (string) constant( 'PPE_REWARDS_API_URL' ) );
		}
		return untrailingslashit( '' !== $saved ? $saved : PPE_REWARDS_DEFAULT_API_URL );
	}

	/**
	 * Save the merchant's choices (already checked by the caller: nonce and capability).
	 *
	 * @param array $input Raw form values.
	 * @return void
	 */
	public static function save( array $input ) {
		$url = isset( $input['api_url'] ) ? esc_url_raw( trim( (string) $input['api_url'] ), array( 'https', 'http' ) ) : '';
		update_option(
			self::OPTION,
			array(
				'api_url'         => $url,
				'thankyou'        => ! empty( $input['thankyou'] ),
				'product_reviews' => ! empty( $input['product_reviews'] ),
				'launcher'        => ! empty( $input['launcher'] ),
			)
		);
	}

	/**
	 * What connecting gave us; empty strings when not connected.
	 *
	 * @return array{store_key: string, secret: string, site_key: string, connected_at: int}
	 */
	public static function connection() {
		$saved = get_option( self::CONNECTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		return array(
			'store_key'    => isset( $saved['store_key'] ) ? (string) $saved['store_key'] : '',
			'secret'       => isset( $saved['secret'] ) ? (string) $saved['secret'] : '',
			'site_key'     => isset( $saved['site_key'] ) ? (string) $saved['site_key'] : '',
			'connected_at' => isset( $saved['connected_at'] ) ? (int) $saved['connected_at'] : 0,
		);
	}

	/**
	 * Is the plugin connected (it holds a store key and a secret)?
	 *
	 * @return bool
	 */
	public static function connected() {
		$connection = self::connection();
		return '' !== $connection['store_key'] && '' !== $connection['secret'];
	}

	/**
	 * Keep what the exchange answered.
	 *
	 * @param string $store_key Public store key.
	 * @param string $secret    Storefront secret.
	 * @param string $site_key  Site key.
	 * @return void
	 */
	public static function save_connection( $store_key, $secret, $site_key ) {
		$value = array(
			'store_key'    => $store_key,
			'secret'       => $secret,
			'site_key'     => $site_key,
			'connected_at' => time(),
		);
		// Not autoloaded: the secret is read only when a token is minted or a call signed.
		if ( false === get_option( self::CONNECTION, false ) ) {
			add_option( self::CONNECTION, $value, '', false );
		} else {
			update_option( self::CONNECTION, $value, false );
		}
	}

	/**
	 * Forget the connection.
	 *
	 * @return void
	 */
	public static function forget_connection() {
		delete_option( self::CONNECTION );
		delete_transient( 'ppe_rewards_status' );
	}
}
