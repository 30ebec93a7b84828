<?php
/**
 * The settings page's actions: capability and nonce first, then Connect (PKCE), the return with a code, the
 * exchange, the status, Disconnect (a signed call), and escaping of what our service answers.
 */
final class AdminTest extends PPE_Test_Case {

	private function post_with_nonce( $action ) {
		$_POST['_wpnonce']    = wp_create_nonce( $action );
		$_REQUEST['_wpnonce'] = $_POST['_wpnonce'];
	}

	public function test_every_action_needs_the_capability() {
		$this->customer();
		foreach ( array( 'connect', 'disconnect', 'save', 'dashboard' ) as $action ) {
			$this->post_with_nonce( 'ppe_rewards_' . $action );
			try {
				call_user_func( array( 'PPE_Rewards_Admin', $action ) );
				$this->fail( $action . ' ran for a customer' );
			} catch ( PPE_Test_Died $died ) {
				$this->assertSame( 403, $died->getCode() );
			}
		}
		$this->assertSame( array(), PPE_Test_Http::$requests );
	}

	public function test_every_action_needs_its_nonce() {
		$this->admin();
		$this->connect_plugin();
		foreach ( array( 'connect', 'disconnect', 'save', 'dashboard' ) as $action ) {
			$this->post_with_nonce( 'ppe_rewards_other' );
			try {
				call_user_func( array( 'PPE_Rewards_Admin', $action ) );
				$this->fail( $action . ' ran without its nonce' );
			} catch ( PPE_Test_Died $died ) {
				$this->assertSame( 403, $died->getCode() );
			}
		}
		$this->assertTrue( PPE_Rewards_Settings::connected() );
		$this->assertSame( array(), PPE_Test_Http::$requests );
	}

	public function test_connect_sends_the_admin_to_our_service_with_a_challenge_only() {
		$this->admin();
		$this->post_with_nonce( 'ppe_rewards_connect' );
		$location = $this->redirect_of( array( 'PPE_Rewards_Admin', 'connect' ) );
		$this->assertStringStartsWith( $this->api( '/woocommerce/plugin/connect?' ), $location );
		parse_str( (string) wp_parse_url( $location, PHP_URL_QUERY ), $query );
		$this->assertSame( home_url(), $query['site'] );
		$this->assertSame( admin_url( 'admin.php?page=ppe-rewards' ), $query['return_to'] );
		$verifier = get_transient( 'ppe_rewards_pkce_1' );
		$this->assertSame( PPE_Rewards_Token::b64url( hash( 'sha256', $verifier, true ) ), $query['challenge'] );
		$this->assertStringNotContainsString( $verifier, $location );
	}

	public function test_the_code_is_exchanged_once_with_the_admins_verifier() {
		$this->admin();
		set_transient( 'ppe_rewards_pkce_1', 'v-123', HOUR_IN_SECONDS );
		PPE_Test_Http::$responses['/woocommerce/plugin/exchange'] = array(
			200,
			array( 'status' => 'connected', 'store_key' => self::STORE_KEY, 'secret' => self::SECRET, 'site_key' => self::SITE_KEY ),
		);
		$_GET['ppe_code'] = 'the-code';
		$location         = $this->redirect_of( array( 'PPE_Rewards_Admin', 'maybe_finish_connect' ) );
		$this->assertStringEndsWith( 'ppe_notice=connected', $location );
		$this->assertSame( self::SECRET, PPE_Rewards_Settings::connection()['secret'] );
		$sent = json_decode( PPE_Test_Http::$requests[0]['args']['body'], true );
		$this->assertSame( array( 'code' => 'the-code', 'site' => home_url(), 'verifier' => 'v-123' ), $sent );
		// The secret is not autoloaded with every page's options.
		global $wpdb;
		$this->assertSame( 'no', $wpdb->get_var( "SELECT autoload FROM {$wpdb->options} WHERE option_name = 'ppe_rewards_connection'" ) );

		PPE_Rewards_Settings::forget_connection();
		$again = $this->redirect_of( array( 'PPE_Rewards_Admin', 'maybe_finish_connect' ) );
		$this->assertStringEndsWith( 'ppe_notice=not_connected', $again );
		$this->assertCount( 1, PPE_Test_Http::$requests );
		$this->assertFalse( PPE_Rewards_Settings::connected() );
	}

