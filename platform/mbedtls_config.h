/* tracklight's mbedTLS 3.6 configuration (MBEDTLS_CONFIG_FILE): everything not named here is off.
 *
 * What the agent needs, and why:
 *   - TLS 1.3 and 1.2, client (Test, monitor, board) and server (the page over HTTPS).
 *   - ECDHE over x25519, secp256r1 and secp384r1; RSA (PKCS#1 v1.5 and PSS, which TLS 1.3 uses
 *     with RSA certificates) and ECDSA signatures: what public trackers and private CAs present.
 *   - AES-GCM and ChaCha20-Poly1305, the AEADs of both versions; AES-GCM also seals the
 *     stored secrets.
 *   - SHA-256/384/512; SHA-1 because dozens of roots in the system CA bundle are self-signed
 *     with SHA-1 and would otherwise be dropped from the trust store (the X.509 profile still
 *     refuses SHA-1 signatures on the chains it verifies).
 *   - HMAC, HKDF, PBKDF2 (admin password), PEM and base64, X.509 parse, verify and write (the
 *     device certificate), key generation (device key, sign-in keys).
 *   - The PSA core that TLS 1.3 runs on, thread-safe: Tests, the monitor and the board poller
 *     run TLS on different threads.
 * Off on purpose: self-tests and test certificates, debug strings, DES, Camellia, ARIA,
 * Blowfish, RIPEMD, CCM, DHM, CBC suites, static-RSA key exchange, PSK, DTLS, renegotiation,
 * session tickets and caches, CRL/CSR parsing, PKCS#7/#12, LMS, the file-based PSA key store,
 * mbedTLS's own sockets and timing (platform/ has its own). */
#ifndef TRACKLIGHT_MBEDTLS_CONFIG_H
#define TRACKLIGHT_MBEDTLS_CONFIG_H

/* System support */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE /* certificate validity */
#define MBEDTLS_FS_IO          /* the system CA bundle */
#define MBEDTLS_DEPRECATED_REMOVED
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* Big numbers, elliptic curves, signatures */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C

/* Ciphers and hashes */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_AESCE_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_PKCS5_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ENTROPY_C /* the PSA core's RNG; on Linux its source is getrandom() */

/* Encodings */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* X.509 */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
/* mbedTLS offers the RSA-PSS signature schemes only with this: TLS 1.3 servers with RSA
 * certificates sign with rsa_pss_rsae_*, so without it they refuse us ("no suitable signature
 * algorithm"). */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* PSA: the TLS 1.3 key schedule and handshake crypto */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC

/* TLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE /* middleboxes that drop "unknown" TLS 1.3 */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* Records from a peer can be 16 KiB. The outgoing side stays at 16 KiB too: the page over
 * HTTPS (server) sends its assets in full records. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 16384

#endif /* TRACKLIGHT_MBEDTLS_CONFIG_H */
