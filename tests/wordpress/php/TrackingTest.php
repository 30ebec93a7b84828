<?php
/**
 * The `ppe_tracking` field on an order's REST answer (so on its webhook) and AST's delivered mark
 * (PPE_Rewards_Tracking); its shape is what tests/connectors/test_woocommerce_tracking.py parses.
 */

if ( ! class_exists( 'WC_Shipment_Tracking_Actions' ) ) {
	/**
	 * A stand-in for WooCommerce Shipment Tracking's formatter (get_formatted_tracking_item builds a predefined
	 * provider's name and link from its provider table; https://woocommerce.com/document/shipment-tracking/).
	 */
	final class WC_Shipment_Tracking_Actions {
		public static $links = array();

		public static function get_instance() {
			return new self();
		}

		public function get_formatted_tracking_item( $order_id, $item ) {
			if ( 'explode' === $item['tracking_provider'] ) {
				throw new RuntimeException( 'a broken tracking plugin' );
			}
			if ( ! isset( self::$links[ $item['tracking_provider'] ] ) ) {
				return array( 'formatted_tracking_provider' => $item['custom_tracking_provider'], 'formatted_tracking_link' => $item['custom_tracking_link'] );
			}
			list( $name, $link ) = self::$links[ $item['tracking_provider'] ];
			return array( 'formatted_tracking_provider' => $name, 'formatted_tracking_link' => sprintf( $link, $item['tracking_number'] ) );
		}
	}
}

final class TrackingTest extends PPE_Test_Case {

	private function items() {
		// As Shipment Tracking and AST keep them (order meta _wc_shipment_tracking_items).
		return array(
			array( 'tracking_provider' => 'usps', 'custom_tracking_provider' => '', 'custom_tracking_link' => '', 'tracking_number' => '9400111899560000000000', 'date_shipped' => '1490400000', 'tracking_id' => '5bb11cdb' ),
			array( 'tracking_provider' => '', 'custom_tracking_provider' => 'Speedy <b>Couriers</b>', 'custom_tracking_link' => 'https://track.speedy.example/?n=%1$s', 'tracking_number' => 'SC 1234', 'date_shipped' => '', 'tracking_id' => '8c2aa5b3' ),
			array( 'tracking_provider' => 'evil', 'custom_tracking_provider' => 'X', 'custom_tracking_link' => 'javascript:alert(1)', 'tracking_number' => 'X1', 'date_shipped' => 'soon', 'tracking_id' => 'x' ),
			array( 'tracking_provider' => 'usps', 'tracking_number' => '' ),
			'not an item',
		);
	}

	public function test_shipment_tracking_items_with_the_providers_links() {
		WC_Shipment_Tracking_Actions::$links = array( 'usps' => array( 'USPS', 'https://tools.usps.com/go/TrackConfirmAction?tLabels=%s' ) );
		$order                               = new PPE_Test_WC_Order( 40, 0 );
		$order->meta['_wc_shipment_tracking_items'] = $this->items();
		$order->meta['shipment_status']             = array( 0 => array( 'status' => 'delivered', 'status_date' => '2017-03-28' ) );
		$facts = PPE_Rewards_Tracking::facts( $order );
		$this->assertSame( 1, $facts['version'] );
		$this->assertNull( $facts['delivered_at'] );
		$this->assertSame(
			array(
				array( 'id' => '5bb11cdb', 'carrier' => 'USPS', 'number' => '9400111899560000000000', 'url' => 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899560000000000', 'shipped_at' => '2017-03-25T00:00:00+00:00', 'status' => 'delivered', 'source' => 'shipment-tracking' ),
				array( 'id' => '8c2aa5b3', 'carrier' => 'Speedy Couriers', 'number' => 'SC 1234', 'url' => 'https://track.speedy.example/?n=SC%201234', 'shipped_at' => null, 'status' => null, 'source' => 'shipment-tracking' ),
				array( 'id' => 'x', 'carrier' => 'X', 'number' => 'X1', 'url' => '', 'shipped_at' => null, 'status' => null, 'source' => 'shipment-tracking' ),
			),
			$facts['shipments']
		);
	}

	public function test_a_broken_tracking_plugin_leaves_the_raw_meta() {
		$order = new PPE_Test_WC_Order( 41, 0 );
		$order->meta['_wc_shipment_tracking_items'] = array(
			array( 'tracking_provider' => 'explode', 'custom_tracking_provider' => '', 'custom_tracking_link' => '', 'tracking_number' => 'Z9', 'date_shipped' => '1490400000', 'tracking_id' => 'z' ),
		);
		$this->assertSame( 'explode', PPE_Rewards_Tracking::facts( $order )['shipments'][0]['carrier'] );
	}

	public function test_yith_order_tracking_when_there_is_no_shipment_tracking() {
		$order = new PPE_Test_WC_Order( 42, 0 );
		$order->meta['ywot_tracking_code'] = 'RR123456785PL';
		$order->meta['ywot_carrier_name']  = 'Poczta Polska';
		$order->meta['ywot_pick_up_date']  = '2017-03-24';
		$this->assertSame(
			array( array( 'id' => 'ywot', 'carrier' => 'Poczta Polska', 'number' => 'RR123456785PL', 'url' => '', 'shipped_at' => '2017-03-24T00:00:00+00:00', 'status' => null, 'source' => 'yith-order-tracking' ) ),
			PPE_Rewards_Tracking::facts( $order )['shipments']
		);
	}

	public function test_the_delivered_status_is_marked_once_and_dated_by_the_mark() {
		$order           = new PPE_Test_WC_Order( 43, 0 );
		$order->status   = 'delivered';
		$order->modified = 1490800000;
		$this->assertSame( gmdate( 'c', 1490800000 ), PPE_Rewards_Tracking::facts( $order )['delivered_at'] ); // no mark yet: the change's time
		$GLOBALS['ppe_test_orders'][43] = $order;
		do_action( 'woocommerce_order_status_delivered', 43, $order );
		$mark = $order->meta['_ppe_delivered_at'];
		$this->assertEqualsWithDelta( time(), (int) $mark, 5 );
		$this->assertSame( 1, $order->meta_saves );
		PPE_Rewards_Tracking::mark_delivered( 43 ); // set again (a re-save): the first moment stays
		$this->assertSame( $mark, $order->meta['_ppe_delivered_at'] );
		$this->assertSame( 1, $order->meta_saves );
		$order->modified = 1490900000;
		$this->assertSame( gmdate( 'c', (int) $mark ), PPE_Rewards_Tracking::facts( $order )['delivered_at'] );
	}

	public function test_the_field_is_added_to_the_orders_rest_answer() {
		$order                             = new PPE_Test_WC_Order( 44, 0 );
		$order->meta['ywot_tracking_code'] = 'RR1';
		$response = apply_filters( 'woocommerce_rest_prepare_shop_order_object', new WP_REST_Response( array( 'id' => 44, 'status' => 'completed' ) ), $order, new WP_REST_Request() );
		$data     = $response->get_data();
		$this->assertSame( 44, $data['id'] );
		$this->assertSame( 'RR1', $data['ppe_tracking']['shipments'][0]['number'] );
		$this->assertSame( wp_json_encode( $data['ppe_tracking'] ), wp_json_encode( json_decode( wp_json_encode( $data['ppe_tracking'] ), true ) ) );
		$this->assertSame( 'x', apply_filters( 'woocommerce_rest_prepare_shop_order_object', 'x', $order, null ) ); // not ours to touch
	}
}