	public function test_a_refused_exchange_leaves_the_plugin_unconnected() {
		$this->admin();
		set_transient( 'ppe_rewards_pkce_1', 'v-123', HOUR_IN_SECONDS );
		PPE_Test_Http::$responses['/woocommerce/plugin/exchange'] = array( 409, array( 'status' => 'code_used' ) );
		$_GET['ppe_code'] = 'the-code';
		$this->assertStringEndsWith( 'ppe_notice=not_connected', $this->redirect_of( array( 'PPE_Rewards_Admin', 'maybe_finish_connect' ) ) );
		$this->assertFalse( PPE_Rewards_Settings::connected() );
	}

	public function test_disconnect_is_a_signed_call_and_forgets_the_keys() {
		$this->admin();
		$this->connect_plugin();
		PPE_Test_Http::$responses['/woocommerce/plugin/disconnect'] = array( 202, array( 'status' => 'disconnecting' ) );
		$this->post_with_nonce( 'ppe_rewards_disconnect' );
		$this->assertStringEndsWith( 'ppe_notice=disconnected', $this->redirect_of( array( 'PPE_Rewards_Admin', 'disconnect' ) ) );
		$this->assertFalse( PPE_Rewards_Settings::connected() );
		$request = PPE_Test_Http::$requests[0];
		$this->assertSame( $this->api( '/woocommerce/plugin/disconnect' ), $request['url'] );
		$this->assertSame( self::STORE_KEY, $request['args']['headers']['X-PPE-Store'] );
		$this->assertMatchesRegularExpression( '/^t=(\d+),s=([0-9a-f]{64})$/', $request['args']['headers']['X-PPE-Signature'] );
		preg_match( '/^t=(\d+),s=/', $request['args']['headers']['X-PPE-Signature'], $match );
		$mac = hash_hmac( 'sha256', $match[1] . '.POST./woocommerce/plugin/disconnect.' . $request['args']['body'], self::SECRET );
		$this->assertSame( 't=' . $match[1] . ',s=' . $mac, $request['args']['headers']['X-PPE-Signature'] );
		$this->assertStringNotContainsString( self::SECRET, wp_json_encode( $request ) );
	}

	public function test_the_page_escapes_what_our_service_says() {
		$this->admin();
		PPE_Rewards_Settings::save_connection( self::STORE_KEY, self::SECRET, '<script>alert(1)</script>' );
		PPE_Test_Http::$responses['/woocommerce/plugin/status'] = array(
			200,
			array( 'status' => 'active', 'last_webhook_at' => '<img src=x onerror=alert(1)>' ),
		);
		ob_start();
		PPE_Rewards_Admin::render();
		$html = ob_get_clean();
		$this->assertStringNotContainsString( '<script>alert', $html );
		$this->assertStringNotContainsString( '<img src=x', $html );
		$this->assertStringContainsString( 'Last order update received: unknown', $html ); // not a date: not shown
		$this->assertStringContainsString( 'id="ppe_rewards_disconnect"', $html );
		$this->assertStringContainsString( 'name="_wpnonce"', $html );
		$this->assertStringNotContainsString( self::SECRET, $html );
	}

	public function test_the_last_webhook_is_a_date_in_the_sites_format_and_timezone() {
		$this->admin();
		$this->connect_plugin();
		$saved = array();
		foreach ( array( 'timezone_string' => 'Europe/Warsaw', 'gmt_offset' => '', 'date_format' => 'j F Y', 'time_format' => 'H:i' ) as $name => $value ) {
			$saved[ $name ] = get_option( $name );
			update_option( $name, $value );
		}
		PPE_Test_Http::$responses['/woocommerce/plugin/status'] = array(
			200,
			array( 'status' => 'active', 'last_webhook_at' => '2026-12-07T11:20:31.123456+00:00' ),
		);
		ob_start();
		PPE_Rewards_Admin::render();
		$html = ob_get_clean();
		foreach ( $saved as $name => $value ) {
			update_option( $name, $value );
		}
		// Our service answers UTC with microseconds; the merchant reads their own clock.
		$this->assertStringContainsString( '<p id="ppe-last-webhook">Last order update received: 7 December 2026 12:20</p>', $html );
	}

