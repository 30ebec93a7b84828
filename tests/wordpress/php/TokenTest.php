<?php
/**
 * The customer token: the shared vectors (tests/wordpress/token_vectors.json, also checked against our Python
 * verifier by tests/wordpress/test_token_vectors.py) and the token for the logged-in customer.
 */
final class TokenTest extends PPE_Test_Case {

	public function test_mints_every_shared_vector_exactly() {
		$doc = json_decode( file_get_contents( dirname( __DIR__ ) . '/token_vectors.json' ), true );
		$this->assertGreaterThanOrEqual( 4, count( $doc['vectors'] ) );
		foreach ( $doc['vectors'] as $vector ) {
			$claims = $vector['claims'];
			$this->assertSame( $vector['token'], PPE_Rewards_Token::mint( $claims['store'], $claims['cid'], $vector['secret'], $claims['exp'] ) );
		}
	}

	public function test_the_logged_in_customer_gets_a_short_lived_token_and_nobody_else_does() {
		$this->connect_plugin();
		$this->assertSame( '', PPE_Rewards_Token::for_current_customer() );
		$id     = $this->customer();
		$claims = $this->verified_claims( PPE_Rewards_Token::for_current_customer(), self::SECRET );
		$this->assertSame( array( 'store', 'cid', 'exp' ), array_keys( $claims ) );
		$this->assertSame( self::SITE_KEY, $claims['store'] );
		$this->assertSame( (string) $id, $claims['cid'] );
		$this->assertGreaterThan( time(), $claims['exp'] );
		$this->assertLessThanOrEqual( time() + 900, $claims['exp'] );
	}

	public function test_no_token_before_connecting() {
		$this->customer();
		$this->assertSame( '', PPE_Rewards_Token::for_current_customer() );
	}
}
