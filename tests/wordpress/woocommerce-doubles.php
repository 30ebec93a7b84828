<?php
/**
 * Test doubles for the few WooCommerce pieces the plugin uses (WooCommerce is in no registry these tests can
 * reach). Loaded as a must-use plugin of the test's WordPress, so the plugin meets them as it would meet
 * WooCommerce: WC() with a cart, a session and its query (the account endpoints and their titles), wc_get_order
 * (an order with meta, total, status), the order count, the HPOS FeaturesUtil, the
 * `before_woocommerce_init` action, a minimal [woocommerce_my_account] page that runs the account
 * endpoints' actions the way WooCommerce's own template does and is titled the way WooCommerce titles it, and an
 * order-received page firing `woocommerce_thankyou` ([ppe_test_order_received]). The single-product page is in
 * woocommerce-doubles-product.php.
 */

namespace Automattic\WooCommerce\Utilities {
	class FeaturesUtil {
		/** @var array<int, array{0: string, 1: string, 2: bool}> */
		public static $declared = array();

		public static function declare_compatibility( $feature, $plugin_file, $positive = true ) {
			self::$declared[] = array( $feature, $plugin_file, $positive );
			return true;
		}
	}
}

namespace {
	class WooCommerce {
		public $cart;
		public $session;
		public $query;
	}

	/**
	 * WC_Query's part the account page needs: its query vars (WooCommerce's account endpoints, extended by
	 * `woocommerce_get_query_vars` as the plugin extends them), the current endpoint, and an endpoint's title
	 * (WooCommerce's own for its endpoints, then the `woocommerce_endpoint_{$endpoint}_title` filter).
	 */
	class PPE_Test_WC_Query {
		public function get_query_vars() {
			return apply_filters(
				'woocommerce_get_query_vars',
				array(
					'orders'          => 'orders',
					'view-order'      => 'view-order',
					'edit-account'    => 'edit-account',
					'customer-logout' => 'customer-logout',
				)
			);
		}

		public function get_current_endpoint() {
			global $wp;
			foreach ( $this->get_query_vars() as $key => $value ) {
				if ( isset( $wp->query_vars[ $key ] ) ) {
					return $key;
				}
			}
			return '';
		}

		public function get_endpoint_title( $endpoint, $action = '' ) {
			global $wp;
			switch ( $endpoint ) {
				case 'orders':
					$title = 'Orders';
					break;
				case 'view-order':
					$title = 'Order #' . ( $wp->query_vars['view-order'] ?? '' );
					break;
				case 'edit-account':
					$title = 'Account details';
					break;
				default:
					$title = '';
			}
			return apply_filters( 'woocommerce_endpoint_' . $endpoint . '_title', $title, $endpoint, $action );
		}
	}

	class PPE_Test_WC_Session {
		private $data = array();
		/** @var bool Whether the visitor has a session cookie (WC_Session_Handler::has_session). */
		public $started = false;

		public function has_session() {
			return $this->started;
		}

		public function set_customer_session_cookie( $set ) {
			$this->started = (bool) $set;
		}

		public function get( $key, $default = null ) {
			return array_key_exists( $key, $this->data ) ? $this->data[ $key ] : $default;
		}

		public function set( $key, $value ) {
			$this->data[ $key ] = $value;
		}
	}

	class PPE_Test_WC_Cart {
		/** @var string[] Codes as WooCommerce keeps them (lower case). */
		public $applied = array();
		/** @var string[]|null Codes the store has (null: any). */
		public $known = null;
		/** @var int Items in the cart. */
		public $items = 0;

		public function is_empty() {
			return 0 === $this->items;
		}

		public function apply_coupon( $code ) {
			$code = strtolower( trim( $code ) );
			if ( in_array( $code, $this->applied, true ) || ( null !== $this->known && ! in_array( $code, $this->known, true ) ) ) {
				return false;
			}
			$this->applied[] = $code;
			return true;
		}

		public function has_discount( $code ) {
			return in_array( strtolower( $code ), $this->applied, true );
		}
	}

