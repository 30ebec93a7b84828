<?php
/**
 * Test double of WooCommerce's single-product page, for the plugin's stars and Reviews tab
 * ([ppe_test_single_product id="93" name="…" price="…"] on a page): a product as the global `$product`, and the
 * hooks of WooCommerce's content-single-product.php in its order, with WooCommerce's own callbacks at their
 * priorities (wc-template-hooks.php) reduced to what shows: the summary (title 5, rating 10, price 10, excerpt
 * 20), then the data tabs (`woocommerce_product_tabs`: description 10, reviews 30 by
 * woocommerce_default_product_tabs, sorted by priority at 99) as single-product/tabs/tabs.php draws them.
 * Loaded as a must-use plugin beside woocommerce-doubles.php.
 */

class PPE_Test_WC_Product {
	public $id;
	public $name;
	public $price;
	public $review_count;

	public function __construct( $id, $name, $price, $review_count = 0 ) {
		$this->id           = (int) $id;
		$this->name         = $name;
		$this->price        = $price;
		$this->review_count = (int) $review_count;
	}

	public function get_id() {
		return $this->id;
	}

	public function get_name() {
		return $this->name;
	}

	public function get_price() {
		return $this->price;
	}

	public function get_review_count() {
		return $this->review_count; // the store's own product reviews (ours, written back, among them)
	}
}

// The page's title (the theme's h1) stands for the product post's, so the summary's title is an h2 here.
add_action(
	'woocommerce_single_product_summary',
	static function () {
		global $product;
		if ( ! $product instanceof PPE_Test_WC_Product ) {
			return;
		}
		echo '<h2 class="product_title entry-title">' . esc_html( $product->get_name() ) . '</h2>';
	},
	5
);

// The store's own average, drawn only when the product has reviews; a named function as WooCommerce's is, so a
// plugin can remove it by name.
if ( ! function_exists( 'woocommerce_template_single_rating' ) ) {
	function woocommerce_template_single_rating() {
		global $product;
		if ( $product instanceof PPE_Test_WC_Product && $product->get_review_count() > 0 ) {
			echo '<div class="woocommerce-product-rating"><a href="#reviews" class="woocommerce-review-link">(' . esc_html( (string) $product->get_review_count() ) . ' customer reviews)</a></div>';
		}
	}
}
add_action( 'woocommerce_single_product_summary', 'woocommerce_template_single_rating', 10 );

add_action(
	'woocommerce_single_product_summary',
	static function () {
		global $product;
		if ( ! $product instanceof PPE_Test_WC_Product ) {
			return;
		}
		echo '<p class="price">' . esc_html( html_entity_decode( get_woocommerce_currency_symbol( 'EUR' ) ) . $product->get_price() ) . '</p>';
	},
	10
);

add_action(
	'woocommerce_single_product_summary',
	static function () {
		echo '<div class="woocommerce-product-details__short-description"><p>Washed linen, relaxed fit.</p></div>';
	},
	20
);

// woocommerce_default_product_tabs: the description always, the store's reviews when reviews are open.
add_filter(
	'woocommerce_product_tabs',
	static function ( $tabs ) {
		global $product;
		if ( ! $product instanceof PPE_Test_WC_Product ) {
			return $tabs;
		}
		$tabs['description'] = array(
			'title'    => 'Description',
			'priority' => 10,
			'callback' => static function () {
				echo '<h2>Description</h2><p>Made to last, in three colours.</p>';
			},
		);
		$tabs['reviews']     = array(
			/* The count of the store's own reviews, as WooCommerce titles the tab. */
			'title'    => 'Reviews (' . $product->get_review_count() . ')',
			'priority' => 30,
			'callback' => static function () {
				echo '<div id="reviews" class="woocommerce-Reviews"><p class="woocommerce-noreviews">There are no reviews yet.</p></div>';
			},
		);
		return $tabs;
	}
);

// woocommerce_sort_product_tabs.
add_filter(
	'woocommerce_product_tabs',
	static function ( $tabs ) {
		uasort(
			$tabs,
			static function ( $a, $b ) {
				return ( $a['priority'] ?? 0 ) <=> ( $b['priority'] ?? 0 );
			}
		);
		return $tabs;
	},
	99
);

// woocommerce_output_product_data_tabs: single-product/tabs/tabs.php's tab list and panels (WooCommerce's script
// shows one panel at a time; without it, as here, every panel shows).
add_action(
	'woocommerce_after_single_product_summary',
	static function () {
		$tabs = apply_filters( 'woocommerce_product_tabs', array() );
		if ( empty( $tabs ) ) {
			return;
		}
		echo '<div class="woocommerce-tabs wc-tabs-wrapper"><ul class="tabs wc-tabs" role="tablist">';
		foreach ( $tabs as $key => $tab ) {
			echo '<li class="' . esc_attr( $key ) . '_tab" id="tab-title-' . esc_attr( $key ) . '" role="tab" aria-controls="tab-' . esc_attr( $key ) . '">'
				. '<a href="#tab-' . esc_attr( $key ) . '">' . esc_html( $tab['title'] ) . '</a></li>';
		}
		echo '</ul>';
		foreach ( $tabs as $key => $tab ) {
			echo '<div class="woocommerce-Tabs-panel woocommerce-Tabs-panel--' . esc_attr( $key ) . ' panel entry-content wc-tab" id="tab-' . esc_attr( $key ) . '" role="tabpanel" aria-labelledby="tab-title-' . esc_attr( $key ) . '">';
			if ( isset( $tab['callback'] ) ) {
				call_user_func( $tab['callback'], $key, $tab );
			}
			echo '</div>';
		}
		echo '</div>';
	},
	10
);

add_shortcode(
	'ppe_test_single_product',
	static function ( $atts ) {
		$atts = shortcode_atts(
			array(
				'id'      => '0',
				'name'    => 'Product',
				'price'   => '0.00',
				'reviews' => '0',
			),
			$atts
		);
		global $product;
		$product = new PPE_Test_WC_Product( $atts['id'], $atts['name'], $atts['price'], $atts['reviews'] );
		ob_start();
		do_action( 'woocommerce_before_single_product' );
		echo '<div id="product-' . esc_attr( (string) $product->get_id() ) . '" class="product type-product">';
		do_action( 'woocommerce_before_single_product_summary' );
		echo '<div class="summary entry-summary">';
		do_action( 'woocommerce_single_product_summary' );
		echo '</div>';
		do_action( 'woocommerce_after_single_product_summary' );
		echo '</div>';
		do_action( 'woocommerce_after_single_product' );
		return ob_get_clean();
	}
);
