"""Partners: onboarding and contracts, Ed25519 API keys, RFC 9421 request signatures, the
partner operations over GraphQL (partners/gql), and the SDK partners use (partners/client.py)."""
