-- Emails sent per person in the 12 months before @as_of, and how many of
-- those a person (not a machine) opened and clicked.
SELECT person_id, sends, opens, clicks
FROM
(
    SELECT person_id, count() AS sends
    FROM
    (
        SELECT id, argMax(person_id, version) AS person_id, argMax(sent_at, version) AS sent, argMax(deleted, version) AS deleted
        FROM fact_sends
        -- a send's versions keep its sent_at: reading only the window's month
        -- partitions (a month of margin) gives the same latest versions, fast
        WHERE sent_at >= addDays(addYears(toDateTime(@as_of), -1), -31) AND sent_at < addDays(toDateTime(@as_of), 31)
        GROUP BY id
    )
    WHERE deleted = 0 AND sent >= addYears(toDateTime(@as_of), -1) AND sent < toDateTime(@as_of)
    GROUP BY person_id
)
ANY LEFT JOIN
(
    SELECT contact_id AS person_id,
           uniqExactIf(send_id, kind = 'email.open') AS opens,
           uniqExactIf(send_id, kind = 'email.click') AS clicks
    FROM tracking_events
    WHERE kind IN ('email.open', 'email.click') AND is_machine = 0 AND contact_id > 0
      AND event_time >= addYears(toDateTime(@as_of), -1) AND event_time < toDateTime(@as_of)
    GROUP BY contact_id
) USING person_id