	public function test_save_keeps_the_choices() {
		$this->admin();
		$this->post_with_nonce( 'ppe_rewards_save' );
		$_POST['ppe_rewards'] = array( 'thankyou' => '1', 'api_url' => 'javascript:alert(1)' );
		$this->redirect_of( array( 'PPE_Rewards_Admin', 'save' ) );
		$settings = PPE_Rewards_Settings::get();
		$this->assertTrue( $settings['thankyou'] );
		$this->assertFalse( $settings['product_reviews'] );
		$this->assertFalse( $settings['launcher'] );
		$this->assertStringNotContainsString( 'javascript', get_option( PPE_Rewards_Settings::OPTION )['api_url'] );
	}

	public function test_open_the_dashboard_asks_our_service_for_a_fresh_link_by_a_signed_call() {
		$this->admin();
		$this->connect_plugin();
		$link = $this->api( '/app/login?token=abc.def' );
		PPE_Test_Http::$responses['/app/plugin-link'] = array( 200, array( 'status' => 'ok', 'url' => $link, 'expires_in' => 600 ) );
		$this->post_with_nonce( 'ppe_rewards_dashboard' );
		$this->assertSame( $link, $this->redirect_of( array( 'PPE_Rewards_Admin', 'dashboard' ) ) );
		$request = PPE_Test_Http::$requests[0];
		$this->assertSame( $this->api( '/app/plugin-link' ), $request['url'] );
		$this->assertSame( 'POST', $request['args']['method'] );
		preg_match( '/^t=(\d+),s=/', $request['args']['headers']['X-PPE-Signature'], $match );
		$mac = hash_hmac( 'sha256', $match[1] . '.POST./app/plugin-link.' . $request['args']['body'], self::SECRET );
		$this->assertSame( 't=' . $match[1] . ',s=' . $mac, $request['args']['headers']['X-PPE-Signature'] );
		$this->assertStringNotContainsString( self::SECRET, wp_json_encode( $request ) );
	}

	public function test_open_the_dashboard_goes_nowhere_else_and_says_when_it_cannot() {
		$this->admin();
		$this->connect_plugin();
		$this->post_with_nonce( 'ppe_rewards_dashboard' );
		foreach ( array( array( 200, array( 'url' => 'https://attacker.example/app/login?token=x' ) ), array( 401, array( 'status' => 'unauthenticated' ) ), array( 200, array( 'url' => array( 'x' ) ) ) ) as $answer ) {
			PPE_Test_Http::$responses['/app/plugin-link'] = $answer;
			$this->assertStringEndsWith( 'ppe_notice=dashboard_unavailable', $this->redirect_of( array( 'PPE_Rewards_Admin', 'dashboard' ) ) );
		}
		PPE_Rewards_Settings::forget_connection();
		$count = count( PPE_Test_Http::$requests );
		$this->assertStringEndsWith( 'ppe_notice=dashboard_unavailable', $this->redirect_of( array( 'PPE_Rewards_Admin', 'dashboard' ) ) );
		$this->assertCount( $count, PPE_Test_Http::$requests ); // not connected: nothing to sign with, nothing asked
	}

	public function test_the_page_offers_the_dashboard_once_connected_in_a_new_tab() {
		$this->admin();
		ob_start();
		PPE_Rewards_Admin::render();
		$this->assertStringNotContainsString( 'ppe_rewards_dashboard', ob_get_clean() );
		$this->connect_plugin();
		ob_start();
		PPE_Rewards_Admin::render();
		$html = ob_get_clean();
		$this->assertMatchesRegularExpression( '/<form method="post" style="[^"]*" action="[^"]+admin-post\.php" target="_blank"><input type="hidden" name="action" value="ppe_rewards_dashboard">/', $html );
		$this->assertStringNotContainsString( self::SECRET, $html );
		$this->assertStringNotContainsString( '/app/login', $html ); // no link waits in the page
	}
}
