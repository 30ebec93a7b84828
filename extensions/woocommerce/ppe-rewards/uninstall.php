<?php
/**
 * Removes everything the plugin stored: its two options and its transients (the settings page's status, the
 * admins' PKCE verifiers, and the order pages' cached answers, named per customer, order and amount).
 *
 * @package PPE_Rewards
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

delete_option( 'ppe_rewards_settings' );
delete_option( 'ppe_rewards_connection' );
delete_transient( 'ppe_rewards_status' );
// The per-admin PKCE verifiers (ppe_rewards_pkce_<user id>), an hour at most; WordPress has no prefix delete.
foreach ( get_users( array( 'fields' => 'ID', 'capability' => 'manage_woocommerce' ) ) as $ppe_rewards_user_id ) {
	delete_transient( 'ppe_rewards_pkce_' . $ppe_rewards_user_id );
}
// The order pages' cached answers (ppe_rewards_order_*, _preview_*, _referral_*) are named per customer, order
// and amount, so they are found by prefix in the options table, where transients live without an object cache.
// With a persistent object cache they are not in the table and expire within ten minutes on their own.
global $wpdb;
$wpdb->query( // phpcs:ignore WordPress.DB.DirectDatabaseQuery.DirectQuery, WordPress.DB.DirectDatabaseQuery.NoCaching -- no API deletes by prefix.
	$wpdb->prepare(
		"DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s",
		$wpdb->esc_like( '_transient_ppe_rewards_' ) . '%',
		$wpdb->esc_like( '_transient_timeout_ppe_rewards_' ) . '%'
	)
);
