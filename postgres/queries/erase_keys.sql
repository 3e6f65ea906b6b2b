-- Crypto-shredding: the data keys of the erased people. Whatever was sealed
-- with them, in Kafka or anywhere else, can no longer be opened.
DELETE FROM person_keys WHERE person_id = ANY($1)
