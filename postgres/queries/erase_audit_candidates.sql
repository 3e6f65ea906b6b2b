-- Audit lines whose detail mentions an identifier ($1: ILIKE patterns).
SELECT id, detail FROM audit_log WHERE detail::text ILIKE ANY($1) ORDER BY id
