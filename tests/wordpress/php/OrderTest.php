<?php
/**
 * The thank-you page and the customer's view of an order (PPE_Rewards_Order): our ledger's word for the order's
 * own customer, the store's earn preview for a guest or before our webhook, the referral link, the first-order
 * welcome; short timeouts, brief caching, nothing shown on failure, never another customer's order.
 */
final class OrderTest extends PPE_Test_Case {

	private function html( $order_id ) {
		ob_start();
		PPE_Rewards_Order::render( $order_id );
		return ob_get_clean();
	}

	private function order( $id, $customer ) {
		$GLOBALS['ppe_test_orders'][ $id ] = new PPE_Test_WC_Order( $id, $customer );
		return $GLOBALS['ppe_test_orders'][ $id ];
	}

	private function paths() {
		return array_map(
			static function ( $request ) {
				return (string) wp_parse_url( $request['url'], PHP_URL_PATH );
			},
			PPE_Test_Http::$requests
		);
	}

	private function referral() {
		PPE_Test_Http::$responses['/api/v1/me/referral'] = array( 200, array( 'code' => 'ABCD2345', 'share_url' => 'https://app.example/r/ABCD2345"><script>' ) );
	}

	public function test_the_orders_own_customer_sees_what_our_ledger_says_with_a_welcome() {
		$this->connect_plugin();
		$id = $this->customer();
		$this->order( 20, $id );
		$this->referral();
		PPE_Test_Http::$responses['/api/v1/orders/20/rewards'] = array(
			200,
			array( 'order_id' => '20', 'points' => 1250, 'state' => 'pending', 'spendable_at' => '2027-01-06T10:00:00+00:00', 'first_order' => true, 'reviews' => array() ),
		);
		$html = $this->html( 20 );
		$this->assertStringContainsString( 'class="ppe-welcome"', $html );
		$this->assertStringContainsString( 'This order earns you 1,250 points, pending until the return window ends: you can spend them from ' . date_i18n( get_option( 'date_format' ), strtotime( '2027-01-06T10:00:00+00:00' ) ) . '.', $html );
		$this->assertStringContainsString( 'value="https://app.example/r/ABCD2345&quot;&gt;&lt;script&gt;"', $html );
		$this->assertStringNotContainsString( '<script>', $html );
		$this->assertSame( array( '/api/v1/orders/20/rewards', '/api/v1/me/referral' ), $this->paths() );
		foreach ( PPE_Test_Http::$requests as $request ) {
			$this->assertSame( PPE_Rewards_Client::PAGE_TIMEOUT, $request['args']['timeout'] );
			$this->assertStringContainsString( 'store=' . self::STORE_KEY, $request['url'] );
			$token = substr( $request['args']['headers']['Authorization'], strlen( 'Bearer ' ) );
			$this->assertSame( (string) $id, $this->verified_claims( $token, self::SECRET )['cid'] );
		}
		// Cached briefly: the next view of the page asks nothing.
		$this->assertSame( $html, $this->html( 20 ) );
		$this->assertCount( 2, PPE_Test_Http::$requests );
	}

	public function test_spendable_and_reversed_orders_say_so() {
		$this->connect_plugin();
		$id = $this->customer();
		$this->order( 20, $id );
		$this->order( 21, $id );
		$GLOBALS['ppe_test_order_counts'][ $id ] = 4;
		PPE_Test_Http::$responses['/api/v1/orders/20/rewards'] = array( 200, array( 'order_id' => '20', 'points' => 1, 'state' => 'spendable', 'spendable_at' => null, 'first_order' => false ) );
		PPE_Test_Http::$responses['/api/v1/orders/21/rewards'] = array( 200, array( 'order_id' => '21', 'points' => 90, 'state' => 'reversed', 'spendable_at' => null, 'first_order' => false ) );
		$spendable = $this->html( 20 );
		$this->assertStringContainsString( 'This order earned you 1 point, ready to spend.', $spendable );
		$this->assertStringNotContainsString( 'ppe-welcome', $spendable );
		$this->assertStringContainsString( 'were taken back after its refund', $this->html( 21 ) );
	}

