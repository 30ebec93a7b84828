<?php
/**
 * uninstall.php removes what the plugin stored.
 */
final class UninstallTest extends PPE_Test_Case {

	public function test_uninstall_removes_the_options_and_transients() {
		$this->admin();
		$this->connect_plugin();
		PPE_Rewards_Settings::save( array( 'thankyou' => '1' ) );
		set_transient( 'ppe_rewards_status', array( 'status' => 'active' ), 60 );
		set_transient( 'ppe_rewards_pkce_1', 'v', 60 );
		// The order pages' cached answers (PPE_Rewards_Order), per customer, order and amount.
		$cached = array( 'ppe_rewards_order_5_20', 'ppe_rewards_preview_' . md5( '42.50|EUR' ), 'ppe_rewards_referral_5' );
		foreach ( $cached as $name ) {
			set_transient( $name, array( 'v' => array( 'points' => 1 ) ), 60 );
		}
		set_transient( 'someone_elses', 'kept', 60 );
		if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
			define( 'WP_UNINSTALL_PLUGIN', 'ppe-rewards/ppe-rewards.php' );
		}
		include PPE_REWARDS_DIR . '/uninstall.php';
		$this->assertFalse( get_option( PPE_Rewards_Settings::OPTION ) );
		$this->assertFalse( get_option( PPE_Rewards_Settings::CONNECTION ) );
		$this->assertFalse( get_transient( 'ppe_rewards_status' ) );
		$this->assertFalse( get_transient( 'ppe_rewards_pkce_1' ) );
		wp_cache_flush(); // read the options table, not the request's copy
		foreach ( $cached as $name ) {
			$this->assertFalse( get_transient( $name ), $name );
		}
		$this->assertSame( 'kept', get_transient( 'someone_elses' ) );
		delete_transient( 'someone_elses' );
	}
}
