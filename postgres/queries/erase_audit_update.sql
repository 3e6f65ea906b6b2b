UPDATE audit_log SET detail = $2 WHERE id = $1
