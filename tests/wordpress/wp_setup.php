<?php
/**
 * Run by tests/wordpress/site.py with the php CLI: `install` a fresh WordPress (the test's own copy of
 * Debian's package, its own MariaDB database), or `activate` a plugin the way the Plugins screen does
 * (activate_plugin with the plugin's output caught), printing what happened as JSON.
 */

$root = $argv[2];
$_SERVER['HTTP_HOST'] = $argv[3];
$_SERVER['REQUEST_URI'] = '/';
if ( 'install' === $argv[1] ) {
	define( 'WP_INSTALLING', true );
}
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( 'install' === $argv[1] ) {
	$result = wp_install( 'Test shop', 'admin', 'admin@example.com', false, '', 'admin-password-1' );
	update_option( 'permalink_structure', '/%postname%/' );
	get_role( 'administrator' )->add_cap( 'manage_woocommerce' ); // as WooCommerce's installer does
	update_option( 'show_avatars', 0 ); // no calls to gravatar.com from the test's browser
	$account = wp_insert_post( array( 'post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'My account', 'post_name' => 'my-account', 'post_content' => '[woocommerce_my_account]' ) );
	update_option( 'woocommerce_myaccount_page_id', $account );
	wp_insert_post( array( 'post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'Order received', 'post_name' => 'order-received', 'post_content' => '[ppe_test_order_received]' ) );
	wp_insert_post( array( 'post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'Linen shirt', 'post_name' => 'linen-shirt', 'post_content' => '[ppe_test_single_product id="93" name="Linen shirt" price="29.00" reviews="3"]' ) );
	$customer = wp_insert_user( array( 'user_login' => 'ann', 'user_pass' => 'ann-password-1', 'user_email' => 'ann@example.com', 'role' => 'subscriber', 'first_name' => 'Ann' ) );
	echo json_encode( array( 'user_id' => $result['user_id'], 'customer_id' => $customer, 'account_page' => $account ) );
	exit;
}
if ( 'activate' === $argv[1] ) {
	wp_set_current_user( 1 );
	$result = activate_plugin( $argv[4], '', false, false );
	flush_rewrite_rules();
	echo json_encode(
		array(
			'error'  => is_wp_error( $result ) ? $result->get_error_message() : null,
			'active' => is_plugin_active( $argv[4] ),
		)
	);
}
