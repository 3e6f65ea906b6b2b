-- Companies as of @to_day: organisations of kind company (latest version,
-- not deleted), those with a partnership whose latest stage before @to_day
-- is active, and those with an interaction in [@from, @to) (of @office,
-- '' all). Interactions are read within 31 days either side of the period
-- (the table's monthly partitions): one moved by more than that across the
-- period's edge may count at its older date. Partnerships' changes come from
-- the newest rollup refresh (rollup_org_changes.sql), every version.
SELECT
    (SELECT count() FROM (SELECT id, argMax(kind, version) AS kind, argMax(deleted, version) AS deleted
                          FROM dim_organisations GROUP BY id) WHERE deleted = 0 AND kind = 'company') AS companies,
    (SELECT uniqExact(org) FROM
        (SELECT aggregate_id, argMax(organisation_id, version) AS org, argMax(stage, version) AS last_stage,
                argMax(type, version) AS last_type
         FROM rollup_org_changes
         WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)
           AND aggregate = 'partnership' AND event_time < toDateTime(toDate(@to_day))
         GROUP BY aggregate_id)
     WHERE last_stage = 'active' AND last_type != 'partnership.deleted' AND org IN
        (SELECT id FROM (SELECT id, argMax(kind, version) AS kind, argMax(deleted, version) AS deleted
                         FROM dim_organisations GROUP BY id) WHERE deleted = 0 AND kind = 'company')) AS active_partners,
    (SELECT uniqExact(organisation_id) FROM
        (SELECT id, argMax(organisation_id, version) AS organisation_id, argMax(occurred_at, version) AS occurred,
                argMax(office, version) AS office, argMax(deleted, version) AS deleted
         FROM fact_interactions
         WHERE occurred_at >= toDateTime(@from) - 2678400 AND occurred_at < toDateTime(@to) + 2678400
         GROUP BY id)
     WHERE deleted = 0 AND organisation_id > 0 AND occurred >= toDateTime(@from) AND occurred < toDateTime(@to)
       AND (@office = '' OR office = @office)
       AND organisation_id IN
        (SELECT id FROM (SELECT id, argMax(kind, version) AS kind, argMax(deleted, version) AS deleted
                         FROM dim_organisations GROUP BY id) WHERE deleted = 0 AND kind = 'company')) AS contacted
