SELECT id FROM users WHERE username = $1
