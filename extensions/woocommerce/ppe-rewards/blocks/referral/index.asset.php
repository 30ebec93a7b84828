<?php
/**
 * The editor script's dependencies and version (read by register_block_type).
 *
 * @package PPE_Rewards
 */

return array(
	'dependencies' => array( 'wp-blocks', 'wp-element', 'wp-server-side-render' ),
	'version'      => '0.1.0',
);
