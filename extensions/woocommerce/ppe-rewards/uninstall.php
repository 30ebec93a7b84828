<?php
/**
 * Removes everything the plugin stored: its two options and its transients.
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
