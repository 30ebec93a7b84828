<?php
/**
 * Shipment facts WooCommerce's order webhook has no field for, added to the order's REST answer as
 * `ppe_tracking`: WooCommerce builds an order webhook's body from that same REST answer, so our connector reads
 * them from every order webhook and from our reconciliation's reads, with nothing stored twice
 * (connectors/woocommerce_tracking.py; docs/wordpress-plugin.md, "Tracking and delivered").
 *
 * - Tracking: the order meta `_wc_shipment_tracking_items` of WooCommerce Shipment Tracking and Advanced Shipment
 *   Tracking (AST), with the carrier's name and link as the tracking plugin formats them (a predefined provider's
 *   link is built from its provider table, not stored in the meta), and TrackShip's per-parcel status (order meta
 *   `shipment_status`, AST); else YITH Order Tracking's `ywot_tracking_code` / `ywot_carrier_name` /
 *   `ywot_pick_up_date`.
 * - Delivered: AST's custom order status `delivered` (`wc-delivered`); the moment it is set is kept in the order
 *   meta `_ppe_delivered_at`, so a later edit of the order does not move the delivery date.
 *
 * Orders are read and written through WC_Order only (HPOS).
 *
 * @package PPE_Rewards
 */

defined( 'ABSPATH' ) || exit;

/**
 * The `ppe_tracking` field and the delivered mark.
 */
final class PPE_Rewards_Tracking {

	const FIELD          = 'ppe_tracking';
	const DELIVERED_META = '_ppe_delivered_at';
	const ITEMS_META     = '_wc_shipment_tracking_items';
	const MAX_SHIPMENTS  = 20;

	/**
	 * Hooks.
	 *
	 * @return void
	 */
	public static function register() {
		add_filter( 'woocommerce_rest_prepare_shop_order_object', array( __CLASS__, 'rest_order' ), 10, 2 );
		add_action( 'woocommerce_order_status_delivered', array( __CLASS__, 'mark_delivered' ), 10, 2 );
	}

	/**
	 * Add the field to an order's REST answer (and so to its webhook).
	 *
	 * @param WP_REST_Response $response The answer.
	 * @param object           $order    The WC_Order.
	 * @return WP_REST_Response
	 */
	public static function rest_order( $response, $order ) {
		if ( $response instanceof WP_REST_Response && is_object( $order ) && method_exists( $order, 'get_meta' ) ) {
			$data                = $response->get_data();
			$data[ self::FIELD ] = self::facts( $order );
			$response->set_data( $data );
		}
		return $response;
	}

	/**
	 * AST's "delivered" status was set: keep the moment, once.
	 *
	 * @param int         $order_id The order.
	 * @param object|null $order    The WC_Order (WooCommerce passes it since 3.x).
	 * @return void
	 */
	public static function mark_delivered( $order_id, $order = null ) {
		$order = is_object( $order ) ? $order : ( function_exists( 'wc_get_order' ) ? wc_get_order( $order_id ) : null );
		if ( ! $order || '' !== (string) $order->get_meta( self::DELIVERED_META ) ) {
			return;
		}
		$order->update_meta_data( self::DELIVERED_META, (string) time() );
		$order->save_meta_data();
	}

	/**
	 * A time as ISO 8601 UTC, or null.
	 *
	 * @param mixed $value Unix seconds, or a Y-m-d date.
	 * @return string|null
	 */
	private static function iso( $value ) {
		if ( is_numeric( $value ) && (int) $value > 0 ) {
			return gmdate( 'c', (int) $value );
		}
		if ( is_string( $value ) && preg_match( '/^\d{4}-\d{2}-\d{2}$/', $value ) ) {
			return $value . 'T00:00:00+00:00';
		}
		return null;
	}

	/**
	 * A short display string, or ''.
	 *
	 * @param mixed $value Anything.
	 * @param int   $limit Characters kept.
	 * @return string
	 */
	private static function clean( $value, $limit = 64 ) {
		return is_scalar( $value ) ? mb_substr( sanitize_text_field( (string) $value ), 0, $limit ) : '';
	}

