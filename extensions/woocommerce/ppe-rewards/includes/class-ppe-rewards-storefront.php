<?php
/**
 * The widget on the store's pages, the WordPress way: widget.js and widget.css are files of this plugin
 * (copied from our service by scripts/build-wp-plugin, so no code is loaded from elsewhere), enqueued with the
 * store key and, for a logged-in customer, a token minted on this server (docs/widget.md). Product pages get
 * the stars and reviews placeholders the widget fills; [ppe_referral] and the "Referral link" block show a
 * customer's referral link.
 *
 * Reviews: ours (the widget's, with photos, replies and "verified buyer") replace WooCommerce's own Reviews
 * tab, since our reviews are also written to the store as product reviews and would otherwise show twice.
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * Widget, product pages and the shortcode.
 */
final class PPE_Rewards_Storefront {

	const HANDLE = 'ppe-rewards-widget';

	/**
	 * Hooks.
	 *
	 * @return void
	 */
	public static function register() {
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'enqueue' ) );
		add_filter( 'script_loader_tag', array( __CLASS__, 'script_tag' ), 10, 2 );
		add_action( 'woocommerce_single_product_summary', array( __CLASS__, 'stars' ), 6 );
		add_action( 'wp', array( __CLASS__, 'replace_store_rating' ) );
		add_filter( 'woocommerce_product_tabs', array( __CLASS__, 'reviews_tab' ), 98 );
		add_shortcode( 'ppe_referral', array( __CLASS__, 'referral_shortcode' ) );
		add_action( 'init', array( __CLASS__, 'register_block' ) );
	}

	/**
	 * The "Referral link" block: the shortcode's output, rendered on the server.
	 *
	 * @return void
	 */
	public static function register_block() {
		register_block_type(
			PPE_REWARDS_DIR . '/blocks/referral',
			array( 'render_callback' => array( __CLASS__, 'referral_shortcode' ) )
		);
	}

	/**
	 * The widget's files, when the plugin is connected and they were built in.
	 *
	 * @return void
	 */
	public static function enqueue() {
		$js  = PPE_REWARDS_DIR . '/assets/widget.js';
		$css = PPE_REWARDS_DIR . '/assets/widget.css';
		if ( ! PPE_Rewards_Settings::connected() || ! file_exists( $js ) || ! file_exists( $css ) ) {
			return;
		}
		$version = (string) filemtime( $js );
		wp_enqueue_style( self::HANDLE, plugins_url( 'assets/widget.css', PPE_REWARDS_FILE ), array(), $version );
		if ( PPE_Rewards_Settings::get()['launcher'] ) {
			// The launcher floats over the page's bottom right corner (about 4.5rem high with its margin): what the
			// browser scrolls into view (a field reached with Tab, a find in page) stops above it rather than under
			// it, e.g. the end of a referral link on a phone (WCAG 2.4.11, technique C43).
			wp_add_inline_style( self::HANDLE, 'html{scroll-padding-bottom:6rem}' );
		}
		wp_enqueue_script( self::HANDLE, plugins_url( 'assets/widget.js', PPE_REWARDS_FILE ), array(), $version, true );
	}

	/**
	 * The data attributes the widget reads (docs/widget.md), and defer.
	 *
	 * @return array<string, string>
	 */
	public static function attributes() {
		$settings   = PPE_Rewards_Settings::get();
		$connection = PPE_Rewards_Settings::connection();
		$attributes = array(
			'data-api'    => $settings['api_url'],
			'data-store'  => $connection['store_key'],
			'data-css'    => plugins_url( 'assets/widget.css', PPE_REWARDS_FILE ),
			'data-locale' => str_replace( '_', '-', determine_locale() ),
		);
		$token      = PPE_Rewards_Token::for_current_customer();
		if ( '' !== $token ) {
			$attributes['data-token']       = $token;
			$attributes['data-customer-id'] = (string) get_current_user_id();
		}
		if ( ! $settings['launcher'] ) {
			$attributes['data-launcher'] = 'false';
		}
		return $attributes;
	}

	/**
	 * Add the attributes to our script's tag.
	 *
	 * @param string $tag    The tag WordPress built.
	 * @param string $handle Its handle.
	 * @return string
	 */
	public static function script_tag( $tag, $handle ) {
		if ( self::HANDLE !== $handle ) {
			return $tag;
		}
		$extra = ' defer';
		foreach ( self::attributes() as $name => $value ) {
			$extra .= ' ' . $name . '="' . esc_attr( $value ) . '"';
		}
		return preg_replace( '/<script /', '<script' . $extra . ' ', $tag, 1 );
	}

	/**
	 * Whether product pages show our stars and reviews.
	 *
	 * @return bool
	 */
	private static function product_reviews() {
		return PPE_Rewards_Settings::connected() && PPE_Rewards_Settings::get()['product_reviews'];
	}

	/**
	 * Stars under the product's title.
	 *
	 * @return void
	 */
	public static function stars() {
		global $product;
		if ( ! self::product_reviews() || ! is_object( $product ) || ! method_exists( $product, 'get_id' ) ) {
			return;
		}
		// The reserved size keeps the page from shifting when the stars arrive (docs/widget.md).
		echo '<span data-ppe="stars" data-product-id="' . esc_attr( (string) $product->get_id() ) . '" style="display:inline-block;min-height:1.5em;min-width:8em"></span>';
	}

	/**
	 * Our stars in place of WooCommerce's rating line under the title: the store's product reviews include ours
	 * (written back), so both would show, and its "(N customer reviews)" link points at the Reviews tab we replace.
	 * Removed on `wp`, after WooCommerce added its template hooks (wc-template-hooks.php) and before any page draws.
	 *
	 * @return void
	 */
	public static function replace_store_rating() {
		if ( self::product_reviews() ) {
			remove_action( 'woocommerce_single_product_summary', 'woocommerce_template_single_rating', 10 );
		}
	}

	/**
	 * Our reviews in place of WooCommerce's Reviews tab.
	 *
	 * @param array $tabs The product's tabs.
	 * @return array
	 */
	public static function reviews_tab( $tabs ) {
		if ( ! self::product_reviews() ) {
			return $tabs;
		}
		unset( $tabs['reviews'] );
		$tabs['ppe_reviews'] = array(
			'title'    => __( 'Reviews', 'ppe-rewards' ),
			'priority' => 30,
			'callback' => array( __CLASS__, 'reviews_panel' ),
		);
		return $tabs;
	}

	/**
	 * The reviews placeholder.
	 *
	 * @return void
	 */
	public static function reviews_panel() {
		global $product;
		if ( is_object( $product ) && method_exists( $product, 'get_id' ) ) {
			echo '<div data-ppe="reviews" data-product-id="' . esc_attr( (string) $product->get_id() ) . '" style="display:block;min-height:360px"></div>';
		}
	}

	/**
	 * [ppe_referral]: the logged-in customer's referral link, else nothing.
	 *
	 * @return string
	 */
	public static function referral_shortcode() {
		$referral = PPE_Rewards_Client::storefront_get( '/me/referral' );
		if ( ! is_array( $referral ) || empty( $referral['share_url'] ) ) {
			return '';
		}
		return self::referral_html( (string) $referral['share_url'] );
	}

	/**
	 * A referral link, selected in one click for copying.
	 *
	 * @param string $url The share URL.
	 * @return string
	 */
	public static function referral_html( $url ) {
		return '<div class="ppe-referral"><p>' . esc_html__( 'Share your link: friends get a discount on their first order, and you earn a reward.', 'ppe-rewards' ) . '</p>'
			. '<p><input class="ppe-share-url" type="text" style="width:100%;max-width:32rem" readonly value="' . esc_attr( $url ) . '" aria-label="' . esc_attr__( 'Your referral link', 'ppe-rewards' ) . '" onclick="this.select()"></p></div>';
	}
}
