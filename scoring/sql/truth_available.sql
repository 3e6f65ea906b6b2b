SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'synthetic_propensity'
