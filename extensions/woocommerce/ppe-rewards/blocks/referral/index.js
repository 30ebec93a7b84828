/**
 * The block in the editor: a server-side preview (the link is rendered by PHP, PPE_Rewards_Storefront).
 * Plain script, no build step: the WordPress globals listed in index.asset.php.
 */
( function ( blocks, element, ServerSideRender ) {
	blocks.registerBlockType( 'ppe-rewards/referral', {
		edit: function ( props ) {
			return element.createElement( ServerSideRender, {
				block: 'ppe-rewards/referral',
				attributes: props.attributes,
			} );
		},
		save: function () {
			return null;
		},
	} );
} )( window.wp.blocks, window.wp.element, window.wp.serverSideRender );