	/**
	 * The tracking plugin's own formatting of one item (carrier's name, link), where it is installed.
	 *
	 * @param object $order The WC_Order.
	 * @param array  $item  One tracking item.
	 * @return array{formatted_tracking_provider?: string, formatted_tracking_link?: string}
	 */
	private static function formatted( $order, array $item ) {
		foreach ( array( 'WC_Advanced_Shipment_Tracking_Actions', 'WC_Shipment_Tracking_Actions' ) as $class ) {
			if ( class_exists( $class ) && method_exists( $class, 'get_instance' ) ) {
				try {
					$formatted = call_user_func( array( $class, 'get_instance' ) )->get_formatted_tracking_item( $order->get_id(), $item );
					return is_array( $formatted ) ? $formatted : array();
				} catch ( Throwable $error ) {
					return array(); // Another plugin's failure must not break the order's REST answer.
				}
			}
		}
		return array();
	}

	/**
	 * The parcels of Shipment Tracking / AST, else YITH's one.
	 *
	 * @param object $order The WC_Order.
	 * @return array<int, array{id: string, carrier: string, number: string, url: string, shipped_at: string|null, status: string|null, source: string}>
	 */
	private static function shipments( $order ) {
		$items    = $order->get_meta( self::ITEMS_META );
		$statuses = $order->get_meta( 'shipment_status' ); // TrackShip (AST): one entry per item, same index.
		$found    = array();
		foreach ( is_array( $items ) ? array_slice( $items, 0, self::MAX_SHIPMENTS, true ) : array() as $index => $item ) {
			if ( ! is_array( $item ) || '' === self::clean( $item['tracking_number'] ?? '' ) ) {
				continue;
			}
			$formatted = self::formatted( $order, $item );
			$link      = (string) ( $formatted['formatted_tracking_link'] ?? ( $item['custom_tracking_link'] ?? '' ) );
			$status    = is_array( $statuses ) && isset( $statuses[ $index ]['status'] ) ? sanitize_key( (string) $statuses[ $index ]['status'] ) : '';
			$found[]   = array(
				'id'         => self::clean( $item['tracking_id'] ?? '' ),
				'carrier'    => self::clean( ( $formatted['formatted_tracking_provider'] ?? '' ) ? $formatted['formatted_tracking_provider'] : ( ( $item['custom_tracking_provider'] ?? '' ) ? $item['custom_tracking_provider'] : ( $item['tracking_provider'] ?? '' ) ) ),
				'number'     => self::clean( $item['tracking_number'] ),
				'url'        => esc_url_raw( str_replace( '%1$s', rawurlencode( (string) $item['tracking_number'] ), $link ), array( 'http', 'https' ) ),
				'shipped_at' => self::iso( $item['date_shipped'] ?? null ),
				'status'     => '' !== $status ? $status : null,
				'source'     => 'shipment-tracking',
			);
		}
		$code = self::clean( $order->get_meta( 'ywot_tracking_code' ) );
		if ( ! $found && '' !== $code ) {
			$found[] = array(
				'id'         => 'ywot',
				'carrier'    => self::clean( $order->get_meta( 'ywot_carrier_name' ) ),
				'number'     => $code,
				'url'        => '',
				'shipped_at' => self::iso( $order->get_meta( 'ywot_pick_up_date' ) ),
				'status'     => null,
				'source'     => 'yith-order-tracking',
			);
		}
		return $found;
	}

	/**
	 * The field's value: version 1 of the shape connectors/woocommerce_tracking.py reads.
	 *
	 * @param object $order The WC_Order.
	 * @return array{version: int, shipments: array, delivered_at: string|null}
	 */
	public static function facts( $order ) {
		$delivered_at = self::iso( $order->get_meta( self::DELIVERED_META ) );
		if ( null === $delivered_at && method_exists( $order, 'has_status' ) && $order->has_status( 'delivered' ) ) {
			$modified     = $order->get_date_modified();
			$delivered_at = $modified ? self::iso( $modified->getTimestamp() ) : null;
		}
		return array(
			'version'      => 1,
			'shipments'    => self::shipments( $order ),
			'delivered_at' => $delivered_at,
		);
	}
}