	class PPE_Test_WC_Order {
		public $id;
		public $customer_id;
		public $meta = array();
		public $total = '59.90';
		public $currency = 'EUR';
		public $status = 'processing';
		/** @var int|null Unix seconds of the last change. */
		public $modified = null;
		/** @var int How often save_meta_data ran. */
		public $meta_saves = 0;

		public function __construct( $id, $customer_id ) {
			$this->id          = $id;
			$this->customer_id = $customer_id;
		}

		public function get_id() {
			return $this->id;
		}

		public function get_customer_id() {
			return $this->customer_id;
		}

		public function get_total() {
			return $this->total;
		}

		public function get_currency() {
			return $this->currency;
		}

		public function get_status() {
			return $this->status;
		}

		public function has_status( $status ) {
			return in_array( $this->status, (array) $status, true );
		}

		public function get_date_modified() {
			return null === $this->modified ? null : new DateTimeImmutable( '@' . $this->modified );
		}

		public function update_meta_data( $key, $value ) {
			$this->meta[ $key ] = $value;
		}

		public function save_meta_data() {
			++$this->meta_saves;
		}

		public function get_meta( $key ) {
			return $this->meta[ $key ] ?? '';
		}
	}

	function WC() {
		static $wc = null;
		if ( null === $wc ) {
			$wc          = new WooCommerce();
			$wc->session = new PPE_Test_WC_Session();
			$wc->cart    = new PPE_Test_WC_Cart();
			$wc->query   = new PPE_Test_WC_Query();
		}
		return $wc;
	}

	function is_wc_endpoint_url() {
		return '' !== WC()->query->get_current_endpoint();
	}

	// WooCommerce's wc_page_endpoint_title (wc-page-functions.php): on the main query's page, inside the loop, at
	// an endpoint, the page's title becomes the endpoint's, once (later titles on the page, a menu's or a
	// widget's, keep theirs). Its document-title twin does the same for <title>, with no loop condition.
	function ppe_test_wc_page_endpoint_title( $title ) {
		global $wp_query;
		if ( null !== $wp_query && ! is_admin() && is_main_query() && in_the_loop() && is_page() && is_wc_endpoint_url() ) {
			$endpoint = WC()->query->get_endpoint_title( WC()->query->get_current_endpoint() );
			$title    = $endpoint ? $endpoint : $title;
			remove_filter( 'the_title', 'ppe_test_wc_page_endpoint_title' );
		}
		return $title;
	}
	add_filter( 'the_title', 'ppe_test_wc_page_endpoint_title' );

	function ppe_test_wc_page_endpoint_document_title_parts( $parts ) {
		global $wp_query;
		if ( null !== $wp_query && ! is_admin() && is_main_query() && is_page() && is_wc_endpoint_url() ) {
			$endpoint       = WC()->query->get_endpoint_title( WC()->query->get_current_endpoint() );
			$parts['title'] = $endpoint ? $endpoint : $parts['title'];
			remove_filter( 'document_title_parts', 'ppe_test_wc_page_endpoint_document_title_parts' );
		}
		return $parts;
	}
	add_filter( 'document_title_parts', 'ppe_test_wc_page_endpoint_document_title_parts' );

	function ppe_test_wc_reset() {
		WC()->session = new PPE_Test_WC_Session();
		WC()->cart    = new PPE_Test_WC_Cart();
		$GLOBALS['ppe_test_orders']       = array();
		$GLOBALS['ppe_test_order_counts'] = array();
	}

	function wc_get_order( $id ) {
		return $GLOBALS['ppe_test_orders'][ $id ] ?? false;
	}

	function wc_get_customer_order_count( $user_id ) {
		return $GLOBALS['ppe_test_order_counts'][ $user_id ] ?? 0;
	}

	// WooCommerce's currency symbols (as HTML entities, as WooCommerce keeps them) and its price format for the
	// store's symbol position (woocommerce_currency_pos), both shortened to the cases the tests use.
	function get_woocommerce_currency_symbol( $currency = '' ) {
		$symbols = array(
			'EUR' => '&euro;',
			'PLN' => '&#122;&#322;',
		);
		return $symbols[ $currency ] ?? $currency;
	}

