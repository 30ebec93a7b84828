<?php
/**
 * WooCommerce > Rewards: Connect (one click: our /woocommerce/plugin/connect, then wc-auth at this store, then
 * back here with a one-time code exchanged server to server), the connection's status and last webhook,
 * Disconnect, and the display choices. Every action is an admin-post.php form with a nonce and a capability
 * check; the return from our service is checked by the PKCE verifier kept for the admin who pressed Connect.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * The settings page and its actions.
 */
final class PPE_Rewards_Admin {

	const PAGE       = 'ppe-rewards';
	const CAPABILITY = 'manage_woocommerce';

	/**
	 * Hooks.
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ), 60 );
		add_action( 'admin_post_ppe_rewards_connect', array( __CLASS__, 'connect' ) );
		add_action( 'admin_post_ppe_rewards_disconnect', array( __CLASS__, 'disconnect' ) );
		add_action( 'admin_post_ppe_rewards_save', array( __CLASS__, 'save' ) );
		add_action( 'admin_post_ppe_rewards_dashboard', array( __CLASS__, 'dashboard' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( PPE_REWARDS_FILE ), array( __CLASS__, 'action_links' ) );
	}

	/**
	 * The page's address.
	 *
	 * @param array $args Extra query arguments.
	 * @return string
	 */
	public static function page_url( array $args = array() ) {
		return add_query_arg( array_merge( array( 'page' => self::PAGE ), $args ), admin_url( 'admin.php' ) );
	}

	/**
	 * Under WooCommerce when it is active, else under Settings (so the page exists before WooCommerce does).
	 *
	 * @return void
	 */
	public static function menu() {
		$parent = class_exists( 'WooCommerce' ) ? 'woocommerce' : 'options-general.php';
		$hook   = add_submenu_page(
			$parent,
			__( 'Rewards', 'ppe-rewards' ),
			__( 'Rewards', 'ppe-rewards' ),
			self::CAPABILITY,
			self::PAGE,
			array( __CLASS__, 'render' )
		);
		if ( $hook ) {
			add_action( 'load-' . $hook, array( __CLASS__, 'maybe_finish_connect' ) );
		}
	}

	/**
	 * A "Settings" link on the Plugins screen.
	 *
	 * @param array $links Existing links.
	 * @return array
	 */
	public static function action_links( $links ) {
		array_unshift( $links, '<a href="' . esc_url( self::page_url() ) . '">' . esc_html__( 'Settings', 'ppe-rewards' ) . '</a>' );
		return $links;
	}

