<?php
// php -S router: real files as they are, everything else to WordPress's index.php (pretty permalinks).
$path = parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH );
if ( '/' !== $path && file_exists( $_SERVER['DOCUMENT_ROOT'] . $path ) && ! is_dir( $_SERVER['DOCUMENT_ROOT'] . $path ) ) {
	return false;
}
if ( is_dir( $_SERVER['DOCUMENT_ROOT'] . $path ) && file_exists( rtrim( $_SERVER['DOCUMENT_ROOT'] . $path, '/' ) . '/index.php' ) ) {
	return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
