<?php
/**
 * The widget's script tag, HPOS, product pages.
 */
final class StorefrontTest extends PPE_Test_Case {

	private function tag() {
		return PPE_Rewards_Storefront::script_tag( '<script src="https://x/widget.js" id="ppe-rewards-widget-js"></script>', PPE_Rewards_Storefront::HANDLE );
	}

	public function test_a_customer_page_carries_a_token_and_never_the_secret() {
		$this->connect_plugin();
		$id  = $this->customer();
		$tag = $this->tag();
		$this->assertStringContainsString( ' defer ', $tag );
		$this->assertStringContainsString( 'data-store="' . self::STORE_KEY . '"', $tag );
		$this->assertStringContainsString( 'data-api="' . esc_attr( PPE_Rewards_Settings::get()['api_url'] ) . '"', $tag );
		$this->assertMatchesRegularExpression( '/data-token="([^"]+)"/', $tag );
		preg_match( '/data-token="([^"]+)"/', $tag, $match );
		$this->assertSame( (string) $id, $this->verified_claims( $match[1], self::SECRET )['cid'] );
		$this->assertStringNotContainsString( self::SECRET, $tag );
	}

	public function test_a_guest_page_has_no_token_and_other_scripts_are_left_alone() {
		$this->connect_plugin();
		$this->assertStringNotContainsString( 'data-token', $this->tag() );
		$other = '<script src="https://x/other.js"></script>';
		$this->assertSame( $other, PPE_Rewards_Storefront::script_tag( $other, 'other' ) );
	}

	public function test_attributes_are_escaped() {
		PPE_Rewards_Settings::save_connection( 'ppk_1_x"><script>alert(1)</script>', self::SECRET, self::SITE_KEY );
		$tag = $this->tag();
		$this->assertStringContainsString( 'data-store="ppk_1_x&quot;&gt;&lt;script&gt;', $tag );
		$this->assertSame( 1, substr_count( $tag, '<script' ) );
	}

	public function test_the_widget_is_enqueued_only_once_connected() {
		PPE_Rewards_Storefront::enqueue();
		$this->assertFalse( wp_script_is( PPE_Rewards_Storefront::HANDLE, 'enqueued' ) );
		$this->connect_plugin();
		PPE_Rewards_Storefront::enqueue();
		$this->assertTrue( wp_script_is( PPE_Rewards_Storefront::HANDLE, 'enqueued' ) );
		$this->assertTrue( wp_style_is( PPE_Rewards_Storefront::HANDLE, 'enqueued' ) );
		$src = wp_scripts()->registered[ PPE_Rewards_Storefront::HANDLE ]->src;
		$this->assertSame( plugins_url( 'assets/widget.js', PPE_REWARDS_FILE ), $src, 'the plugin\'s own copy, no remote code' );
	}

	public function test_with_the_launcher_the_page_scrolls_what_it_brings_into_view_clear_of_it() {
		$this->connect_plugin();
		$GLOBALS['wp_styles'] = null; // a fresh queue: enqueue runs once per page
		PPE_Rewards_Storefront::enqueue();
		$after = (array) wp_styles()->get_data( PPE_Rewards_Storefront::HANDLE, 'after' );
		$this->assertSame( array( 'html{scroll-padding-bottom:6rem}' ), $after );

		update_option( PPE_Rewards_Settings::OPTION, array( 'launcher' => false ) ); // the merchant turned it off
		$GLOBALS['wp_styles'] = null;
		PPE_Rewards_Storefront::enqueue();
		$this->assertTrue( wp_style_is( PPE_Rewards_Storefront::HANDLE, 'enqueued' ) );
		$this->assertFalse( wp_styles()->get_data( PPE_Rewards_Storefront::HANDLE, 'after' ) );
		$GLOBALS['wp_styles'] = null;
	}

	public function test_the_referral_block_and_shortcode_show_the_customers_link() {
		$this->assertTrue( WP_Block_Type_Registry::get_instance()->is_registered( 'ppe-rewards/referral' ) );
		$this->connect_plugin();
		$this->assertSame( '', do_shortcode( '[ppe_referral]' ) ); // a guest: nothing, and no call
		$this->assertSame( array(), PPE_Test_Http::$requests );
		$this->customer();
		PPE_Test_Http::$responses['/api/v1/me/referral'] = array( 200, array( 'code' => 'ABCD2345', 'share_url' => 'https://app.example/ref/ABCD2345' ) );
		$html = render_block( array( 'blockName' => 'ppe-rewards/referral', 'attrs' => array(), 'innerBlocks' => array(), 'innerHTML' => '', 'innerContent' => array() ) );
		$this->assertStringContainsString( 'value="https://app.example/ref/ABCD2345"', $html );
		$this->assertSame( $html, do_shortcode( '[ppe_referral]' ) );
	}

	public function test_hpos_compatibility_is_declared() {
		$declared = \Automattic\WooCommerce\Utilities\FeaturesUtil::$declared;
		$this->assertContains( array( 'custom_order_tables', PPE_REWARDS_FILE, true ), $declared );
	}

	public function test_product_placeholders_reserve_their_size() {
		$this->connect_plugin();
		$GLOBALS['product'] = new PPE_Test_WC_Order( 93, 0 ); // anything with get_id(), as WC_Product
		ob_start();
		PPE_Rewards_Storefront::stars();
		PPE_Rewards_Storefront::reviews_panel();
		$html = ob_get_clean();
		unset( $GLOBALS['product'] );
		$this->assertStringContainsString( '<span data-ppe="stars" data-product-id="93" style="display:inline-block;min-height:1.5em;min-width:8em"></span>', $html );
		$this->assertStringContainsString( '<div data-ppe="reviews" data-product-id="93" style="display:block;min-height:360px"></div>', $html );
	}

	public function test_our_stars_replace_the_stores_rating_line() {
		add_action( 'woocommerce_single_product_summary', 'woocommerce_template_single_rating', 10 );
		PPE_Rewards_Storefront::replace_store_rating();
		$this->assertSame( 10, has_action( 'woocommerce_single_product_summary', 'woocommerce_template_single_rating' ) );
		$this->connect_plugin();
		PPE_Rewards_Storefront::replace_store_rating();
		$this->assertFalse( has_action( 'woocommerce_single_product_summary', 'woocommerce_template_single_rating' ) );
	}

	public function test_our_reviews_replace_the_reviews_tab() {
		$tabs = array( 'description' => array(), 'reviews' => array() );
		$this->assertSame( $tabs, PPE_Rewards_Storefront::reviews_tab( $tabs ) );
		$this->connect_plugin();
		$this->assertSame( array( 'description', 'ppe_reviews' ), array_keys( PPE_Rewards_Storefront::reviews_tab( $tabs ) ) );
	}
}
