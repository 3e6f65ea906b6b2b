-- Source keys (issue 14): the identifier a record has in the system it was
-- migrated from (a student number, the old CRM's donor id, an event code such
-- as EV0009), with the name of that system. source_id is unique per source,
-- so a re-import finds its own records by it before email or name, and
-- activity files can name their people, events, organisations and campaigns
-- by the old system's codes. One key per record: a record known to two old
-- systems keeps the first key it got (docs/import.md).
--
-- registrations and journey_stages already had source (where the record came
-- from: an app, a form, an import); it becomes the key's source.
-- The unique indexes lead with source_id so that a code can also be looked up
-- without its source (activity files name other records by code alone).

-- +goose Up
ALTER TABLE people         ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE organisations  ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE events         ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE donations      ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE interactions   ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE affiliations   ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE campaigns      ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE campaign_sends ADD COLUMN source text NOT NULL DEFAULT '', ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE registrations  ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE journey_stages ADD COLUMN source_id text NOT NULL DEFAULT '';

ALTER TABLE people         ADD CONSTRAINT people_source_key_named         CHECK (source_id = '' OR source <> '');
ALTER TABLE organisations  ADD CONSTRAINT organisations_source_key_named  CHECK (source_id = '' OR source <> '');
ALTER TABLE events         ADD CONSTRAINT events_source_key_named         CHECK (source_id = '' OR source <> '');
ALTER TABLE donations      ADD CONSTRAINT donations_source_key_named      CHECK (source_id = '' OR source <> '');
ALTER TABLE interactions   ADD CONSTRAINT interactions_source_key_named   CHECK (source_id = '' OR source <> '');
ALTER TABLE affiliations   ADD CONSTRAINT affiliations_source_key_named   CHECK (source_id = '' OR source <> '');
ALTER TABLE campaigns      ADD CONSTRAINT campaigns_source_key_named      CHECK (source_id = '' OR source <> '');
ALTER TABLE campaign_sends ADD CONSTRAINT campaign_sends_source_key_named CHECK (source_id = '' OR source <> '');
ALTER TABLE registrations  ADD CONSTRAINT registrations_source_key_named  CHECK (source_id = '' OR source <> '');
ALTER TABLE journey_stages ADD CONSTRAINT journey_stages_source_key_named CHECK (source_id = '' OR source <> '');

CREATE UNIQUE INDEX people_source_key         ON people (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX organisations_source_key  ON organisations (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX events_source_key         ON events (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX donations_source_key      ON donations (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX interactions_source_key   ON interactions (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX affiliations_source_key   ON affiliations (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX campaigns_source_key      ON campaigns (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX campaign_sends_source_key ON campaign_sends (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX registrations_source_key  ON registrations (source_id, source) WHERE source_id <> '';
CREATE UNIQUE INDEX journey_stages_source_key ON journey_stages (source_id, source) WHERE source_id <> '';

-- +goose Down
DROP INDEX journey_stages_source_key, registrations_source_key, campaign_sends_source_key, campaigns_source_key,
    affiliations_source_key, interactions_source_key, donations_source_key, events_source_key,
    organisations_source_key, people_source_key;
ALTER TABLE journey_stages DROP CONSTRAINT journey_stages_source_key_named, DROP COLUMN source_id;
ALTER TABLE registrations  DROP CONSTRAINT registrations_source_key_named, DROP COLUMN source_id;
ALTER TABLE campaign_sends DROP CONSTRAINT campaign_sends_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE campaigns      DROP CONSTRAINT campaigns_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE affiliations   DROP CONSTRAINT affiliations_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE interactions   DROP CONSTRAINT interactions_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE donations      DROP CONSTRAINT donations_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE events         DROP CONSTRAINT events_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE organisations  DROP CONSTRAINT organisations_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
ALTER TABLE people         DROP CONSTRAINT people_source_key_named, DROP COLUMN source, DROP COLUMN source_id;
