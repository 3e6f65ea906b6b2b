-- What identifies the people $1 in text, and whether it does so on its own
-- (strong: email addresses, phone numbers, full names) or only next to the
-- person's id (weak: a first or last name alone, which other people share).
SELECT v, bool_or(strong) FROM (
    SELECT first_name AS v, false AS strong FROM people WHERE id = ANY($1)
    UNION ALL SELECT last_name, false FROM people WHERE id = ANY($1)
    UNION ALL SELECT first_name_ascii, false FROM people WHERE id = ANY($1)
    UNION ALL SELECT last_name_ascii, false FROM people WHERE id = ANY($1)
    UNION ALL SELECT first_name || ' ' || last_name, true FROM people WHERE id = ANY($1) AND first_name <> '' AND last_name <> ''
    UNION ALL SELECT last_name || ' ' || first_name, true FROM people WHERE id = ANY($1) AND first_name <> '' AND last_name <> ''
    UNION ALL SELECT first_name_ascii || ' ' || last_name_ascii, true FROM people WHERE id = ANY($1) AND first_name_ascii <> '' AND last_name_ascii <> ''
    UNION ALL SELECT address, true FROM person_emails WHERE person_id = ANY($1)
    UNION ALL SELECT address_norm, true FROM person_emails WHERE person_id = ANY($1)
    UNION ALL SELECT number, true FROM person_phones WHERE person_id = ANY($1)
    UNION ALL SELECT number_norm, true FROM person_phones WHERE person_id = ANY($1) AND length(number_norm) >= 6
) s
WHERE length(btrim(v)) >= 2
GROUP BY v
