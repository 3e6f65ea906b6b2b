-- Companies as of @to_day: organisations of kind company (latest version,
-- not deleted), those with a partnership whose latest stage before @to_day
-- is active, and those with an interaction in [@from, @to) (of @office,
-- '' all).
SELECT
    (SELECT count() FROM (SELECT id, argMax(kind, version) AS kind, argMax(deleted, version) AS deleted
                          FROM dim_organisations GROUP BY id) WHERE deleted = 0 AND kind = 'company') AS companies,
    (SELECT uniqExact(organisation_id) FROM
        (SELECT aggregate_id, argMax(visitParamExtractInt(payload, 'organisation_id'), version) AS organisation_id,
                argMax(visitParamExtractString(payload, 'stage'), version) AS stage, argMax(type, version) AS last_type
         FROM change_log
         WHERE aggregate = 'partnership' AND event_time < toDateTime(toDate(@to_day))
         GROUP BY aggregate_id)
     WHERE stage = 'active' AND last_type != 'partnership.deleted' AND organisation_id IN
        (SELECT id FROM (SELECT id, argMax(kind, version) AS kind, argMax(deleted, version) AS deleted
                         FROM dim_organisations GROUP BY id) WHERE deleted = 0 AND kind = 'company')) AS active_partners,
    (SELECT uniqExact(organisation_id) FROM
        (SELECT id, argMax(organisation_id, version) AS organisation_id, argMax(occurred_at, version) AS occurred_at,
                argMax(office, version) AS office, argMax(deleted, version) AS deleted
         FROM fact_interactions GROUP BY id)
     WHERE deleted = 0 AND organisation_id > 0 AND occurred_at >= toDateTime(@from) AND occurred_at < toDateTime(@to)
       AND (@office = '' OR office = @office)
       AND organisation_id IN
        (SELECT id FROM (SELECT id, argMax(kind, version) AS kind, argMax(deleted, version) AS deleted
                         FROM dim_organisations GROUP BY id) WHERE deleted = 0 AND kind = 'company')) AS contacted
