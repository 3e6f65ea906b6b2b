-- People, their emails, phones and marketing sources; organisations, their
-- sites, and the affiliations between the two (R1.1-R1.7).
--
-- Conventions of every domain table (docs/store.md):
--   * id bigint identity; version integer for optimistic locking (R7.4), 1 on
--     insert, +1 on every update; created_at / updated_at.
--   * Text columns are NOT NULL DEFAULT '' ('' = unknown); numbers and dates
--     are NULL when unknown; arrays default to '{}'.
--   * Keys used for matching are GENERATED columns, so that the store, the
--     importer and ad-hoc SQL can never compute them differently.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- calore_name_key: the matching key of a person from the transliterated ASCII
-- names: each name lower-case with everything but [a-z0-9] removed
-- ("D'Angelo" -> "dangelo"), then "first last"; '' when either is empty, so
-- nameless rows never match each other. calore.NameKey is its Go twin, and
-- ingest/importer.NameKey computes the same key from the original names.
-- +goose StatementBegin
CREATE FUNCTION calore_name_key(first text, last text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN regexp_replace(coalesce(first, ''), '[^A-Za-z0-9]+', '', 'g') = ''
      OR regexp_replace(coalesce(last, ''), '[^A-Za-z0-9]+', '', 'g') = '' THEN ''
    ELSE lower(regexp_replace(first, '[^A-Za-z0-9]+', '', 'g')) || ' ' ||
         lower(regexp_replace(last, '[^A-Za-z0-9]+', '', 'g'))
END;
-- +goose StatementEnd

-- calore_org_key: the matching key of an organisation from its transliterated
-- ASCII legal name: like calore_name_key, then without a trailing legal form
-- (spa, srl, ltd, gmbh, ...). calore.OrganisationKey is its Go twin.
-- +goose StatementBegin
CREATE FUNCTION calore_org_key(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN btrim(regexp_replace(
    btrim(lower(regexp_replace(coalesce(name, ''), '[^A-Za-z0-9]+', ' ', 'g'))),
    '( (s p a|spa|s r l|srl|srls|s a s|sas|s n c|snc|scarl|scrl|onlus|ets|ltd|limited|plc|llc|llp|inc|corp|co|gmbh|ag|sa|sarl|bv|nv|ab|oy|as))+$', ''));
-- +goose StatementEnd

CREATE TABLE people (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text     NOT NULL CHECK (kind IN ('prospect', 'student', 'alumnus', 'faculty', 'staff', 'referent', 'journalist', 'vip', 'internal', 'other')),
    first_name       text     NOT NULL DEFAULT '',  -- as written, any script
    last_name        text     NOT NULL DEFAULT '',
    first_name_ascii text     NOT NULL DEFAULT '',  -- transliterated, accent-free ASCII (R4.3)
    last_name_ascii  text     NOT NULL DEFAULT '',
    name_key         text     NOT NULL GENERATED ALWAYS AS (calore_name_key(first_name_ascii, last_name_ascii)) STORED,
    birth_date       date,
    is_minor         boolean  NOT NULL DEFAULT false,
    language         text     NOT NULL DEFAULT '',  -- ISO 639-1, e.g. "it"
    nationality      text     NOT NULL DEFAULT '',  -- ISO 3166-1 alpha-2
    country          text     NOT NULL DEFAULT '',  -- ISO 3166-1 alpha-2
    region           text     NOT NULL DEFAULT '',
    province         text     NOT NULL DEFAULT '',
    city             text     NOT NULL DEFAULT '',
    graduation_year  integer  CHECK (graduation_year BETWEEN 1863 AND 2200),
    degree_course    text     NOT NULL DEFAULT '',
    macro_category   text     NOT NULL DEFAULT '',  -- engineering, architecture, design, ...
    top_category     text     NOT NULL DEFAULT '' CHECK (top_category IN ('', 'prestige', 'economic', 'visibility')),
    relevance        integer  CHECK (relevance BETWEEN 1 AND 5),
    competences      text[]   NOT NULL DEFAULT '{}', -- faculty experts
    tags             text[]   NOT NULL DEFAULT '{}',
    offices          text[]   NOT NULL DEFAULT '{}', -- owning offices, e.g. {alumni,career}
    extra            jsonb    NOT NULL DEFAULT '{}', -- configurable extra fields (R1.1)
    status           text     NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'duplicate')),
    merged_into      bigint   REFERENCES people (id),
    version          integer  NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'duplicate') = (merged_into IS NOT NULL))
);
CREATE INDEX people_name_key ON people (name_key) WHERE name_key <> '';
CREATE INDEX people_name_key_trgm ON people USING gin (name_key gin_trgm_ops);
CREATE INDEX people_merged_into ON people (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX people_tags ON people USING gin (tags);

CREATE TABLE person_emails (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    type              text   NOT NULL CHECK (type IN ('institutional', 'personal', 'secondary')),
    address           text   NOT NULL CHECK (address <> ''),
    address_norm      text   NOT NULL GENERATED ALWAYS AS (lower(btrim(address))) STORED,
    last_confirmed_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
-- one address belongs to one person: the importer matches on it (R4.2)
CREATE UNIQUE INDEX person_emails_address_norm ON person_emails (address_norm);
CREATE INDEX person_emails_person ON person_emails (person_id);

-- The preferred address of each person (R1.2): the most recently confirmed;
-- never-confirmed addresses come after confirmed ones; ties go to the
-- address added first. calore.PreferredEmail applies the same rule in Go.
CREATE VIEW person_preferred_email AS
SELECT DISTINCT ON (person_id)
       person_id, id AS email_id, type, address, address_norm, last_confirmed_at
  FROM person_emails
 ORDER BY person_id, last_confirmed_at DESC NULLS LAST, id;

CREATE TABLE person_phones (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    type        text   NOT NULL CHECK (type IN ('mobile', 'landline', 'work')),
    number      text   NOT NULL CHECK (number <> ''),
    number_norm text   NOT NULL GENERATED ALWAYS AS (regexp_replace(number, '[^0-9+]', '', 'g')) STORED,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_phones_person ON person_phones (person_id);
CREATE INDEX person_phones_number_norm ON person_phones (number_norm);

-- Marketing sources (R1.7): each portal, form or file its own source; several
-- per person, each kept with when it first brought the person in.
CREATE TABLE person_sources (
    person_id     bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    source        text   NOT NULL CHECK (source <> ''),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, source)
);
CREATE INDEX person_sources_source ON person_sources (source);

CREATE TABLE organisations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               text    NOT NULL CHECK (kind IN ('company', 'public_body', 'research_body', 'foundation', 'spin_off', 'start_up', 'association', 'other')),
    legal_name         text    NOT NULL CHECK (legal_name <> ''),
    legal_name_ascii   text    NOT NULL DEFAULT '',
    name_key           text    NOT NULL GENERATED ALWAYS AS (calore_org_key(legal_name_ascii)) STORED,
    vat_number         text    NOT NULL DEFAULT '',
    vat_norm           text    NOT NULL GENERATED ALWAYS AS (upper(regexp_replace(vat_number, '[^A-Za-z0-9]', '', 'g'))) STORED,
    tax_code           text    NOT NULL DEFAULT '',
    ateco_codes        text[]  NOT NULL DEFAULT '{}',
    sdgs               integer[] NOT NULL DEFAULT '{}', -- UN goals 1-17
    disciplines        text[]  NOT NULL DEFAULT '{}',
    legal_status       text    NOT NULL DEFAULT '',
    size_class         text    NOT NULL DEFAULT '' CHECK (size_class IN ('', 'micro', 'small', 'medium', 'large')),
    revenue            numeric(18, 2),                  -- EUR, last known
    revenue_year       integer,
    territory          text    NOT NULL DEFAULT '',
    country            text    NOT NULL DEFAULT '',
    region             text    NOT NULL DEFAULT '',
    province           text    NOT NULL DEFAULT '',
    city               text    NOT NULL DEFAULT '',
    parent_id          bigint  REFERENCES organisations (id), -- divisions / business units
    account_manager_id bigint,                               -- back-office user (FK added with the users table)
    functional_area    text    NOT NULL DEFAULT '' CHECK (functional_area IN ('', 'research', 'placement', 'both')),
    labels             text[]  NOT NULL DEFAULT '{}',       -- free labels: "PNRR partner", "strategic"
    extra              jsonb   NOT NULL DEFAULT '{}',
    status             text    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'duplicate')),
    merged_into        bigint  REFERENCES organisations (id),
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'duplicate') = (merged_into IS NOT NULL))
);
CREATE INDEX organisations_name_key ON organisations (name_key);
CREATE INDEX organisations_name_key_trgm ON organisations USING gin (name_key gin_trgm_ops);
CREATE INDEX organisations_vat_norm ON organisations (vat_norm) WHERE vat_norm <> '';
CREATE INDEX organisations_parent ON organisations (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE organisation_sites (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind            text   NOT NULL CHECK (kind IN ('legal', 'operating')),
    street          text   NOT NULL DEFAULT '',
    postcode        text   NOT NULL DEFAULT '',
    city            text   NOT NULL DEFAULT '',
    province        text   NOT NULL DEFAULT '',
    region          text   NOT NULL DEFAULT '',
    country         text   NOT NULL DEFAULT ''
);
CREATE INDEX organisation_sites_organisation ON organisation_sites (organisation_id);

-- A person's role at an organisation (R1.3 employers, R1.6 referents), with
-- history: a past role has an end_date, the current one none.
CREATE TABLE affiliations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id       bigint  NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    organisation_id bigint  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    role            text    NOT NULL DEFAULT '',
    department      text    NOT NULL DEFAULT '',
    is_referent     boolean NOT NULL DEFAULT false,
    start_date      date,
    end_date        date,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX affiliations_person ON affiliations (person_id);
CREATE INDEX affiliations_organisation ON affiliations (organisation_id);

-- +goose Down
DROP TABLE affiliations;
DROP TABLE organisation_sites;
DROP TABLE organisations;
DROP TABLE person_sources;
DROP TABLE person_phones;
DROP VIEW person_preferred_email;
DROP TABLE person_emails;
DROP TABLE people;
DROP FUNCTION calore_org_key(text);
DROP FUNCTION calore_name_key(text, text);