	/**
	 * Stop unless the current user may manage the store and the form's nonce is good.
	 *
	 * @param string $action The nonce action.
	 * @return void
	 */
	private static function check( $action ) {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to manage rewards.', 'ppe-rewards' ), 403 );
		}
		check_admin_referer( $action );
	}

	/**
	 * The verifier's transient, one per admin.
	 *
	 * @return string
	 */
	private static function verifier_key() {
		return 'ppe_rewards_pkce_' . get_current_user_id();
	}

	/**
	 * Connect: keep a PKCE verifier for this admin and go to our service with its challenge.
	 *
	 * @return void
	 */
	public static function connect() {
		self::check( 'ppe_rewards_connect' );
		$verifier = wp_generate_password( 64, false, false );
		set_transient( self::verifier_key(), $verifier, HOUR_IN_SECONDS );
		$challenge = PPE_Rewards_Token::b64url( hash( 'sha256', $verifier, true ) );
		$target    = add_query_arg(
			array(
				'site'      => rawurlencode( home_url() ),
				'return_to' => rawurlencode( self::page_url() ),
				'challenge' => $challenge,
			),
			PPE_Rewards_Settings::get()['api_url'] . '/woocommerce/plugin/connect'
		);
		wp_redirect( $target ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- our service, by design.
		exit;
	}

	/**
	 * Back from our service with ?ppe_code= (or ?ppe_error=): exchange the code, keep the keys.
	 *
	 * No nonce can travel through our service and the store's approval page; the verifier kept for this admin
	 * is the check (a code started by anyone else fails the exchange).
	 *
	 * @return void
	 */
	public static function maybe_finish_connect() {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- see above: PKCE instead of a nonce.
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		if ( isset( $_GET['ppe_error'] ) ) {
			wp_safe_redirect( self::page_url( array( 'ppe_notice' => 'not_connected' ) ) );
			exit;
		}
		if ( ! isset( $_GET['ppe_code'] ) ) {
			return;
		}
		$code     = sanitize_text_field( wp_unslash( $_GET['ppe_code'] ) );
		$verifier = get_transient( self::verifier_key() );
		// phpcs:enable
		delete_transient( self::verifier_key() );
		$notice = 'not_connected';
		if ( is_string( $verifier ) && '' !== $verifier ) {
			list( $status, $body ) = PPE_Rewards_Client::exchange( $code, $verifier );
			if ( 200 === $status && ! empty( $body['store_key'] ) && ! empty( $body['secret'] ) && ! empty( $body['site_key'] ) ) {
				PPE_Rewards_Settings::save_connection( (string) $body['store_key'], (string) $body['secret'], (string) $body['site_key'] );
				delete_transient( 'ppe_rewards_status' );
				$notice = 'connected';
			}
		}
		wp_safe_redirect( self::page_url( array( 'ppe_notice' => $notice ) ) );
		exit;
	}

	/**
	 * Disconnect: our service removes its webhooks and forgets the store's keys; we forget ours whatever it says.
	 *
	 * @return void
	 */
	public static function disconnect() {
		self::check( 'ppe_rewards_disconnect' );
		if ( PPE_Rewards_Settings::connected() ) {
			PPE_Rewards_Client::signed( 'POST', '/woocommerce/plugin/disconnect' );
		}
		PPE_Rewards_Settings::forget_connection();
		wp_safe_redirect( self::page_url( array( 'ppe_notice' => 'disconnected' ) ) );
		exit;
	}

	/**
	 * Open the dashboard: a fresh single-use sign-in link from our service (a signed call with the stored secret,
	 * app/dashboard/plugin_link.py), then the merchant's browser goes there. The secret never reaches the page,
	 * and the link is asked for only when pressed, so none sits in the page's HTML waiting to expire or leak.
	 *
	 * @return void
	 */
	public static function dashboard() {
		self::check( 'ppe_rewards_dashboard' );
		$url = '';
		if ( PPE_Rewards_Settings::connected() ) {
			list( $status, $body ) = PPE_Rewards_Client::signed( 'POST', '/app/plugin-link' );
			$url                   = 200 === $status && isset( $body['url'] ) && is_string( $body['url'] ) ? $body['url'] : '';
		}
		// Only a sign-in link of our own service, whatever the answer said.
		if ( 0 !== strpos( $url, PPE_Rewards_Settings::get()['api_url'] . '/app/login?token=' ) ) {
			wp_safe_redirect( self::page_url( array( 'ppe_notice' => 'dashboard_unavailable' ) ) );
			exit;
		}
		wp_redirect( $url ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- our service, checked above.
		exit;
	}

	/**
	 * Save the display choices and the service address.
	 *
	 * @return void
	 */
	public static function save() {
		self::check( 'ppe_rewards_save' );
		$input = isset( $_POST['ppe_rewards'] ) && is_array( $_POST['ppe_rewards'] ) ? map_deep( wp_unslash( $_POST['ppe_rewards'] ), 'sanitize_text_field' ) : array();
		PPE_Rewards_Settings::save( $input );
		wp_safe_redirect( self::page_url( array( 'ppe_notice' => 'saved' ) ) );
		exit;
	}

	/**
	 * Our service's view of the connection (cached a minute), or null when it could not be asked.
	 *
	 * @return array|null
	 */
	private static function status() {
		$cached = get_transient( 'ppe_rewards_status' );
		if ( is_array( $cached ) ) {
			return $cached;
		}
		list( $code, $body ) = PPE_Rewards_Client::signed( 'GET', '/woocommerce/plugin/status' );
		if ( 200 !== $code ) {
			return null;
		}
		set_transient( 'ppe_rewards_status', $body, MINUTE_IN_SECONDS );
		return $body;
	}

	/**
	 * A time our service sent (ISO 8601, UTC, with microseconds) as the merchant reads one elsewhere in their
	 * admin: the site's date and time formats, in the site's timezone.
	 *
	 * @param mixed $iso The answer's value.
	 * @return string
	 */
	private static function when( $iso ) {
		if ( empty( $iso ) ) {
			return __( 'none yet', 'ppe-rewards' );
		}
		$time = is_string( $iso ) ? strtotime( $iso ) : false;
		if ( false === $time ) {
			return __( 'unknown', 'ppe-rewards' );
		}
		return wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $time );
	}

	/**
	 * The page.
	 *
	 * @return void
	 */
	public static function render() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$settings   = PPE_Rewards_Settings::get();
		$connection = PPE_Rewards_Settings::connection();
		$notices    = array(
			'connected'             => __( 'Connected. Your customers now see their rewards.', 'ppe-rewards' ),
			'not_connected'         => __( 'The connection did not complete. Please try again.', 'ppe-rewards' ),
			'disconnected'          => __( 'Disconnected.', 'ppe-rewards' ),
			'saved'                 => __( 'Settings saved.', 'ppe-rewards' ),
			'dashboard_unavailable' => __( 'The dashboard could not be opened just now. Please try again.', 'ppe-rewards' ),
		);
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- display only.
		$notice = isset( $_GET['ppe_notice'] ) ? sanitize_key( wp_unslash( $_GET['ppe_notice'] ) ) : '';
		echo '<div class="wrap"><h1>' . esc_html__( 'Rewards', 'ppe-rewards' ) . '</h1>';
		if ( isset( $notices[ $notice ] ) ) {
			$class = in_array( $notice, array( 'not_connected', 'dashboard_unavailable' ), true ) ? 'notice-error' : 'notice-success';
			echo '<div class="notice ' . esc_attr( $class ) . '"><p>' . esc_html( $notices[ $notice ] ) . '</p></div>';
		}
		echo '<h2>' . esc_html__( 'Connection', 'ppe-rewards' ) . '</h2>';
		if ( PPE_Rewards_Settings::connected() ) {
			$status = self::status();
			echo '<p id="ppe-status">' . esc_html(
				sprintf(
					/* translators: %s: the store's address as our service knows it */
					__( 'Connected as %s.', 'ppe-rewards' ),
					$connection['site_key']
				)
			) . '</p>';
			if ( null === $status ) {
				echo '<p>' . esc_html__( 'Our service could not be reached just now.', 'ppe-rewards' ) . '</p>';
			} else {
				$last = self::when( $status['last_webhook_at'] ?? null );
				echo '<p id="ppe-last-webhook">' . esc_html(
					/* translators: %s: a date and time, or "none yet", or "unknown" */
					sprintf( __( 'Last order update received: %s', 'ppe-rewards' ), $last )
				) . '</p>';
				if ( 'active' !== ( $status['status'] ?? '' ) ) {
					echo '<p>' . esc_html__( 'Our service no longer holds this store\'s keys: connect again.', 'ppe-rewards' ) . '</p>';
				}
			}
			echo '<p>' . esc_html__( 'Your programme, its figures and its settings are in the dashboard.', 'ppe-rewards' ) . '</p>';
			self::button( 'ppe_rewards_dashboard', __( 'Open the dashboard', 'ppe-rewards' ), 'primary', '_blank' );
			self::button( 'ppe_rewards_disconnect', __( 'Disconnect', 'ppe-rewards' ), 'secondary' );
		} else {
			echo '<p>' . esc_html__( 'Connect this store to start the rewards programme. WooCommerce will ask you to approve access.', 'ppe-rewards' ) . '</p>';
			self::button( 'ppe_rewards_connect', __( 'Connect', 'ppe-rewards' ), 'primary' );
		}
		echo '<h2>' . esc_html__( 'Display', 'ppe-rewards' ) . '</h2>';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="ppe_rewards_save">';
		wp_nonce_field( 'ppe_rewards_save' );
		echo '<table class="form-table" role="presentation">';
		$checks = array(
			'launcher'        => __( 'Show the rewards launcher on every page', 'ppe-rewards' ),
			'thankyou'        => __( 'Show points and the referral link after checkout', 'ppe-rewards' ),
			'product_reviews' => __( 'Show stars and reviews on product pages', 'ppe-rewards' ),
		);
		foreach ( $checks as $key => $label ) {
			echo '<tr><th scope="row">' . esc_html( $label ) . '</th><td><input type="checkbox" name="ppe_rewards[' . esc_attr( $key ) . ']" value="1"' . checked( $settings[ $key ], true, false ) . '></td></tr>';
		}
		$readonly = defined( 'PPE_REWARDS_API_URL' ) ? ' readonly' : '';
		echo '<tr><th scope="row"><label for="ppe-api-url">' . esc_html__( 'Service address', 'ppe-rewards' ) . '</label></th><td><input id="ppe-api-url" class="regular-text" type="url" name="ppe_rewards[api_url]" value="' . esc_attr( $settings['api_url'] ) . '"' . esc_attr( $readonly ) . '></td></tr>';
		echo '</table>';
		submit_button( __( 'Save', 'ppe-rewards' ) );
		echo '</form></div>';
	}

	/**
	 * A one-button admin-post form with its nonce.
	 *
	 * @param string $action The admin-post action (also the nonce action).
	 * @param string $label  The button's text.
	 * @param string $kind   primary or secondary.
	 * @param string $target The form's target ('' for this tab).
	 * @return void
	 */
	private static function button( $action, $label, $kind, $target = '' ) {
		$target = '' !== $target ? ' target="' . esc_attr( $target ) . '"' : '';
		echo '<form method="post" style="margin:0 0 8px" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '"' . $target . '>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped above.
		echo '<input type="hidden" name="action" value="' . esc_attr( $action ) . '">';
		wp_nonce_field( $action );
		submit_button( $label, $kind, 'submit', false, array( 'id' => $action ) );
		echo '</form>';
	}
}
