<?php
/**
 * My Account > Rewards, read from our storefront API with the customer's token (the order pages: OrderTest).
 */
final class AccountTest extends PPE_Test_Case {

	private function answers() {
		PPE_Test_Http::$responses['/api/v1/me/balance']  = array( 200, array( 'spendable' => 1250, 'pending' => 300, 'tier' => 'Gold <b>', 'progress' => null ) );
		PPE_Test_Http::$responses['/api/v1/rewards']     = array( 200, array( 'rewards' => array( array( 'id' => 'r5', 'type' => 'fixed_amount', 'points' => 500, 'value' => '5.00', 'currency' => 'EUR' ) ) ) );
		PPE_Test_Http::$responses['/api/v1/me/referral'] = array( 200, array( 'code' => 'ABCD2345', 'share_url' => 'https://app.example/ref/ABCD2345"><script>' ) );
		PPE_Test_Http::$responses['/api/v1/me/activity'] = array( 200, array( 'activity' => array( array( 'kind' => 'earn', 'points' => 300, 'at' => '2026-12-01T10:00:00+00:00' ) ) ) );
	}

	private function render( callable $call ) {
		ob_start();
		$call();
		return ob_get_clean();
	}

	public function test_the_tab_is_in_the_menu_before_log_out_once_connected() {
		$items = array( 'dashboard' => 'Dashboard', 'customer-logout' => 'Log out' );
		$this->assertSame( $items, PPE_Rewards_Account::menu_items( $items ) );
		$this->connect_plugin();
		$this->assertSame( array( 'dashboard', 'ppe-rewards', 'customer-logout' ), array_keys( PPE_Rewards_Account::menu_items( $items ) ) );
	}

	public function test_the_tab_shows_what_our_api_answers_escaped() {
		$this->connect_plugin();
		$id = $this->customer();
		$this->answers();
		$html = $this->render( array( 'PPE_Rewards_Account', 'render' ) );
		$this->assertStringContainsString( '<strong class="ppe-spendable">1,250</strong>', $html );
		$this->assertStringContainsString( 'Gold &lt;b&gt;', $html );
		$this->assertStringContainsString( '€5.00 off', $html ); // as the store writes prices, and the widget names it
		$this->assertStringContainsString( 'value="https://app.example/ref/ABCD2345&quot;&gt;&lt;script&gt;"', $html );
		$this->assertStringNotContainsString( '<script>', $html );
		$this->assertStringContainsString( '<td>Order</td>', $html );
		foreach ( PPE_Test_Http::$requests as $request ) {
			$token = substr( $request['args']['headers']['Authorization'], strlen( 'Bearer ' ) );
			$this->assertSame( (string) $id, $this->verified_claims( $token, self::SECRET )['cid'] );
			$this->assertStringContainsString( 'store=' . self::STORE_KEY, $request['url'] );
		}
	}

	public function test_each_reward_says_whether_it_can_be_redeemed_now_or_how_far_it_is() {
		$this->connect_plugin();
		$this->customer();
		$this->answers();
		PPE_Test_Http::$responses['/api/v1/rewards'] = array(
			200,
			array(
				'rewards' => array(
					array( 'id' => 'r5', 'type' => 'fixed_amount', 'points' => 1250, 'value' => '5.00', 'currency' => 'EUR' ),
					array( 'id' => 'r10', 'type' => 'percentage', 'points' => 1251, 'value' => '10' ),
					array( 'id' => 'ship', 'type' => 'free_shipping', 'points' => 3250 ),
				),
			),
		);
		$html = $this->render( array( 'PPE_Rewards_Account', 'render' ) );
		$this->assertStringContainsString( '<li class="ppe-redeemable">€5.00 off &middot; 1,250 points &middot; <strong>You can redeem it now</strong></li>', $html );
		$this->assertStringContainsString( '<li>10% off &middot; 1,251 points &middot; 1 more point to go</li>', $html );
		$this->assertStringContainsString( '<li>Free shipping &middot; 3,250 points &middot; 2,000 more points to go</li>', $html );
	}

	public function test_a_rewards_amount_is_written_as_the_store_writes_prices() {
		$this->connect_plugin();
		$this->customer();
		$this->answers();
		PPE_Test_Http::$responses['/api/v1/rewards'] = array( 200, array( 'rewards' => array( array( 'id' => 'r20', 'type' => 'fixed_amount', 'points' => 2000, 'value' => '20.00', 'currency' => 'PLN' ) ) ) );
		update_option( 'woocommerce_currency_pos', 'right_space' );
		$html = $this->render( array( 'PPE_Rewards_Account', 'render' ) );
		delete_option( 'woocommerce_currency_pos' );
		$this->assertStringContainsString( "<li>20.00\u{a0}zł off &middot; 2,000 points &middot; 750 more points to go</li>", $html );
	}

	public function test_the_page_is_titled_rewards_as_woocommerce_titles_its_own_endpoints() {
		// WooCommerce's endpoint title (WC_Query::get_endpoint_title) is '' for an endpoint it does not know,
		// which leaves the page titled "My account".
		$this->assertSame( 'Rewards', apply_filters( 'woocommerce_endpoint_ppe-rewards_title', '', 'ppe-rewards', '' ) );
		$this->assertSame( 'Orders', apply_filters( 'woocommerce_endpoint_orders_title', 'Orders', 'orders', '' ) );
	}

	public function test_the_account_pages_heading_in_the_loop_and_its_document_title_say_rewards() {
		global $wp, $wp_query, $wp_the_query;
		$account = (int) get_option( 'woocommerce_myaccount_page_id' );
		$saved   = array( $wp->query_vars, $wp_query, $wp_the_query );
		// The main query of /my-account/ppe-rewards/, in the loop (as a classic theme's page.php, or a block theme
		// from WordPress 6.4, renders the page's title).
		$wp->query_vars = array( 'page_id' => $account, 'ppe-rewards' => '' );
		$wp_query       = new WP_Query( array( 'page_id' => $account ) );
		$wp_the_query   = $wp_query;
		$wp_query->the_post();
		try {
			$this->assertSame( 'Rewards', apply_filters( 'the_title', 'My account', $account ) );
			$this->assertSame( 'My account', apply_filters( 'the_title', 'My account', $account ), 'once: a menu\'s title keeps its own' );
			$this->assertSame( 'Rewards', apply_filters( 'document_title_parts', array( 'title' => 'My account' ) )['title'] );
		} finally {
			add_filter( 'the_title', 'ppe_test_wc_page_endpoint_title' );
			add_filter( 'document_title_parts', 'ppe_test_wc_page_endpoint_document_title_parts' );
			wp_reset_postdata();
			list( $wp->query_vars, $wp_query, $wp_the_query ) = $saved;
		}
	}

	public function test_the_tab_says_so_when_our_api_is_away() {
		$this->connect_plugin();
		$this->customer();
		$html = $this->render( array( 'PPE_Rewards_Account', 'render' ) );
		$this->assertStringContainsString( 'ppe-unavailable', $html );
	}
}
