<?php
/**
 * Plugin Name:          PPE Rewards for WooCommerce
 * Plugin URI:           https://app.example.com/
 * Description:          Loyalty points, referrals and reviews from the post-purchase engine: connect in one click, then the rewards widget, a Rewards tab in My Account, referral links that apply the friend's discount, and what an order earns on the thank-you page.
 * Version:              0.1.0
 * Requires at least:    6.1
 * Requires PHP:         7.4
 * Requires Plugins:     woocommerce
 * Author:               Post-purchase engine
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          ppe-rewards
 * Domain Path:          /languages
 * WC requires at least: 8.2
 * WC tested up to:      9.4
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

define( 'PPE_REWARDS_VERSION', '0.1.0' );
define( 'PPE_REWARDS_FILE', __FILE__ );
define( 'PPE_REWARDS_DIR', __DIR__ );
// Our service; scripts/build-wp-plugin writes the deployment's address here. A site may override it in
// wp-config.php (define PPE_REWARDS_API_URL) or on the settings page.
define( 'PPE_REWARDS_DEFAULT_API_URL', 'https://app.example.com' );

require_once __DIR__ . '/includes/class-ppe-rewards-token.php';
require_once __DIR__ . '/includes/class-ppe-rewards-settings.php';
require_once __DIR__ . '/includes/class-ppe-rewards-client.php';
require_once __DIR__ . '/includes/class-ppe-rewards-admin.php';
require_once __DIR__ . '/includes/class-ppe-rewards-storefront.php';
require_once __DIR__ . '/includes/class-ppe-rewards-account.php';
require_once __DIR__ . '/includes/class-ppe-rewards-order.php';
require_once __DIR__ . '/includes/class-ppe-rewards-tracking.php';
require_once __DIR__ . '/includes/class-ppe-rewards-referral.php';

// HPOS (custom order tables): orders are read and written only through WC_Order (get_meta, update_meta_data).
// https://developer.woocommerce.com/docs/hpos-extension-recipe-book/
add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', PPE_REWARDS_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', PPE_REWARDS_FILE, true );
		}
	}
);

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'ppe-rewards', false, dirname( plugin_basename( PPE_REWARDS_FILE ) ) . '/languages' );
		PPE_Rewards_Account::add_endpoint();
	}
);

PPE_Rewards_Admin::register();
PPE_Rewards_Storefront::register();
PPE_Rewards_Account::register();
PPE_Rewards_Order::register();
PPE_Rewards_Tracking::register();
PPE_Rewards_Referral::register();

register_activation_hook(
	__FILE__,
	static function () {
		PPE_Rewards_Account::add_endpoint();
		flush_rewrite_rules();
	}
);
register_deactivation_hook( __FILE__, 'flush_rewrite_rules' );
