-- Sends stay (campaign statistics) without the address they went to.
UPDATE campaign_sends SET address = '', version = version + 1, updated_at = now()
 WHERE person_id = ANY($1)
