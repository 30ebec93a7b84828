<?php
/**
 * Loads the test's real WordPress (installed by tests/wordpress/site.py, the plugin active and the
 * WooCommerce doubles as a must-use plugin), then turns redirects and wp_die into exceptions and answers
 * outgoing HTTP from a table, so every handler can be called and checked.
 */

$ppe_root = getenv( 'PPE_WP_ROOT' );
if ( ! $ppe_root ) {
	fwrite( STDERR, "PPE_WP_ROOT is not set: run through tests/wordpress/test_plugin_php.py\n" );
	exit( 1 );
}
$_SERVER['HTTP_HOST']   = getenv( 'PPE_WP_HOST' );
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
define( 'WP_USE_THEMES', false );
// PHPUnit includes this file inside a method: WordPress's files assign these at their top level, so they must
// be declared global here (as WordPress's own test bootstrap does), or they end up local to that method.
global $wpdb, $current_site, $current_blog, $wp_rewrite, $shortcode_tags, $wp, $phpmailer, $wp_theme_directories, $wp_embed;
require $ppe_root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/template.php';

class PPE_Test_Redirect extends Exception {
	public $location;

	public function __construct( $location ) {
		parent::__construct( 'redirect' );
		$this->location = $location;
	}
}

class PPE_Test_Died extends Exception {}

final class PPE_Test_Http {
	public static $requests  = array();
	public static $responses = array();

	public static function handle( $pre, $args, $url ) {
		self::$requests[] = array( 'url' => $url, 'args' => $args );
		$path             = (string) wp_parse_url( $url, PHP_URL_PATH );
		if ( ! isset( self::$responses[ $path ] ) ) {
			return new WP_Error( 'http_request_failed', 'no double for ' . $path );
		}
		list( $status, $body ) = self::$responses[ $path ];
		return array(
			'headers'  => array(),
			'body'     => wp_json_encode( $body ),
			'response' => array( 'code' => $status, 'message' => '' ),
			'cookies'  => array(),
			'filename' => null,
		);
	}
}

add_filter(
	'wp_redirect',
	static function ( $location ) {
		throw new PPE_Test_Redirect( $location );
	},
	1000
);
add_filter(
	'wp_die_handler',
	static function () {
		return static function ( $message, $title = '', $args = array() ) {
			$text = $message instanceof WP_Error ? $message->get_error_message() : (string) $message;
			throw new PPE_Test_Died( $text, (int) ( $args['response'] ?? 500 ) );
		};
	}
);
add_filter( 'pre_http_request', array( 'PPE_Test_Http', 'handle' ), 10, 3 );

abstract class PPE_Test_Case extends \PHPUnit\Framework\TestCase {
	const SECRET    = 'pss_test-secret-0123456789abcdef';
	const STORE_KEY = 'ppk_7_abcdefghijklmnop';
	const SITE_KEY  = '127.0.0.1:8080';

	protected function setUp(): void {
		PPE_Test_Http::$requests  = array();
		PPE_Test_Http::$responses = array();
		ppe_test_wc_reset();
		delete_option( PPE_Rewards_Settings::OPTION );
		PPE_Rewards_Settings::forget_connection();
		wp_set_current_user( 0 );
		// The order pages cache our answers in transients: each test starts without them.
		global $wpdb;
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_%ppe\\_rewards\\_%'" );
		wp_cache_flush();
		$_GET     = array();
		$_POST    = array();
		$_REQUEST = array();
		$_COOKIE  = array();
	}

	protected function connect_plugin() {
		PPE_Rewards_Settings::save_connection( self::STORE_KEY, self::SECRET, self::SITE_KEY );
	}

	protected function api( $path ) {
		return PPE_Rewards_Settings::get()['api_url'] . $path;
	}

	protected function admin() {
		wp_set_current_user( 1 );
		get_role( 'administrator' )->add_cap( 'manage_woocommerce' );
	}

	protected function customer() {
		$user = get_user_by( 'login', 'ann' );
		wp_set_current_user( $user->ID );
		return $user->ID;
	}

	/** The claims of a token, after checking its signature as our storefront does. */
	protected function verified_claims( $token, $secret ) {
		list( $payload, $mac ) = explode( '.', $token );
		$expected              = PPE_Rewards_Token::b64url( hash_hmac( 'sha256', $payload, $secret, true ) );
		$this->assertTrue( hash_equals( $expected, $mac ), 'token signature' );
		return json_decode( base64_decode( strtr( $payload, '-_', '+/' ) ), true );
	}

	protected function redirect_of( callable $call ) {
		try {
			$call();
		} catch ( PPE_Test_Redirect $redirect ) {
			return $redirect->location;
		}
		$this->fail( 'no redirect' );
	}
}
