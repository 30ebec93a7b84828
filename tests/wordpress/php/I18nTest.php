<?php
/**
 * The Polish translation, as built into the zip (.po compiled to .mo), with its three plural forms.
 */
final class I18nTest extends PPE_Test_Case {

	protected function tearDown(): void {
		unload_textdomain( 'ppe-rewards' );
	}

	public function test_polish_strings_and_plurals() {
		$this->assertTrue( load_textdomain( 'ppe-rewards', PPE_REWARDS_DIR . '/languages/ppe-rewards-pl_PL.mo' ) );
		$this->assertSame( 'Nagrody', __( 'Rewards', 'ppe-rewards' ) );
		$forms = array();
		foreach ( array( 1, 2, 5, 22, 25 ) as $n ) {
			$forms[] = sprintf( _n( '%s point', '%s points', $n, 'ppe-rewards' ), $n );
		}
		$this->assertSame( array( '1 punkt', '2 punkty', '5 punktów', '22 punkty', '25 punktów' ), $forms );
		$this->assertSame( 'Link polecający', _x( 'Referral link', 'block title', 'ppe-rewards' ) );
	}
}