	public function test_before_our_webhook_the_stores_rate_previews_the_order_total() {
		$this->connect_plugin();
		$id    = $this->customer();
		$order = $this->order( 20, $id );
		$order->total    = '59.90';
		$order->currency = 'eur';
		$GLOBALS['ppe_test_order_counts'][ $id ] = 1;
		PPE_Test_Http::$responses['/api/v1/orders/20/rewards']    = array( 404, array( 'status' => 'not_found' ) );
		PPE_Test_Http::$responses['/api/v1/loyalty/earn-preview'] = array( 200, array( 'points' => 59, 'currency' => 'EUR', 'pending_days' => 30 ) );
		$html = $this->html( 20 );
		$this->assertStringContainsString( 'class="ppe-welcome"', $html ); // the order count, as our answer had none
		$this->assertStringContainsString( 'This order earns 59 points. They stay pending for 30 days after delivery (the return window), then they are yours to spend.', $html );
		$this->assertStringNotContainsString( 'Create an account', $html );
		$preview = PPE_Test_Http::$requests[1];
		parse_str( (string) wp_parse_url( $preview['url'], PHP_URL_QUERY ), $query );
		$this->assertSame( array( 'store' => self::STORE_KEY, 'amount' => '59.90', 'currency' => 'EUR' ), $query );
		$this->assertArrayNotHasKey( 'Authorization', $preview['args']['headers'] ); // public: the store's key only
	}

	public function test_a_guest_sees_the_preview_and_how_to_keep_the_points() {
		$this->connect_plugin();
		$this->order( 30, 0 );
		PPE_Test_Http::$responses['/api/v1/loyalty/earn-preview'] = array( 200, array( 'points' => 59, 'currency' => 'EUR', 'pending_days' => 1 ) );
		$html = $this->html( 30 );
		$this->assertStringContainsString( 'This order earns 59 points. They stay pending for 1 day after delivery', $html );
		$this->assertStringContainsString( 'Create an account with the same e-mail address to collect them.', $html );
		$this->assertStringNotContainsString( 'ppe-welcome', $html );
		$this->assertSame( array( '/api/v1/loyalty/earn-preview' ), $this->paths() );
		$this->customer(); // a logged-in visitor of a guest's order: the preview, not "create an account"
		$this->assertStringNotContainsString( 'Create an account', $this->html( 30 ) );
	}

	public function test_another_customers_order_shows_nothing_and_asks_nothing() {
		$this->connect_plugin();
		$id = $this->customer();
		$this->order( 21, $id + 100 );
		$this->referral();
		$this->assertSame( '', $this->html( 21 ) );
		$this->assertSame( array(), PPE_Test_Http::$requests );
	}

	public function test_when_our_service_is_away_the_page_is_woocommerces_own_and_asked_once() {
		$this->connect_plugin();
		$id = $this->customer();
		$this->order( 20, $id );
		$this->assertSame( '', $this->html( 20 ) );
		$asked = count( PPE_Test_Http::$requests );
		$this->assertSame( 3, $asked ); // the order, the preview, the referral link: each failed
		$this->assertSame( '', $this->html( 20 ) );
		$this->assertCount( $asked, PPE_Test_Http::$requests ); // the failures are cached briefly too
	}

	public function test_nonsense_from_our_service_is_not_shown() {
		$this->connect_plugin();
		$id = $this->customer();
		$this->order( 20, $id );
		PPE_Test_Http::$responses['/api/v1/orders/20/rewards']    = array( 200, array( 'order_id' => '99', 'points' => 5, 'state' => 'pending' ) );
		PPE_Test_Http::$responses['/api/v1/loyalty/earn-preview'] = array( 200, array( 'points' => '<b>x</b>' ) );
		$this->assertSame( '', $this->html( 20 ) );
	}

	public function test_the_setting_turns_it_off_and_the_hooks_are_woocommerces() {
		$this->connect_plugin();
		$this->order( 30, 0 );
		PPE_Rewards_Settings::save( array( 'launcher' => '1' ) );
		$this->assertSame( '', $this->html( 30 ) );
		$this->assertSame( array(), PPE_Test_Http::$requests );
		$this->assertSame( 20, has_action( 'woocommerce_thankyou', array( 'PPE_Rewards_Order', 'render' ) ) );
		$this->assertSame( 20, has_action( 'woocommerce_view_order', array( 'PPE_Rewards_Order', 'render' ) ) );
	}
}
