<?php
/**
 * Referral landing: the token in a first-party cookie, the friend's code applied with the cart's coupon API,
 * the token on the order.
 */
final class ReferralTest extends PPE_Test_Case {

	const TOKEN = 'WzcsIm5vbmNlIl0.aBcD-eFgH_iJkL';

	public function test_a_landing_applies_the_friends_code_and_tags_the_order() {
		$this->connect_plugin();
		PPE_Test_Http::$responses['/api/v1/referrals/friend-code'] = array( 200, array( 'code' => 'FRIEND-ABCDE23456' ) );
		WC()->cart->items = 2;
		$_GET['ppe_ref']  = self::TOKEN;
		PPE_Rewards_Referral::land();
		$this->assertSame( array( 'friend-abcde23456' ), WC()->cart->applied );
		$this->assertTrue( WC()->session->has_session(), 'a guest\'s session is started to keep the code' );
		$this->assertSame( self::TOKEN, $_COOKIE['ppe_ref'] );
		parse_str( (string) wp_parse_url( PPE_Test_Http::$requests[0]['url'], PHP_URL_QUERY ), $query );
		$this->assertSame( array( 'store' => self::STORE_KEY, 'token' => self::TOKEN ), $query );

		$_GET  = array(); // a later page of the visit: the cookie carries the token to the order
		$order = new PPE_Test_WC_Order( 10, 0 );
		PPE_Rewards_Referral::tag_order( $order );
		$this->assertSame( self::TOKEN, $order->get_meta( '_ppe_ref' ) );
		PPE_Rewards_Referral::apply_pending(); // once only
		$this->assertSame( array( 'friend-abcde23456' ), WC()->cart->applied );
	}

	public function test_an_empty_cart_gets_the_code_at_the_first_add_to_cart() {
		$this->connect_plugin();
		PPE_Test_Http::$responses['/api/v1/referrals/friend-code'] = array( 200, array( 'code' => 'FRIEND-LATER' ) );
		$_GET['ppe_ref'] = self::TOKEN;
		PPE_Rewards_Referral::land();
		$this->assertSame( array(), WC()->cart->applied );
		WC()->cart->items = 1;
		do_action( 'woocommerce_add_to_cart' );
		$this->assertSame( array( 'friend-later' ), WC()->cart->applied );
	}

	public function test_a_code_the_cart_refuses_is_tried_again_at_the_next_add_to_cart() {
		$this->connect_plugin();
		PPE_Test_Http::$responses['/api/v1/referrals/friend-code'] = array( 200, array( 'code' => 'FRIEND-LATER' ) );
		WC()->cart->items = 1;
		WC()->cart->known = array();
		$_GET['ppe_ref']  = self::TOKEN;
		PPE_Rewards_Referral::land();
		$this->assertSame( array(), WC()->cart->applied );
		WC()->cart->known = array( 'friend-later' );
		do_action( 'woocommerce_add_to_cart' );
		$this->assertSame( array( 'friend-later' ), WC()->cart->applied );
	}

	public function test_without_a_code_the_token_still_reaches_the_order() {
		$this->connect_plugin();
		$_GET['ppe_ref'] = self::TOKEN;
		PPE_Rewards_Referral::land(); // no double for the endpoint: the call fails
		$this->assertSame( array(), WC()->cart->applied );
		$order = new PPE_Test_WC_Order( 11, 0 );
		PPE_Rewards_Referral::tag_order( $order );
		$this->assertSame( self::TOKEN, $order->get_meta( '_ppe_ref' ) );
	}

	public function test_garbage_is_no_token() {
		$this->connect_plugin();
		foreach ( array( '<script>x</script>', 'short', str_repeat( 'a', 600 ), array( 'x' ) ) as $bad ) {
			$_GET['ppe_ref'] = $bad;
			PPE_Rewards_Referral::land();
		}
		$this->assertSame( array(), PPE_Test_Http::$requests );
		$this->assertArrayNotHasKey( 'ppe_ref', $_COOKIE );
	}

	public function test_a_code_that_is_not_a_code_is_not_applied() {
		$this->connect_plugin();
		PPE_Test_Http::$responses['/api/v1/referrals/friend-code'] = array( 200, array( 'code' => '"><script>' ) );
		$_GET['ppe_ref'] = self::TOKEN;
		PPE_Rewards_Referral::land();
		$this->assertSame( array(), WC()->cart->applied );
	}
}
