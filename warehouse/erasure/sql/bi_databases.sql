SELECT database FROM system.tables WHERE name = 'source' AND engine = 'View' AND database != currentDatabase()