	function get_woocommerce_price_format() {
		$formats = array(
			'left'        => '%1$s%2$s',
			'right'       => '%2$s%1$s',
			'left_space'  => '%1$s&nbsp;%2$s',
			'right_space' => '%2$s&nbsp;%1$s',
		);
		return $formats[ get_option( 'woocommerce_currency_pos', 'left' ) ] ?? '%1$s%2$s';
	}

	function wc_get_account_endpoint_url( $endpoint ) {
		$base = get_permalink( (int) get_option( 'woocommerce_myaccount_page_id' ) );
		return 'dashboard' === $endpoint ? $base : trailingslashit( $base ) . $endpoint . '/';
	}

	// WooCommerce's own admin menu, which extensions put their pages under.
	add_action(
		'admin_menu',
		static function () {
			add_menu_page( 'WooCommerce', 'WooCommerce', 'manage_woocommerce', 'woocommerce', '__return_null' );
		},
		9
	);

	// WooCommerce fires this from its init; plugins declare their feature compatibility in it.
	add_action(
		'init',
		static function () {
			do_action( 'before_woocommerce_init' );
		},
		0
	);

	add_shortcode(
		'woocommerce_my_account',
		static function () {
			if ( ! is_user_logged_in() ) {
				return '<p class="ppe-test-login">Please log in.</p>';
			}
			$items = apply_filters(
				'woocommerce_account_menu_items',
				array(
					'dashboard'       => 'Dashboard',
					'orders'          => 'Orders',
					'customer-logout' => 'Log out',
				)
			);
			$html = '<nav class="woocommerce-MyAccount-navigation"><ul>';
			foreach ( $items as $endpoint => $label ) {
				$html .= '<li><a href="' . esc_url( wc_get_account_endpoint_url( $endpoint ) ) . '">' . esc_html( $label ) . '</a></li>';
			}
			$html .= '</ul></nav><div class="woocommerce-MyAccount-content">';
			ob_start();
			global $wp;
			$shown = false;
			foreach ( (array) $wp->query_vars as $key => $value ) {
				if ( has_action( "woocommerce_account_{$key}_endpoint" ) ) {
					do_action( "woocommerce_account_{$key}_endpoint", $value );
					$shown = true;
					break;
				}
			}
			if ( ! $shown ) {
				echo '<p>Hello.</p>';
			}
			return $html . ob_get_clean() . '</div>';
		}
	);

	// My Account > Orders > View (WooCommerce's view-order endpoint, whose template fires `woocommerce_view_order`
	// under the order's details), reduced to the customer's own order 501 as the order-received page below makes it.
	add_action(
		'init',
		static function () {
			add_rewrite_endpoint( 'view-order', EP_ROOT | EP_PAGES );
		}
	);
	add_action(
		'woocommerce_account_view-order_endpoint',
		static function ( $order_id ) {
			$order           = new PPE_Test_WC_Order( (int) $order_id, get_current_user_id() );
			$order->total    = '42.50';
			$order->currency = 'EUR';
			$GLOBALS['ppe_test_orders'][ (int) $order_id ] = $order;
			$GLOBALS['ppe_test_order_counts'][ get_current_user_id() ] = 1;
			echo '<p class="ppe-test-order-details">Order #' . esc_html( (string) (int) $order_id ) . ' was placed and is processing.</p>';
			do_action( 'woocommerce_view_order', (int) $order_id );
		}
	);

	// WooCommerce's order-received page, reduced to what the plugin meets there: an order of the logged-in
	// customer (or a guest's) and the `woocommerce_thankyou` action with its id.
	add_shortcode(
		'ppe_test_order_received',
		static function () {
			$order           = new PPE_Test_WC_Order( 501, get_current_user_id() );
			$order->total    = '42.50';
			$order->currency = 'EUR';
			$GLOBALS['ppe_test_orders'][501] = $order;
			// The customer's only order, as wc_get_customer_order_count would count it after their first checkout.
			$GLOBALS['ppe_test_order_counts'][ get_current_user_id() ] = 1;
			ob_start();
			do_action( 'woocommerce_thankyou', 501 );
			return '<p class="woocommerce-thankyou-order-received">Thank you. Your order has been received.</p>' . ob_get_clean();
		}
	);
}
